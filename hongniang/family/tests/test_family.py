"""Family profiles (issue 13): a relative drafts a profile for an adult child; the draft is never
a candidate until the child approves it from the invitation; the child may decline (their data
deleted) and may let the relative see their introductions, read-only."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hongniang.family.models import DraftState, FamilyProfile, RelativeAccount
from hongniang.frontdesk.models import FrontDeskSettings, MemberAccount
from hongniang.matching import index
from hongniang.matching.adapter import CANDIDATE_STATES
from hongniang.matching.models import EngineChange, IntroductionRequest, Recommendation
from hongniang.matching.selectors import offerable_members, pair_problems
from hongniang.members import choices as c
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.selectors import pool_members
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Notice
from hongniang.messaging.sms import LoggingSmsBackend
from hongniang.portal import public_ids
from hongniang.portal import site_selectors as sel
from hongniang.portal.centre_selectors import peer
from hongniang.portal.tests.conftest import MEMBER_PASSWORD
from hongniang.siteconfig.models import SiteSettings

pytestmark = pytest.mark.django_db

RELATIVE_PASSWORD = "Parent-pass-2026"
CHILD_PASSWORD = "Child-own-2026"
PARENT_MOBILE = "13600001111"
CHILD_MOBILE = "13811112222"


@pytest.fixture(autouse=True)
def _setup(settings, org, regions):
    settings.SMS_BACKEND = "hongniang.messaging.sms.LoggingSmsBackend"
    LoggingSmsBackend.outbox.clear()
    front = FrontDeskSettings.load()
    front.default_store = org["store_a"]
    front.save()
    # Every open stage is offered: the draft is kept out by being a draft, nothing else.
    site = SiteSettings.load()
    site.candidate_states = [f"{stage}/{status}" for stage, status in CANDIDATE_STATES]
    site.save()
    yield
    LoggingSmsBackend.outbox.clear()


def draft_data(**extra) -> dict:
    return {
        "relative_name": "王建国",
        "relative_mobile": PARENT_MOBILE,
        "relative_password": RELATIVE_PASSWORD,
        "relationship": "father",
        "mobile": CHILD_MOBILE,
        "name": "王小明",
        "sex": c.Sex.MALE,
        "birthday": "1994-05-06",
        "region_province": "440000",
        "region_city": "440100",
        "region_county": "440106",
        "marital_status": c.MaritalStatus.SINGLE,
        "education": str(c.Education.BACHELOR),
        "height": "175",
        "id_type": "resident_id",
        "pref-age_min": "24",
        "pref-age_max": "34",
        **extra,
    }


def draft(client=None, **extra):
    client = client or Client()
    response = client.post(reverse("family:register"), draft_data(**extra))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == reverse("family:thanks")
    return response


def invitation_token() -> str:
    mobile, text = LoggingSmsBackend.outbox[-1]
    assert mobile == CHILD_MOBILE
    return re.search(r"/family/invite/([\w-]+)/", text).group(1)


def review_data(child, **extra) -> dict:
    data = {k: v for k, v in draft_data().items() if not k.startswith("relative")}
    data.pop("mobile")
    return {
        "answer": "approve",
        "username": child.username,
        "password": CHILD_PASSWORD,
        **data,
        **extra,
    }


def approve(client, token, child, **extra):
    return client.post(reverse("family:invitation", args=[token]), review_data(child, **extra))


def relative_client() -> Client:
    client = Client()
    response = client.post(
        reverse("family:login"), {"mobile": PARENT_MOBILE, "password": RELATIVE_PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def woman(org, **extra) -> Member:
    """A member the engine offers partners to: she would be offered the drafted son."""
    return add_member(
        org["aa1"],
        name="李小红",
        sex=c.Sex.FEMALE,
        birthday=date(1996, 3, 3),
        height=163,
        mobile="13922223333",
        sales_stage=c.SalesStage.SIGNED,
        service_status=c.ServiceStatus.IN_SERVICE,
        preference={"age_min": 25, "age_max": 35},
        **extra,
    )


def shown_anywhere(child: Member, her: Member) -> dict:
    engine = index.get_engine()
    code = public_ids.encode("member", child.pk)
    return {
        "engine": child.pk in {r.candidate_id for r in engine.recommend(her.pk, k=50)},
        "offerable": offerable_members().filter(pk=child.pk).exists(),
        "public": sel.public_members().filter(pk=child.pk).exists(),
        "search": code in {card.code for card in sel.search({"sex": c.Sex.MALE}).cards},
        "sitemap": child.pk in {row[0] for row in sel.sitemap_members()},
        "page": Client().get(reverse("portal:site_member", args=[code])).status_code == 200,
        "pair": not pair_problems(her, child),
    }


# --- drafting ----------------------------------------------------------------------------------


def test_the_draft_is_never_offered_shown_or_searchable_until_the_child_approves(org, fresh_engine):
    her = woman(org)
    draft()
    profile = FamilyProfile.objects.get()
    child = profile.member
    assert child.is_hidden and profile.state == DraftState.PENDING
    assert child.name == "王小明" and child.mobile_masked == "138****2222"
    assert not MemberAccount.objects.filter(member=child).exists()
    # The engine heard of the draft (change log), as hidden.
    assert EngineChange.objects.filter(member_id=child.pk).exists()
    assert shown_anywhere(child, her) == dict.fromkeys(
        ("engine", "offerable", "public", "search", "sitemap", "page", "pair"), False
    )
    # Staff see it, marked, in the website leads' pool.
    assert child in pool_members(viewer=org["mgr1"], pool="unsigned")
    staff = Client()
    staff.force_login(org["admin"])
    page = staff.get(reverse("members:detail", args=[child.pk])).content.decode()
    assert "亲属代填 · 待本人确认" in page and "王建国" in page and "136****1111" in page
    assert child.events.filter(kind=EventKind.CREATED, summary__contains="亲属").exists()

    child_client = Client()
    response = approve(child_client, invitation_token(), child)
    assert response.status_code == 302 and response.url == reverse("portal:home")
    child.refresh_from_db()
    assert not child.is_hidden
    index.reset()
    assert shown_anywhere(child, her) == dict.fromkeys(
        ("engine", "offerable", "public", "search", "sitemap", "page", "pair"), True
    )


def test_the_relative_gets_an_account_and_the_child_an_sms_invitation(org):
    draft()
    relative = RelativeAccount.objects.get()
    assert relative.check_password(RELATIVE_PASSWORD) and relative.password != RELATIVE_PASSWORD
    assert relative.mobile_masked == "136****1111" and PARENT_MOBILE not in relative.mobile_hash
    (mobile, text) = LoggingSmsBackend.outbox[0]
    assert mobile == CHILD_MOBILE and "父亲" in text and "http://testserver/family/invite/" in text
    profile = FamilyProfile.objects.get()
    token = invitation_token()
    assert token not in profile.token_hash and profile.invitations == 1
    assert profile.history.count() >= 1  # audit trail
    page = relative_client().get(reverse("family:centre")).content.decode()
    # Not named while pending: a child already on file must read the same (no enumeration).
    assert "等待本人确认" in page and "王小明" not in page


def test_the_child_must_be_of_the_legal_marriage_age(org):
    young = (timezone.localdate() - timedelta(days=21 * 366)).isoformat()  # a man of 21
    response = Client().post(reverse("family:register"), draft_data(birthday=young))
    assert response.status_code == 200
    assert "法定婚龄" in response.content.decode()
    assert not Member.objects.exists() and not RelativeAccount.objects.exists()
    draft(birthday=young, sex=c.Sex.FEMALE, name="王小丽")  # a woman of 21: 20 is the age
    assert FamilyProfile.objects.get().member.sex == c.Sex.FEMALE


def test_a_child_already_on_file_gets_the_same_answer_and_nothing_is_drafted(org):
    existing = add_member(org["aa1"], name="王小明", mobile=CHILD_MOBILE)
    before = Member.objects.count()
    first = Client().post(reverse("family:register"), draft_data())
    assert first.status_code == 302 and first.url == reverse("family:thanks")
    assert Member.objects.count() == before
    profile = FamilyProfile.objects.get()
    assert profile.member is None and profile.state == DraftState.PENDING
    assert not LoggingSmsBackend.outbox  # nobody invited
    # The member's matchmaker hears of it; the relative's centre reads as for any draft.
    assert Notice.objects.filter(recipient=org["aa1"], link__contains=str(existing.pk)).exists()
    page = relative_client().get(reverse("family:centre")).content.decode()
    assert "等待本人确认" in page and "王小明" not in page


def _draft_card(page: str) -> str:
    """The draft's card in the relative's centre, without what differs between any two drafts
    (its number, dates and times, the form's CSRF token)."""
    card = re.search(r'<div class="card mb-3" id="draft-.*?</form>', page, re.S).group(0)
    card = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", card)
    return re.sub(r"\d", "0", card)


def test_the_relatives_centre_reads_the_same_whether_or_not_the_child_is_on_file(org):
    # Black-box review (session 7): the card named a real draft by the child's name but an
    # on-file child as "your relative", which told the relative the child is a client.
    add_member(org["aa1"], name="王小明", mobile=CHILD_MOBILE)
    draft()  # the child is on file: nothing drafted
    on_file = relative_client().get(reverse("family:centre")).content.decode()
    FamilyProfile.objects.all().delete()
    draft(mobile="13811113333")  # a new child: drafted
    assert FamilyProfile.objects.get().member is not None
    drafted = relative_client().get(reverse("family:centre")).content.decode()
    assert _draft_card(on_file) == _draft_card(drafted)
    assert "王小明" not in drafted and "您的亲属" in drafted


def test_a_relatives_mobile_already_registered_keeps_nothing_without_its_password(org):
    draft()
    LoggingSmsBackend.outbox.clear()
    response = Client().post(
        reverse("family:register"),
        draft_data(relative_password="Another-pass-99", mobile="13811113333", name="王小军"),
    )
    assert response.status_code == 302 and response.url == reverse("family:thanks")
    assert FamilyProfile.objects.count() == 1
    ((mobile, text),) = LoggingSmsBackend.outbox
    assert mobile == PARENT_MOBILE and "亲属中心" in text  # its holder is told, nobody else
    # With the right password a second child joins the same account.
    draft(mobile="13811113333", name="王小军")
    assert RelativeAccount.objects.count() == 1 and FamilyProfile.objects.count() == 2


def test_registration_is_rate_limited_and_a_robot_keeps_nothing(org):
    response = Client().post(reverse("family:register"), draft_data(website="spam"))
    assert response.url == reverse("family:thanks") and not FamilyProfile.objects.exists()
    for n in range(5):  # what registration allows an address in an hour
        draft(Client(), relative_mobile=f"1360000200{n}", mobile=f"1381111300{n}")
    refused = Client().post(
        reverse("family:register"), draft_data(relative_mobile="13600003000", mobile="13811114000")
    )
    assert refused.status_code == 429
    assert FamilyProfile.objects.count() == 5


# --- the invitation ----------------------------------------------------------------------------


def test_the_invitation_is_single_use(org):
    draft()
    token = invitation_token()
    child = FamilyProfile.objects.get().member
    client = Client()
    assert client.get(reverse("family:invitation", args=[token])).status_code == 200
    assert approve(client, token, child).status_code == 302
    again = Client()
    assert again.get(reverse("family:invitation", args=[token])).status_code == 404
    assert approve(again, token, child).status_code == 404
    decline = again.post(
        reverse("family:invitation", args=[token]), {"answer": "decline_confirmed"}
    )
    assert decline.status_code == 404
    assert Member.objects.filter(pk=child.pk).exists()


def test_the_invitation_expires(org):
    draft()
    token = invitation_token()
    FamilyProfile.objects.update(token_expires_at=timezone.now() - timedelta(minutes=1))
    assert Client().get(reverse("family:invitation", args=[token])).status_code == 404
    assert Client().get(reverse("family:invitation", args=["x" * 32])).status_code == 404


def test_a_new_invitation_replaces_the_old_and_resending_is_limited(org):
    draft()
    first = invitation_token()
    relative = relative_client()
    profile = FamilyProfile.objects.get()
    url = reverse("family:resend", args=[profile.pk])
    assert relative.post(url).status_code == 302
    second = invitation_token()
    assert second != first
    assert Client().get(reverse("family:invitation", args=[first])).status_code == 404
    assert Client().get(reverse("family:invitation", args=[second])).status_code == 200
    assert relative.post(url).status_code == 302  # the third of the day
    sent = len(LoggingSmsBackend.outbox)
    page = relative.post(url, follow=True).content.decode()
    assert "明天" in page and len(LoggingSmsBackend.outbox) == sent
    profile.refresh_from_db()
    assert profile.invitations == 3


def test_the_child_reviews_corrects_and_approves_with_consent_recorded(org):
    draft()
    child = FamilyProfile.objects.get().member
    client = Client()
    page = client.get(reverse("family:invitation", args=[invitation_token()])).content.decode()
    assert "王小明" in page and 'value="175"' in page and "王建国" in page
    response = approve(client, invitation_token(), child, height="178", username="xiaoming94")
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.height, child.username, child.is_hidden) == (178, "xiaoming94", False)
    account = MemberAccount.objects.get(member=child)
    assert account.check_password(CHILD_PASSWORD) and not account.must_change_password
    profile = FamilyProfile.objects.get()
    assert profile.state == DraftState.APPROVED and profile.decided_at and not profile.token_hash
    consent = child.events.get(kind=EventKind.ACCOUNT, data__step="family_approved")
    assert consent.data["consent_at"] and "同意" in consent.summary
    assert child.events.get(kind=EventKind.UPDATED).data["fields"] == ["username", "height"]
    assert child.history.first().history_change_reason  # the audit trail says who confirmed
    # Logged in to the member centre straight away.
    assert client.get(reverse("portal:home")).status_code == 200
    page = relative_client().get(reverse("family:centre")).content.decode()
    assert "已确认" in page


def test_the_child_declines_and_their_data_is_deleted(org):
    draft()
    profile = FamilyProfile.objects.get()
    child_pk = profile.member_id
    token = invitation_token()
    LoggingSmsBackend.outbox.clear()
    client = Client()
    asked = client.post(reverse("family:invitation", args=[token]), {"answer": "decline"})
    assert asked.status_code == 200 and "不可撤销" in asked.content.decode()
    assert Member.objects.filter(pk=child_pk).exists()  # asking changes nothing
    done = client.post(reverse("family:invitation", args=[token]), {"answer": "decline_confirmed"})
    assert done.status_code == 200
    assert not Member.objects.filter(pk=child_pk).exists()
    assert not Member.history.filter(id=child_pk).exists()
    assert not MemberEvent.objects.filter(member_id=child_pk).exists()
    profile.refresh_from_db()
    assert profile.state == DraftState.DECLINED and profile.member is None and profile.decided_at
    ((mobile, text),) = LoggingSmsBackend.outbox
    assert mobile == PARENT_MOBILE and "撤回" in text
    page = relative_client().get(reverse("family:centre")).content.decode()
    assert "已撤回" in page and "王小明" not in page


# --- the relative sees introductions only when allowed, and only through PeerView ---------------


def approved_child(org):
    draft()
    child = FamilyProfile.objects.get().member
    assert approve(Client(), invitation_token(), child).status_code == 302
    child.refresh_from_db()
    return child


def test_the_relative_sees_introductions_only_when_the_child_shares_them(org):
    child = approved_child(org)
    other = add_member(org["bb1"], name="欧阳秘密", sex=c.Sex.FEMALE, mobile="13955556666")
    Recommendation.objects.create(
        member=child, candidate=other, recommended_by=org["aa1"], reason="MARKREASON"
    )
    IntroductionRequest.objects.create(member=child, target=other, message="MARKMESSAGE")
    profile = FamilyProfile.objects.get()
    url = reverse("family:introductions", args=[profile.pk])
    relative = relative_client()
    assert relative.get(url).status_code == 404  # off by default
    assert "family:introductions" not in relative.get(reverse("family:centre")).content.decode()

    child_client = Client()
    child_client.post(
        reverse("portal:login"), {"identifier": CHILD_MOBILE, "password": CHILD_PASSWORD}
    )
    assert child_client.get(reverse("family:share")).status_code == 200
    child_client.post(reverse("family:share"), {"share": "1"})
    page = relative.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert peer(child.pk, other).name in html  # the PeerView's name
    secrets = ("欧阳", "13955556666", "139****6666", other.username, "MARKREASON", "MARKMESSAGE")
    for secret in secrets:
        assert secret not in html
    assert child.events.filter(data__step="family_share", data__share=True).exists()
    # Revocable.
    child_client.post(reverse("family:share"), {"share": "0"})
    assert relative.get(url).status_code == 404


def test_a_relative_cannot_act_for_the_child_or_see_another_relatives_drafts(org):
    child = approved_child(org)
    rec = Recommendation.objects.create(
        member=child, candidate=woman(org), recommended_by=org["aa1"], reason="推荐"
    )
    FamilyProfile.objects.update(share_introductions=True)
    relative = relative_client()
    # The member centre stays closed: no page, no answer, no profile change, no switch.
    assert relative.get(reverse("portal:home")).status_code == 302
    answer = relative.post(reverse("portal:answer", args=["rec", rec.pk]), {"answer": "yes"})
    assert answer.status_code == 302 and reverse("portal:login") in answer.url
    rec.refresh_from_db()
    assert rec.status != "accepted" and rec.answered_at is None
    assert relative.post(reverse("family:share"), {"share": "0"}).status_code == 302
    assert FamilyProfile.objects.get().share_introductions
    assert relative.get(reverse("portal:profile_change")).status_code == 302
    # Another relative's draft: 404, including its invitation resend.
    other = RelativeAccount(name="张三", mobile_hash="x", mobile_masked="")
    other.set_password(RELATIVE_PASSWORD)
    other.save()
    theirs = FamilyProfile.objects.create(relative=other, relationship="mother")
    assert relative.get(reverse("family:introductions", args=[theirs.pk])).status_code == 404
    assert relative.post(reverse("family:resend", args=[theirs.pk])).status_code == 403
    # Logged out: the centre asks to log in.
    assert Client().get(reverse("family:centre")).url == reverse("family:login")


def test_the_relative_login_is_rate_limited(org):
    draft()
    client = Client()
    for _n in range(5):
        response = client.post(
            reverse("family:login"), {"mobile": PARENT_MOBILE, "password": "wrong-one-1"}
        )
        assert response.status_code == 200
    locked = client.post(
        reverse("family:login"), {"mobile": PARENT_MOBILE, "password": RELATIVE_PASSWORD}
    )
    assert locked.status_code == 429


def test_a_member_without_a_family_profile_has_no_switch(org, member):
    client = Client()
    client.post(reverse("portal:login"), {"identifier": "xiaofang", "password": MEMBER_PASSWORD})
    assert client.get(reverse("family:share")).status_code == 404


def test_the_relatives_pages_cost_the_same_queries_with_more_rows(org, fresh_engine):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    child = approved_child(org)
    FamilyProfile.objects.update(share_introductions=True)
    profile = FamilyProfile.objects.get()
    relative = relative_client()
    pages = [reverse("family:centre"), reverse("family:introductions", args=[profile.pk])]

    def add(n: int, start: int) -> None:
        for i in range(n):
            other = add_member(org["bb1"], name=f"候选{start + i}", sex=c.Sex.FEMALE)
            Recommendation.objects.create(
                member=child, candidate=other, recommended_by=org["aa1"], reason="推荐"
            )
            IntroductionRequest.objects.create(member=child, target=other, message="想认识")
            FamilyProfile.objects.create(
                relative=profile.relative,
                relationship="mother",
                member=add_member(org["aa1"], name=f"女儿{start + i}", is_hidden=True),
            )

    def cost() -> list[int]:
        counts = []
        for url in pages:
            relative.get(url)  # warm: the engine, the settings
            with CaptureQueriesContext(connection) as queries:
                assert relative.get(url).status_code == 200
            counts.append(len(queries))
        return counts

    add(1, 100)
    few = cost()
    add(4, 200)
    assert cost() == few


def test_an_account_staff_opened_for_the_draft_takes_the_childs_own_password(org):
    from hongniang.portal import accounts

    draft()
    child = FamilyProfile.objects.get().member
    accounts.account_open(actor=org["admin"], member=child)
    assert approve(Client(), invitation_token(), child).status_code == 302
    account = MemberAccount.objects.get(member=child)
    assert account.check_password(CHILD_PASSWORD) and not account.must_change_password
