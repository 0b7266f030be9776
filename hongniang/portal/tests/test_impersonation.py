"""Staff log in as a member (whitepaper 2.5.1): the right (after-sales edit and members edit), only
members in view (404 otherwise), the security password, an account to log into; audited on the
timeline and the audit trail with start and end; a banner on every member-centre page; one click
back; never a staff identity, never the member's password; ends at staff logout."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.frontdesk.models import MemberAccount
from hongniang.members.models import EventKind, MemberEvent
from hongniang.members.tests.helpers import add_member
from hongniang.portal import services
from hongniang.portal.models import Impersonation, ImpersonationEnd
from hongniang.staff.tests.factories import StaffFactory, role_with

from .conftest import MEMBER_PASSWORD, SECURITY_PASSWORD

pytestmark = pytest.mark.django_db


def start(client, member, password=SECURITY_PASSWORD):
    return client.post(
        reverse("portal:impersonate", args=[member.pk]), {"security_password": password}
    )


def test_matchmaker_logs_in_as_her_member_and_clicks_back(client, after1, member):
    client.force_login(after1)
    page = client.get(reverse("members:detail", args=[member.pk]))
    assert 'id="login-as-member"' in page.content.decode()

    response = start(client, member)
    assert response.status_code == 302 and response.url == reverse("portal:home")
    home = client.get(reverse("portal:home"))
    html = home.content.decode()
    assert home.status_code == 200
    assert 'id="impersonation-banner"' in html
    assert "You are browsing as member 王小芳" in html or "您正在以会员 王小芳" in html
    # The staff session is untouched: the identity taken is the member account, not a user.
    assert client.session["_auth_user_id"] == str(after1.pk)
    assert home.wsgi_request.user == after1
    assert home.wsgi_request.member_session.account == member.account
    # The workbench still answers as the staff user, and the banner sits on every member page.
    assert client.get(reverse("members:list")).status_code == 200

    row = Impersonation.objects.get()
    assert (row.staff, row.member, row.ended_at) == (after1, member, None)
    assert row.history.get().history_user == after1
    started = MemberEvent.objects.get(member=member, kind=EventKind.IMPERSONATION_START)
    assert started.actor == after1 and started.data == {"impersonation": row.pk}

    back = client.post(reverse("portal:impersonation_end"))
    assert back.status_code == 302
    assert back.url == reverse("members:detail", args=[member.pk])
    row.refresh_from_db()
    assert row.ended_at is not None and row.end_reason == ImpersonationEnd.RETURNED
    assert row.history.count() == 2  # start and end in the audit trail
    ended = MemberEvent.objects.get(member=member, kind=EventKind.IMPERSONATION_END)
    assert ended.actor == after1
    # The member centre is closed again; the workbench is still open.
    assert client.get(reverse("portal:home")).status_code == 302
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 200


def test_audit_trail_lists_the_impersonation(client, org, after1, member):
    client.force_login(after1)
    start(client, member)
    client.post(reverse("portal:impersonation_end"))
    admin = Client()
    admin.force_login(org["admin"])
    page = admin.get(reverse("siteconfig:audit"), {"kind": "impersonation"})
    assert page.status_code == 200
    assert len(page.context["page"].object_list) == 2


def test_staff_logout_ends_the_impersonation(client, after1, member):
    client.force_login(after1)
    start(client, member)
    client.post(reverse("staff:logout"))
    row = Impersonation.objects.get()
    assert row.ended_at is not None and row.end_reason == ImpersonationEnd.STAFF_LOGOUT
    assert client.get(reverse("portal:home")).status_code == 302
    assert MemberEvent.objects.filter(kind=EventKind.IMPERSONATION_END).count() == 1


def test_member_logout_link_while_impersonating_goes_back(client, after1, member):
    client.force_login(after1)
    start(client, member)
    response = client.post(reverse("portal:logout"))
    assert response.url == reverse("members:detail", args=[member.pk])
    assert client.session["_auth_user_id"] == str(after1.pk)  # still the staff user


def test_impersonation_cannot_change_the_members_password(client, after1, member):
    client.force_login(after1)
    start(client, member)
    assert client.get(reverse("portal:password")).status_code == 403
    response = client.post(
        reverse("portal:password"),
        {
            "current_password": MEMBER_PASSWORD,
            "new_password1": "Taken-over-99",
            "new_password2": "Taken-over-99",
        },
    )
    assert response.status_code == 403
    assert MemberAccount.objects.get(member=member).check_password(MEMBER_PASSWORD)
    assert "portal:password" not in client.get(reverse("portal:home")).content.decode()


def test_must_change_password_does_not_lock_staff_out(client, after1, member):
    MemberAccount.objects.filter(member=member).update(must_change_password=True)
    client.force_login(after1)
    start(client, member)
    assert client.get(reverse("portal:home")).status_code == 200


def test_wrong_security_password_is_refused_and_counted(client, after1, member):
    client.force_login(after1)
    response = start(client, member, "wrong")
    assert response.url == reverse("members:detail", args=[member.pk])
    assert not Impersonation.objects.exists()
    assert services.ACCOUNT_KEY not in client.session
    after1.refresh_from_db()
    assert after1.security_failures == 1
    page = client.get(response.url).content.decode()
    assert "security password" in page.lower() or "安全密码" in page
    assert start(client, member, "").status_code == 302
    assert not Impersonation.objects.exists()


def test_member_without_account_is_refused_with_a_message(client, org, after1):
    m = add_member(org["mgr1"], name="赵无号", username="noacct")
    m.aftersales_owner = after1
    m.save(update_fields=["aftersales_owner"])
    client.force_login(after1)
    page = client.get(reverse("members:detail", args=[m.pk])).content.decode()
    assert "login-as-member" not in page and "disabled" in page  # the button, greyed out
    response = start(client, m)
    assert response.url == reverse("members:detail", args=[m.pk])
    messages = [str(x) for x in response.wsgi_request._messages]
    assert any("赵无号" in text for text in messages)
    assert not Impersonation.objects.exists()
    assert not MemberEvent.objects.filter(kind=EventKind.IMPERSONATION_START).exists()


def test_get_is_refused(client, after1, member):
    client.force_login(after1)
    assert client.get(reverse("portal:impersonate", args=[member.pk])).status_code == 405


def test_anonymous_and_member_sessions_cannot_start_it(client, member):
    response = start(client, member)
    assert response.status_code == 302 and reverse("staff:login") in response.url
    client.post(reverse("portal:login"), {"identifier": "xiaofang", "password": MEMBER_PASSWORD})
    response = start(client, member)
    assert response.status_code == 302 and reverse("staff:login") in response.url
    assert not Impersonation.objects.exists()


def test_losing_the_right_ends_it(client, after1, after_role, member):
    client.force_login(after1)
    start(client, member)
    after_role.grants = [g for g in after_role.grants if g != "aftersales.edit"]
    after_role.save()
    assert client.get(reverse("portal:home")).status_code == 302
    row = Impersonation.objects.get()
    assert row.end_reason == ImpersonationEnd.RIGHT_LOST


def test_another_staff_login_in_the_browser_ends_it(client, org, after1, member):
    client.force_login(after1)
    start(client, member)
    client.force_login(org["admin"])  # a different user: Django flushes the session
    assert client.get(reverse("portal:home")).status_code == 302


# --- who may: roles × visibility ---------------------------------------------------------------

GRANTS = ["aftersales.edit", "members.edit", "aftersales.view", "members.view", "presales.edit"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(grants=st.sets(st.sampled_from(GRANTS)), visible=st.booleans())
def test_who_may_log_in_as_a_member(org, member, grants, visible):
    """Allowed exactly with after-sales edit and members edit, and only for a member in view:
    403 without the right, 404 for a member outside one's view, the member centre otherwise."""
    role = role_with(*grants)
    # In view: the user owns the member (after-sales); out of view: a user of another team.
    supervisor = org["mgr1"] if visible else org["mgr2"]
    user = StaffFactory(role=role, store=org["store_a"], supervisor=supervisor)
    if visible:
        member.aftersales_owner = user
        member.save(update_fields=["aftersales_owner"])
    client = Client()
    client.force_login(user)
    before = Impersonation.objects.count()
    response = start(client, member)
    allowed = {"aftersales.edit", "members.edit"} <= grants
    if not allowed:
        assert response.status_code == 403
    elif not visible:
        assert response.status_code == 404
    else:
        assert response.status_code == 302 and response.url == reverse("portal:home")
        assert client.get(reverse("portal:home")).status_code == 200
    assert Impersonation.objects.count() == before + (allowed and visible)
    button = (
        'id="login-as-member"'
        in client.get(reverse("members:detail", args=[member.pk])).content.decode()
    )
    if "members.view" in grants and visible:
        assert button == allowed


def test_impersonation_left_open_is_ended_when_the_staff_session_expired(
    client, after1, member, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from hongniang.jobs.periodic import registered
    from hongniang.jobs.services import start_due_periodic_jobs

    client.force_login(after1)
    start(client, member)
    row = Impersonation.objects.get()
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    registry = {"impersonation_expiry": registered()["impersonation_expiry"]}
    start_due_periodic_jobs(registry=registry)  # still within the session's lifetime
    row.refresh_from_db()
    assert row.ended_at is None

    started = timezone.now() - lifetime - timedelta(minutes=5)
    Impersonation.objects.filter(pk=row.pk).update(started_at=started)
    (job,) = start_due_periodic_jobs(now=timezone.now() + timedelta(hours=2), registry=registry)
    job.refresh_from_db()
    assert job.result["closed"] == 1
    row.refresh_from_db()
    assert row.end_reason == ImpersonationEnd.EXPIRED
    assert row.ended_at == started + lifetime
    assert MemberEvent.objects.filter(kind=EventKind.IMPERSONATION_END).count() == 1
