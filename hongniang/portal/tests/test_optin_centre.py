"""Double opt-in in the member centre (issue 13): a yes brings the other member a masked card;
only when both said yes do names and photos appear to each — every reveal logged, contact
details never; avatars through a view that checks who asks; the matchmakers see the state."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from hongniang.matching import optin
from hongniang.matching.models import (
    EngineChange,
    EngineChangeKind,
    IntroductionRequest,
    OptIn,
    OptInState,
    Recommendation,
)
from hongniang.members import choices as c
from hongniang.members.models import MemberPhoto
from hongniang.members.tests.helpers import resident_id
from hongniang.portal import centre_services
from hongniang.portal.centre_selectors import peer_photo_url, ref
from hongniang.portal.models import Reveal, RevealKind, Suggestion
from hongniang.siteconfig.models import SiteSettings

from .conftest import give_account
from .test_centre import _recommend, log_in, zh

pytestmark = pytest.mark.django_db


def _photo(member, *, approved=True, avatar=False) -> MemberPhoto:
    buffer = BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buffer, "PNG")
    photo = MemberPhoto(
        member=member, is_avatar=avatar, status="approved" if approved else "pending"
    )
    photo.image.save("face.png", SimpleUploadedFile("face.png", buffer.getvalue()))
    photo.save()
    return photo


def _pair(a, b) -> OptIn:
    return OptIn.objects.get(low_id=min(a.pk, b.pk), high_id=max(a.pk, b.pk))


@pytest.fixture
def him(world):
    man = world["men"][0]
    give_account(man)
    return man


def _she_says_yes(client, world, him):
    rec = _recommend(world, him)
    log_in(client)
    client.post(reverse("portal:answer", args=["rec", ref("rec", rec.pk)]), {"answer": "yes"})
    client.post(reverse("portal:logout"))
    return rec


def test_a_yes_brings_the_other_member_a_masked_card_and_a_yes_back_reveals(client, world, him):
    her = world["member"]
    avatar = _photo(her, avatar=True)
    other_photo = _photo(her)
    _she_says_yes(client, world, him)
    pair = _pair(her, him)
    assert pair.state == OptInState.OPEN and pair.waits_for(him.pk)

    log_in(client, "mkuser0")
    html = client.get(reverse("portal:recommendations")).content.decode()
    assert f'id="pair-{ref("pair", pair.pk)}"' in html
    assert "红娘为您推荐" in html  # the first yes answered a matchmaker's recommendation
    assert (
        "王小芳" not in html and "王" not in html.split('id="incoming"')[1].split("</section>")[0]
    )
    # The approved avatar is on the masked card; no other photo.
    assert peer_photo_url(him.pk, her.pk, avatar.pk) in html
    assert peer_photo_url(him.pk, her.pk, other_photo.pk) not in html
    masked = client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode()
    assert "王小芳" not in masked and not Reveal.objects.exists()

    response = client.post(
        reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), {"answer": "yes"}, follow=True
    )
    page = response.content.decode()
    assert zh("Next step") in page and "王小芳" in page
    assert peer_photo_url(him.pk, her.pk, other_photo.pk) in page
    assert "13912345678" not in page  # her mobile, never
    pair.refresh_from_db()
    assert pair.revealed and pair.introduction.status == "open"
    reveal = Reveal.objects.get()
    assert (reveal.viewer, reveal.shown, reveal.kind) == (him, her, RevealKind.CARD)
    # His yes reached the engine as his feedback about her.
    change = EngineChange.objects.filter(kind=EngineChangeKind.FEEDBACK, member_id=him.pk).get()
    assert change.other_id == her.pk and change.data["liked"] is True
    # A revealed photo is served and logged.
    got = client.get(peer_photo_url(him.pk, her.pk, other_photo.pk))
    assert got.status_code == 200 and got["Cache-Control"].startswith("private")
    assert Reveal.objects.filter(kind=RevealKind.PHOTO, photo_id=other_photo.pk).count() == 1

    # She sees him revealed too (the name the agency reveals: full by default).
    client.post(reverse("portal:logout"))
    log_in(client)
    listing = client.get(reverse("portal:recommendations")).content.decode()
    assert 'id="mutual"' in listing and him.name not in listing  # the list stays masked
    revealed = client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode()
    assert him.name in revealed
    identity = resident_id(date(1990, 1, 10), c.Sex.MALE, seq=60)  # as the world fixture made it
    for secret in ("13811112220", identity, "mkwx0", "73918400", "mk0@marker", "MARKADDR"):
        assert secret not in revealed
    assert Reveal.objects.filter(viewer=her, shown=him).count() == 1


def test_the_agency_chooses_the_revealed_name(client, world, him):
    site = SiteSettings.load()
    site.reveal_name = "surname"
    site.save()
    _she_says_yes(client, world, him)
    pair = _pair(world["member"], him)
    log_in(client, "mkuser0")
    client.post(reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), {"answer": "yes"})
    html = client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode()
    assert "王女士" in html and "王小芳" not in html and "小芳" not in html


def test_a_no_tells_the_first_only_not_this_time(client, world, him):
    her = world["member"]
    _she_says_yes(client, world, him)
    pair = _pair(her, him)
    log_in(client, "mkuser0")
    client.post(
        reverse("portal:pair_answer", args=[ref("pair", pair.pk)]),
        {"answer": "no", "reasons": ["too_far", "appearance"]},
    )
    pair.refresh_from_db()
    assert pair.state == OptInState.DECLINED
    change = EngineChange.objects.filter(kind=EngineChangeKind.FEEDBACK, member_id=him.pk).get()
    assert change.data == {"liked": False, "reasons": ["too_far", "appearance"]}
    # Answering again is refused, nothing changes.
    again = client.post(
        reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), {"answer": "yes"}, follow=True
    )
    assert zh("This card no longer waits for your answer.") in again.content.decode()
    client.post(reverse("portal:logout"))
    log_in(client)
    html = client.get(reverse("portal:recommendations")).content.decode()
    assert zh("not this time") in html
    page = client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode()
    assert zh("Not this time. We will keep suggesting others.") in page
    for reason in (zh("Lives too far away"), zh("Appearance")):
        assert reason not in page


def test_a_suggestion_yes_brings_a_masked_card_from_a_member(client, world, him):
    her = world["member"]
    sug = Suggestion.objects.create(member=her, candidate=him, day=timezone.localdate(), rank=1)
    log_in(client)
    client.post(reverse("portal:answer", args=["sug", ref("sug", sug.pk)]), {"answer": "yes"})
    client.post(reverse("portal:logout"))
    log_in(client, "mkuser0")
    html = client.get(reverse("portal:recommendations")).content.decode()
    assert "有会员对您感兴趣" in html


def test_withdrawing_hides_the_reveal_again(client, world, him):
    her = world["member"]
    _she_says_yes(client, world, him)
    pair = _pair(her, him)
    log_in(client, "mkuser0")
    client.post(reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), {"answer": "yes"})
    photo = _photo(her)
    url = peer_photo_url(him.pk, her.pk, photo.pk)
    assert client.get(url).status_code == 200
    client.post(reverse("portal:pair_withdraw", args=[ref("pair", pair.pk)]))
    pair.refresh_from_db()
    assert pair.state == OptInState.DECLINED
    page = client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode()
    assert "王小芳" not in page
    assert client.get(url).status_code == 404
    assert IntroductionRequest.objects.get().status == "withdrawn"


def test_avatars_only_to_members_a_card_is_addressed_to(client, world, him, org):
    her = world["member"]
    avatar, pending = _photo(him, avatar=True), _photo(him, approved=False)
    other = _photo(him)
    log_in(client)
    # A stranger: no card of him addressed to her.
    assert client.get(peer_photo_url(her.pk, him.pk, avatar.pk)).status_code == 404
    _recommend(world, him)
    assert client.get(peer_photo_url(her.pk, him.pk, avatar.pk)).status_code == 200
    html = client.get(reverse("portal:recommendations")).content.decode()
    assert peer_photo_url(her.pk, him.pk, avatar.pk) in html
    # Never an unapproved photo; no other photo before both said yes; no guessing.
    assert client.get(peer_photo_url(her.pk, him.pk, pending.pk)).status_code == 404
    assert client.get(peer_photo_url(her.pk, him.pk, other.pk)).status_code == 404
    assert client.get(f"/m/peer/{him.pk}/photo/{avatar.pk}/").status_code == 404
    assert client.get(peer_photo_url(her.pk, world["men"][1].pk, avatar.pk)).status_code == 404
    # Another viewer's reference to him is nobody to her.
    assert client.get(peer_photo_url(world["men"][1].pk, him.pk, avatar.pk)).status_code == 404
    # The agency may switch avatars off.
    site = SiteSettings.load()
    site.peer_avatars = False
    site.save()
    assert client.get(peer_photo_url(her.pk, him.pk, avatar.pk)).status_code == 404
    assert (
        peer_photo_url(her.pk, him.pk, avatar.pk)
        not in client.get(reverse("portal:recommendations")).content.decode()
    )
    assert not Reveal.objects.exists()


def test_another_members_pair_is_not_found(client, world, him):
    third = world["men"][1]
    give_account(third)
    _she_says_yes(client, world, him)
    pair = _pair(world["member"], him)
    log_in(client, "mkuser1")
    for url, method in (
        (reverse("portal:pair", args=[ref("pair", pair.pk)]), "get"),
        (reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), "post"),
        (reverse("portal:pair_withdraw", args=[ref("pair", pair.pk)]), "post"),
        (reverse("portal:pair", args=[str(pair.pk)]), "get"),
    ):
        assert getattr(client, method)(url, {"answer": "yes"}).status_code == 404, url
    pair.refresh_from_db()
    assert pair.state == OptInState.OPEN


def test_matchmakers_see_the_state_and_reveals_and_may_end_the_pair(client, world, him, org):
    her = world["member"]
    rec = _she_says_yes(client, world, him)
    pair = _pair(her, him)
    log_in(client, "mkuser0")
    client.post(reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), {"answer": "yes"})
    client.get(reverse("portal:pair", args=[ref("pair", pair.pk)]))
    client.post(reverse("portal:logout"))

    client.force_login(org["admin"])
    library = client.get(reverse("matching:library", args=[her.pk])).content.decode()
    assert f'data-rec="{rec.pk}"' in library and 'data-optin="mutual"' in library
    intros = client.get(reverse("matching:introductions") + "?status=open").content.decode()
    assert 'data-optin="mutual"' in intros
    panel = client.get(reverse("home:member_activity", args=[her.pk])).content.decode()
    assert 'data-activity="reveals"' in panel and zh("Opened the revealed card") in panel
    end = reverse("matching:optin_end", args=[pair.pk])
    assert client.get(end).status_code == 200
    client.post(end, {"note": "约见后不合适", "next": "/matching/introductions/"})
    pair.refresh_from_db()
    assert pair.state == OptInState.ENDED and pair.end_note == "约见后不合适"
    client.logout()
    log_in(client)
    page = client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode()
    assert him.name not in page and zh("Your matchmaker has ended this introduction.") in page
    assert Recommendation.objects.get().status == "accepted"


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_recommendations_page_reads_a_fixed_number_of_queries(client, world):
    """Masked cards, mutual pairs and answers with their pair states: the same queries for one
    pair of each kind as for four (no query per card)."""
    from hongniang.matching import optin

    her, men = world["member"], world["men"]
    for man in men:
        _photo(man, avatar=True)

    def add(i):
        optin.answer(member=men[i], other=her, accepted=True)  # waiting for her: masked card
        optin.answer(member=men[4 + i], other=her, accepted=True)
        optin.answer(member=her, other=men[4 + i], accepted=True)  # mutual

    add(0)
    log_in(client)
    url = reverse("portal:recommendations")
    client.get(url)  # the day's suggestions are stored at the first visit
    one = _queries(client, url)
    for i in (1, 2, 3):
        add(i)
    client.get(url)
    assert _queries(client, url) == one


@pytest.mark.parametrize("how", ["ended", "withdrawn", "card_no"])
def test_a_member_of_a_pair_is_not_suggested_again_as_a_new_card(client, world, him, org, how):
    # Black-box review (session 7): he answered her masked card (no suggestion row of hers), so
    # the engine's daily suggestions could bring her back to him as a fresh card — after the
    # matchmaker ended the pair, after she withdrew, or after he said no on the card (an
    # engine that does not drop his "no": an older snapshot, a reset).
    her = world["member"]
    _she_says_yes(client, world, him)
    pair = _pair(her, him)
    log_in(client, "mkuser0")
    answer = "no" if how == "card_no" else "yes"
    client.post(reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), {"answer": answer})
    if how == "ended":
        optin.end(actor=org["admin"], pair=pair, note="投诉")
    elif how == "withdrawn":
        optin.withdraw(member=her, other=him)
    assert not Suggestion.objects.filter(member=him, candidate=her).exists()
    tomorrow = timezone.localdate() + timedelta(days=1)
    for day in (tomorrow, tomorrow + timedelta(days=1)):
        centre_services.suggestions_ensure(him, day=day)
    assert not Suggestion.objects.filter(member=him, candidate=her).exists()
    assert her.pk in centre_services._not_again(him)
