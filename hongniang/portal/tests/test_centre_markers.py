"""The marker test of the member centre (issue 13): other members' private fields hold marker
strings; every member-centre page (each URL pattern under /m/, with every id in play) and the
page after every action is rendered, and no marker — nor the other members' surname, nor an
unapproved photo — ever reaches the member."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, reverse
from django.utils import timezone
from PIL import Image

from hongniang.matching.models import Appointment, AppointmentStatus, IntroductionRequest
from hongniang.members.models import MemberPhoto
from hongniang.messaging.models import Message
from hongniang.portal import urls as portal_urls
from hongniang.portal.centre_selectors import peer_ref, ref
from hongniang.portal.models import Suggestion

from .test_centre import _recommend, log_in

pytestmark = pytest.mark.django_db

NO_GET = {
    "logout",
    "impersonation_end",
    "answer",
    "introduce",
    "appointment_feedback",
    "site_visibility",
}
# Pages outside the centre's reach of other members (login, reset) are rendered anyway.


def _photo(member) -> MemberPhoto:
    buffer = BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, "PNG")
    photo = MemberPhoto(member=member)
    photo.image.save("secretface.png", SimpleUploadedFile("secretface.png", buffer.getvalue()))
    photo.save()
    return photo


def _markers(world) -> list[str]:
    out = []
    for man in world["men"]:
        number = "".join(ch for ch in man.username if ch.isdigit())
        out += [
            man.name,
            f"{man.name[0]}**",
            man.username,
            man.email,
            man.wechat,
            man.qq,
            "MARKADDR",
            f"1381111222{number}",
        ]
    return out


def test_no_private_field_of_another_member_reaches_any_centre_page(client, world):
    men = world["men"]
    photos = [_photo(m) for m in men]  # pending review: never shown
    rec = _recommend(world, men[0], reason="推荐理由")
    held = Appointment.objects.create(
        member=world["member"],
        partner=men[1],
        starts_at=timezone.now() - timedelta(days=2),
        place="天河咖啡馆",
        status=AppointmentStatus.HELD,
        arranged_by=world["after1"],
    )
    IntroductionRequest.objects.create(member=world["member"], target=men[2], message="想认识")
    Message.objects.create(
        sender_staff=world["after1"], recipient_member=world["member"], body="周末有空吗"
    )
    log_in(client)
    pages: dict[str, str] = {}

    def keep(label, response):
        assert response.status_code in (200, 302, 404), (label, response.status_code)
        pages[label] = response.content.decode()

    plain = [
        p.name
        for p in portal_urls.urlpatterns
        if isinstance(p, URLPattern)
        and str(p.pattern).startswith("m/")
        and "<" not in str(p.pattern)
    ]
    assert {"recommendations", "introductions", "appointments", "messages", "service"} <= set(plain)
    for name in plain:
        if name not in NO_GET:
            keep(name, client.get(reverse(f"portal:{name}")))
    suggestions = list(Suggestion.objects.filter(member=world["member"]))
    assert suggestions  # the engine's suggestions are on the page under test
    cards = [("rec", rec.pk)] + [("sug", s.pk) for s in suggestions]
    for kind, pk in cards:
        keep(f"card {kind} {pk}", client.get(reverse("portal:card", args=[kind, ref(kind, pk)])))
    # Every action, and the page it leads to.
    keep(
        "answer rec",
        client.post(
            reverse("portal:answer", args=["rec", ref("rec", rec.pk)]),
            {"answer": "no", "reasons": ["not_my_type"]},
            follow=True,
        ),
    )
    keep(
        "answer sug",
        client.post(
            reverse("portal:answer", args=["sug", ref("sug", suggestions[0].pk)]),
            {"answer": "yes"},
            follow=True,
        ),
    )
    for man in men[:4]:
        keep(
            f"introduce {man.pk}",
            client.post(
                reverse("portal:introduce", args=[peer_ref(world["member"].pk, man.pk)]),
                follow=True,
            ),
        )
    keep(
        "feedback",
        client.post(
            reverse("portal:appointment_feedback", args=[ref("appointment", held.pk)]),
            {"feedback": "挺好"},
            follow=True,
        ),
    )
    keep("message", client.post(reverse("portal:messages"), {"body": "好的"}, follow=True))
    keep("recommendations after", client.get(reverse("portal:recommendations")))
    assert len(pages) >= 15

    markers = _markers(world) + [p.image.name.rsplit("/", 1)[-1] for p in photos]
    markers += [f"/members/{m.pk}/" for m in men]  # no link into another member's record
    leaks = [
        (label, marker) for label, html in pages.items() for marker in markers if marker in html
    ]
    assert not leaks, leaks
    # The surname alone, anywhere in the text (the member's own name is 王小芳).
    surname = re.compile(men[0].name[0])
    assert not [label for label, html in pages.items() if surname.search(html)]


def test_no_private_field_of_another_member_reaches_the_relatives_pages(client, world):
    """Family profiles: the relative of the member (who shares their introductions) sees them
    through the same reads, never more than the member does."""
    from hongniang.family import urls as family_urls
    from hongniang.family.models import DraftState, FamilyProfile, RelativeAccount
    from hongniang.members import personal_data as pd

    men = world["men"]
    photos = [_photo(m) for m in men]
    rec = _recommend(world, men[0], reason="推荐理由")
    _recommend(world, men[3], reason="推荐理由")
    IntroductionRequest.objects.create(member=world["member"], target=men[2], message="MARKASK")
    log_in(client)
    client.post(
        reverse("portal:answer", args=["rec", rec.pk]),
        {"answer": "no", "reasons": ["not_my_type"]},
    )
    relative = RelativeAccount(
        name="王父",
        mobile_encrypted=pd.encrypt("13600009999"),
        mobile_hash=pd.lookup_hash("13600009999"),
        mobile_masked="136****9999",
    )
    relative.set_password("Parent-pass-2026")
    relative.save()
    profile = FamilyProfile.objects.create(
        relative=relative,
        member=world["member"],
        relationship="father",
        state=DraftState.APPROVED,
        share_introductions=True,
    )
    parent = type(client)()
    assert (
        parent.post(
            reverse("family:login"), {"mobile": "13600009999", "password": "Parent-pass-2026"}
        ).status_code
        == 302
    )
    pages = {}
    for p in family_urls.urlpatterns:
        route = str(p.pattern)
        if route.startswith("family/") and "<" not in route and p.name != "logout":
            pages[p.name] = parent.get(reverse(f"family:{p.name}")).content.decode()
    response = parent.get(reverse("family:introductions", args=[profile.pk]))
    assert response.status_code == 200
    pages["introductions"] = response.content.decode()
    from hongniang.portal.centre_selectors import peer

    # the open one is there, as a peer
    assert peer(world["member"].pk, men[3]).name in pages["introductions"]
    markers = _markers(world) + [p.image.name.rsplit("/", 1)[-1] for p in photos]
    markers += [f"/members/{m.pk}/" for m in men]
    # The matchmaker's reason, the request's text, the member's own reason for a no.
    markers += ["推荐理由", "MARKASK", "不是我喜欢的类型"]
    leaks = [
        (label, marker) for label, html in pages.items() for marker in markers if marker in html
    ]
    assert not leaks, leaks
    surname = re.compile(men[0].name[0])
    assert not [label for label, html in pages.items() if surname.search(html)]


def test_double_opt_in_reveals_names_and_photos_but_never_contact_details(client, world):
    """The masked card shows nothing private of the member who said yes first; after both said
    yes the name and approved photos appear, and the contact markers still never do."""
    from hongniang.matching import optin
    from hongniang.matching.models import OptIn
    from hongniang.portal.centre_selectors import peer_photo_url

    him = world["men"][0]
    avatar, photo = _photo(him), _photo(him)
    MemberPhoto.objects.filter(pk=avatar.pk).update(status="approved", is_avatar=True)
    MemberPhoto.objects.filter(pk=photo.pk).update(status="approved")
    optin.answer(member=him, other=world["member"], accepted=True, via="sug")
    pair = OptIn.objects.get()
    log_in(client)
    masked = {
        "list": client.get(reverse("portal:recommendations")).content.decode(),
        "card": client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode(),
    }
    files = [p.image.name.rsplit("/", 1)[-1] for p in (avatar, photo)]
    markers = _markers(world) + files + [f"/members/{m.pk}/" for m in world["men"]]
    leaks = [(label, m) for label, html in masked.items() for m in markers if m in html]
    assert not leaks, leaks
    assert (
        peer_photo_url(world["member"].pk, him.pk, avatar.pk) in masked["list"]
    )  # the approved avatar only
    assert peer_photo_url(world["member"].pk, him.pk, photo.pk) not in masked["card"]

    answered = client.post(
        reverse("portal:pair_answer", args=[ref("pair", pair.pk)]), {"answer": "yes"}, follow=True
    ).content.decode()
    revealed = client.get(reverse("portal:pair", args=[ref("pair", pair.pk)])).content.decode()
    for html in (answered, revealed):
        assert him.name in html and peer_photo_url(world["member"].pk, him.pk, photo.pk) in html
        contact = [m for m in _markers(world) + files if m in html]
        # Of his private fields only the name appears now.
        assert set(contact) <= {him.name}, contact


def test_after_a_mutual_yes_appointments_and_requests_name_the_partner_as_the_card_does(
    client, world
):
    """Her appointments and requests to meet name him "会员 + reference" until both said yes;
    while they are a mutual yes, by the name the revealed card shows (the agency's format), each
    showing logged; after a withdrawn yes or a matchmaker ending the pair, the reference again.
    Another man on the same pages stays a reference, and no contact marker ever appears."""
    from hongniang.matching import optin
    from hongniang.matching.models import OptIn
    from hongniang.matching.tests.conftest import MATCHING
    from hongniang.portal.centre_selectors import my_introductions
    from hongniang.portal.models import Reveal, RevealKind
    from hongniang.siteconfig.models import SiteSettings
    from hongniang.staff.tests.factories import role_with

    her, him, other = world["member"], world["men"][0], world["men"][1]
    for man in (him, other):
        IntroductionRequest.objects.create(member=her, target=man, message="想认识")
        Appointment.objects.create(
            member=her,
            partner=man,
            starts_at=timezone.now() - timedelta(days=1),
            place="茶馆",
            status=AppointmentStatus.HELD,
        )
    pages = [reverse("portal:introductions"), reverse("portal:appointments")]
    log_in(client)

    def shown() -> list[str]:
        return [client.get(url).content.decode() for url in pages]

    def check(names_him: bool, name: str = him.name):
        for html in shown():
            assert (name in html) == names_him, (name, names_him)
            assert f"会员{peer_ref(her.pk, other.pk)}" in html  # never mutual: a reference
            assert (f"会员{peer_ref(her.pk, him.pk)}" in html) != names_him
            contact = [m for m in _markers(world) if m in html]
            assert set(contact) <= ({him.name} if name == him.name and names_him else set())

    check(False)  # nobody said yes
    optin.answer(member=him, other=her, accepted=True, via="sug")
    check(False)  # he said yes: the masked card is hers to answer, the lists keep the reference
    optin.answer(member=her, other=him, accepted=True, via="card")
    before = Reveal.objects.filter(kind=RevealKind.NAME).count()
    check(True)  # both said yes: his name, as the revealed card shows it
    logged = Reveal.objects.filter(kind=RevealKind.NAME)
    assert logged.count() == before + 1  # both pages showed it: one row for the day
    assert set(logged.values_list("viewer_id", "shown_id")) == {(her.pk, him.pk)}
    check(True)
    assert logged.count() == before + 1  # shown again today: nothing new
    logged.update(created_at=timezone.now() - timedelta(days=1))
    check(True)
    assert logged.count() == before + 2  # a new day, a new row
    site = SiteSettings.load()
    site.reveal_name = "surname"
    site.save()
    check(True, name="甄先生")  # the agency's format, as on the card
    for html in shown():
        assert him.name not in html
    optin.withdraw(member=him, other=her)
    check(False, name="甄先生")
    optin.answer(member=him, other=her, accepted=True, via="card")
    check(True, name="甄先生")
    # A relative's read-only view of her requests never names him (he said yes to her).
    assert [row.revealed for row, _other in my_introductions(her)] == [False, False]
    assert all(him.name not in o.name and "甄先生" not in o.name for _r, o in my_introductions(her))
    ender = world["org"]["bb1"]
    ender.role = role_with("members.view", *MATCHING)
    ender.save()
    optin.end(actor=ender, pair=OptIn.objects.get())
    check(False, name="甄先生")
