"""Staff open members' accounts (issue 13): a one-time password shown once (and sent by SMS when
asked), a first-login password change, reset, close and reopen; audited and on the timeline;
only with members edit and for members in view; many at once as a job."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.frontdesk.models import MemberAccount
from hongniang.jobs.models import Job, JobState
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Channel, Delivery, OptOut
from hongniang.messaging.sms import LoggingSmsBackend
from hongniang.portal import accounts, services
from hongniang.staff.tests.factories import role_with
from hongniang.staff.visibility import DataScope

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Mine-own-2026"


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "hongniang.messaging.sms.LoggingSmsBackend"
    LoggingSmsBackend.outbox.clear()
    yield
    LoggingSmsBackend.outbox.clear()


@pytest.fixture
def lead(org):
    """A member aa1 entered (as staff entry and import do): no account yet."""
    return add_member(org["aa1"], name="赵小雨", mobile="13911112222")


def open_through_page(client, member, **data):
    return client.post(reverse("portal:account_open", args=[member.pk]), data)


def member_login(client, identifier, password):
    return client.post(reverse("portal:login"), {"identifier": identifier, "password": password})


def test_staff_open_an_account_and_the_member_changes_the_password_at_first_login(org, lead):
    staff = Client()
    staff.force_login(org["aa1"])
    page = staff.get(reverse("members:detail", args=[lead.pk])).content.decode()
    assert 'id="account-open"' in page
    assert staff.get(reverse("portal:account_open", args=[lead.pk])).status_code == 200

    response = open_through_page(staff, lead)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache: not kept anywhere
    password = response.context["issued"].password
    assert password in response.content.decode()  # shown once, on this answer
    account = MemberAccount.objects.get(member=lead)
    assert account.must_change_password and account.is_active
    assert account.check_password(password) and password not in account.password
    assert account.temporary_until > timezone.now() + timedelta(days=6)
    assert LoggingSmsBackend.outbox == []  # not asked for
    # Shown once: the member page does not show it again.
    again = staff.get(reverse("members:detail", args=[lead.pk])).content.decode()
    assert password not in again and 'id="account-reset"' in again

    # Timeline and audit trail: who did it, never the password.
    event = MemberEvent.objects.get(member=lead, kind=EventKind.ACCOUNT)
    assert event.actor == org["aa1"] and event.data["step"] == "opened"
    assert password not in event.summary and password not in str(event.data)
    history = account.history.get()
    assert history.history_user == org["aa1"] and not hasattr(history, "password")

    # The member logs in with the mobile, must choose a password, then reaches the centre.
    member = Client()
    assert member_login(member, "13911112222", password).url == reverse("portal:home")
    assert member.get(reverse("portal:home")).url == reverse("portal:password")
    member.post(
        reverse("portal:password"),
        {
            "current_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert member.get(reverse("portal:home")).status_code == 200
    account.refresh_from_db()
    assert not account.must_change_password and account.temporary_until is None


def test_the_password_goes_by_sms_when_asked_and_is_kept_nowhere(org, lead):
    issued = accounts.account_open(actor=org["aa1"], member=lead, send_sms=True)
    assert issued.sms_sent is True
    [(mobile, text)] = LoggingSmsBackend.outbox
    assert mobile == "13911112222" and issued.password in text and "/m/login/" in text
    assert not Delivery.objects.filter(member=lead).exists()  # the message log keeps texts
    event = MemberEvent.objects.get(member=lead, kind=EventKind.ACCOUNT)
    assert "短信" in event.summary and issued.password not in event.summary


def test_no_sms_to_a_member_who_refuses_them_or_has_no_mobile(org, lead):
    OptOut.objects.create(member=lead, channel=Channel.SMS)
    staff = Client()
    staff.force_login(org["aa1"])
    response = open_through_page(staff, lead, send_sms="on")
    assert response.status_code == 200 and "该会员已拒收短信" in response.content.decode()
    assert not MemberAccount.objects.filter(member=lead).exists()
    Member.objects.filter(pk=lead.pk).update(mobile_encrypted="", mobile_hash="", mobile_masked="")
    OptOut.objects.all().delete()
    response = open_through_page(staff, lead, send_sms="on")
    assert "该会员没有手机号" in response.content.decode()
    assert LoggingSmsBackend.outbox == []


def test_a_username_can_be_given_and_is_checked(org, lead):
    add_member(org["aa1"], username="taken01")
    staff = Client()
    staff.force_login(org["aa1"])
    for bad, words in (("x", "3–30"), ("taken01", "已被使用")):
        response = open_through_page(staff, lead, username=bad)
        assert response.status_code == 200 and words in response.content.decode()
        assert not MemberAccount.objects.filter(member=lead).exists()
    response = open_through_page(staff, lead, username="zhaoxiaoyu")
    lead.refresh_from_db()
    assert lead.username == "zhaoxiaoyu"
    password = response.context["issued"].password
    assert member_login(Client(), "zhaoxiaoyu", password).status_code == 302


def test_opening_twice_is_refused(org, lead):
    accounts.account_open(actor=org["aa1"], member=lead)
    staff = Client()
    staff.force_login(org["aa1"])
    response = staff.post(reverse("portal:account_open", args=[lead.pk]), follow=True)
    assert "已有会员账号" in response.content.decode()
    assert MemberAccount.objects.filter(member=lead).count() == 1
    with pytest.raises(ValidationError, match="已有会员账号"):
        accounts.account_open(actor=org["aa1"], member=lead)


def test_reset_gives_a_new_one_time_password_and_ends_the_members_sessions(org, lead):
    first = accounts.account_open(actor=org["aa1"], member=lead).password
    member = Client()
    member_login(member, "13911112222", first)
    member.post(
        reverse("portal:password"),
        {"current_password": first, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert member.get(reverse("portal:home")).status_code == 200
    staff = Client()
    staff.force_login(org["mgr1"])  # aa1's manager
    response = staff.post(reverse("portal:account_reset", args=[lead.pk]), {})
    assert response.status_code == 200
    second = response.context["issued"].password
    assert member.get(reverse("portal:home")).status_code == 302  # the old session ended
    assert member_login(Client(), "13911112222", NEW_PASSWORD).status_code == 200  # refused
    assert member_login(Client(), "13911112222", second).url == reverse("portal:home")
    assert MemberAccount.objects.get(member=lead).must_change_password
    steps = list(
        MemberEvent.objects.filter(member=lead, kind=EventKind.ACCOUNT).values_list(
            "data__step", flat=True
        )
    )
    assert steps == ["reset", "opened"]


def test_an_unused_one_time_password_expires(org, lead):
    password = accounts.account_open(actor=org["aa1"], member=lead).password
    MemberAccount.objects.filter(member=lead).update(
        temporary_until=timezone.now() - timedelta(minutes=1)
    )
    client = Client()
    response = member_login(client, "13911112222", password)
    assert response.status_code == 200 and "一次性密码已过期" in response.content.decode()
    assert services.ACCOUNT_KEY not in client.session
    # A wrong password says nothing about the account's state.
    response = member_login(Client(), "13911112222", "wrong-password")
    assert "一次性密码已过期" not in response.content.decode()


def test_a_closed_account_cannot_log_in_and_its_session_ends(org, lead):
    password = accounts.account_open(actor=org["aa1"], member=lead).password
    member = Client()
    member_login(member, "13911112222", password)
    assert member.get(reverse("portal:password")).status_code == 200
    staff = Client()
    staff.force_login(org["aa1"])
    response = staff.post(
        reverse("portal:account_active", args=[lead.pk]), {"active": "0"}, follow=True
    )
    assert "已停用" in response.content.decode()
    assert not MemberAccount.objects.get(member=lead).is_active
    assert member.get(reverse("portal:password")).status_code == 302  # session ended
    response = member_login(Client(), "13911112222", password)
    assert response.status_code == 200 and "账号已停用" in response.content.decode()
    staff.post(reverse("portal:account_active", args=[lead.pk]), {"active": "1"})
    assert MemberAccount.objects.get(member=lead).is_active
    assert member_login(Client(), "13911112222", password).status_code == 302
    steps = MemberEvent.objects.filter(member=lead, kind=EventKind.ACCOUNT)
    assert list(steps.values_list("data__step", flat=True)) == ["reopened", "closed", "opened"]
    assert MemberAccount.objects.get(member=lead).history.first().history_user == org["aa1"]


def test_the_pages_answer_403_without_members_edit_and_404_out_of_view(org, lead):
    viewer = role_with("members.view")
    org["aa2"].role = viewer
    org["aa2"].save()
    client = Client()
    client.force_login(org["aa2"])
    page = client.get(reverse("members:detail", args=[lead.pk]))
    assert page.status_code == 404  # aa2 is aa1's peer
    org["mgr1"].role = role_with("members.view", scope=DataScope.SUBTREE)
    org["mgr1"].save()
    client.force_login(org["mgr1"])
    page = client.get(reverse("members:detail", args=[lead.pk])).content.decode()
    assert 'id="member-account"' in page and 'id="account-open"' not in page
    for name in ("portal:account_open", "portal:account_reset", "portal:account_active"):
        assert client.post(reverse(name, args=[lead.pk])).status_code == 403
    client.force_login(org["bb1"])  # members edit, another team
    for name in ("portal:account_open", "portal:account_reset", "portal:account_active"):
        assert client.post(reverse(name, args=[lead.pk])).status_code == 404
    assert not MemberAccount.objects.filter(member=lead).exists()


ACTORS = ["admin", "mgr1", "mgr2", "aa1", "aa2", "bb1"]
SEES_AA1_MEMBERS = {"admin", "mgr1", "aa1"}  # aa1 and everyone above her


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    who=st.sampled_from(ACTORS),
    edit=st.booleans(),
    action=st.sampled_from(["open", "reset", "close", "reopen"]),
)
def test_rights_are_checked_against_the_actor(org, who, edit, action):
    """Roles × visibility: only members edit on a member in view opens, resets, closes or
    reopens; anything else is refused and changes nothing."""
    actor = org[who]
    member = add_member(org["aa1"])
    if action != "open":
        accounts.account_open(actor=org["aa1"], member=member)
    if action == "reopen":
        accounts.account_set_active(actor=org["aa1"], member=member, active=False)
    before = (
        MemberAccount.objects.filter(member=member).values_list("password", "is_active").first()
    )
    events = MemberEvent.objects.filter(member=member, kind=EventKind.ACCOUNT).count()
    allowed = edit and who in SEES_AA1_MEMBERS
    original = actor.role
    scope = DataScope.ALL if who == "admin" else DataScope.SUBTREE
    grants = ["members.view", "members.edit"] if edit else ["members.view"]
    actor.role = role_with(*grants, scope=scope)
    actor.save()
    assert accounts.may_manage(actor) == edit

    def act():
        if action == "open":
            return accounts.account_open(actor=actor, member=member)
        if action == "reset":
            return accounts.password_reset(actor=actor, member=member)
        return accounts.account_set_active(actor=actor, member=member, active=action == "reopen")

    try:
        _check(act, allowed, member, before, events)
    finally:
        actor.role = original
        actor.save()


def _check(act, allowed, member, before, events):
    if allowed:
        act()
        after = (
            MemberAccount.objects.filter(member=member).values_list("password", "is_active").first()
        )
        assert after != before
        assert MemberEvent.objects.filter(member=member, kind=EventKind.ACCOUNT).count() == (
            events + 1
        )
    else:
        with pytest.raises(PermissionDenied):
            act()
        after = (
            MemberAccount.objects.filter(member=member).values_list("password", "is_active").first()
        )
        assert after == before
        assert MemberEvent.objects.filter(member=member, kind=EventKind.ACCOUNT).count() == events


# --- many at once ------------------------------------------------------------------------------


def test_accounts_for_the_selected_members_open_as_a_job_with_an_sms_each(org):
    fresh = [add_member(org["aa1"], name=f"导入{i}") for i in range(3)]
    had = add_member(org["aa1"], name="已有账号")
    accounts.account_open(actor=org["aa1"], member=had)
    no_mobile = add_member(org["aa1"], name="无手机")
    Member.objects.filter(pk=no_mobile.pk).update(
        mobile_encrypted="", mobile_hash="", mobile_masked=""
    )
    refuses = add_member(org["aa1"], name="拒收")
    OptOut.objects.create(member=refuses, channel=Channel.SMS)
    theirs = add_member(org["bb1"], name="别队")
    selected = [*fresh, had, no_mobile, refuses, theirs]
    LoggingSmsBackend.outbox.clear()

    client = Client()
    client.force_login(org["aa1"])
    query = {"members": [str(m.pk) for m in selected]}
    page = client.get(reverse("portal:accounts_bulk"), query)
    assert page.status_code == 200
    assert page.context["count"] == 6 and page.context["without"] == 5  # bb1's not counted
    response = client.post(reverse("portal:accounts_bulk"), query)
    job = Job.objects.get(title__contains="开通")
    assert response.url == reverse("jobs:detail", args=[job.pk])
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (job.result["opened"], job.result["no_mobile"], job.result["refuses_sms"]) == (3, 1, 1)
    assert job.result["sms_failed"] == 0
    assert len(LoggingSmsBackend.outbox) == 3
    # The address staff use is the one the member is sent to (no public address configured).
    assert all("http://testserver/m/login/" in text for _m, text in LoggingSmsBackend.outbox)
    for member in fresh:
        account = MemberAccount.objects.get(member=member)
        assert account.must_change_password and account.temporary_until
        assert account.history.get().history_user == org["aa1"]
    assert not MemberAccount.objects.filter(member__in=[no_mobile, refuses, theirs]).exists()
    # The list offers the action to those who may.
    listing = client.get(reverse("members:list")).content.decode()
    assert 'id="accounts-bulk"' in listing


def test_the_bulk_action_needs_members_edit(org, lead):
    org["aa1"].role = role_with("members.view")
    org["aa1"].save()
    client = Client()
    client.force_login(org["aa1"])
    assert client.post(reverse("portal:accounts_bulk"), {"members": [lead.pk]}).status_code == 403
    assert 'id="accounts-bulk"' not in client.get(reverse("members:list")).content.decode()
    assert not Job.objects.exists()
