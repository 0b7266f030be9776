"""Members log in to the member centre with their mobile or username: lock-out as for staff, the
same answer whether the account exists or not, sessions that never cross with the staff's, and
the first-login password change."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hongniang.frontdesk.models import MemberAccount
from hongniang.portal import services

from .conftest import MEMBER_PASSWORD, give_account

pytestmark = pytest.mark.django_db


def zh(message: str) -> str:
    """A message as the (Chinese by default) pages show it."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


WRONG = "The mobile or username and the password do not match."


def log_in(client, identifier, password=MEMBER_PASSWORD, **extra):
    return client.post(
        reverse("portal:login"), {"identifier": identifier, "password": password}, **extra
    )


@pytest.mark.parametrize("identifier", ["13912345678", "139 1234 5678", "xiaofang"])
def test_member_logs_in_with_mobile_or_username(client, member, identifier):
    response = log_in(client, identifier)
    assert response.status_code == 302 and response.url == reverse("portal:home")
    assert client.session[services.ACCOUNT_KEY] == member.account.pk
    assert MemberAccount.objects.get(member=member).last_login is not None
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    html = home.content.decode()
    assert "王小芳" in html
    assert "139****5678" in html  # the mobile, masked, even to its owner
    assert "资深红娘李老师" in html and "13700001111" in html  # the matchmaker, shown on the site
    assert not home.wsgi_request.user.is_authenticated  # never a staff identity


def test_matchmaker_not_shown_on_the_site_gives_the_store_number(client, member, after1):
    after1.show_on_site = False
    after1.save(update_fields=["show_on_site"])
    after1.store.phone = "020-88886666"
    after1.store.save(update_fields=["phone"])
    log_in(client, "xiaofang")
    html = client.get(reverse("portal:home")).content.decode()
    assert "13700001111" not in html
    assert "020-88886666" in html


def test_home_shows_profile_and_preferences(client, member):
    member.preference.age_min, member.preference.age_max = 28, 36
    member.preference.age_must = True
    member.preference.other = "希望性格开朗"
    member.preference.save()
    log_in(client, "xiaofang")
    home = client.get(reverse("portal:home"))
    html = home.content.decode()
    assert "28 – 36" in html and "希望性格开朗" in html
    titles = [title for title, _fields in home.context["profile"]]
    assert len(titles) == 4
    account_fields = [f.name for f in home.context["profile"][0][1]]
    assert "id_number" not in account_fields and "store" not in account_fields


@pytest.mark.parametrize(
    "identifier, password",
    [("xiaofang", "wrong-password"), ("nobody", MEMBER_PASSWORD), ("13800000000", "x")],
)
def test_wrong_password_and_unknown_account_read_the_same(client, member, identifier, password):
    response = log_in(client, identifier, password)
    assert response.status_code == 200
    assert zh(WRONG) in response.content.decode()
    assert services.ACCOUNT_KEY not in client.session


def test_lock_out_after_repeated_failures_counts_mobile_and_username_together(member, settings):
    settings.AXES_FAILURE_LIMIT = 5
    client = Client()
    for identifier in ["xiaofang", "13912345678", "xiaofang", "13912345678", "xiaofang"]:
        log_in(client, identifier, "wrong")
    # Locked: even the right password is refused, with the lock-out page.
    locked = log_in(client, "13912345678")
    assert locked.status_code == 429
    assert services.ACCOUNT_KEY not in client.session
    assert AccessAttempt.objects.filter(username="member:xiaofang").exists()
    # From another address the member still gets in: the lock is per account and address.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert log_in(other, "xiaofang").status_code == 302


def test_unknown_accounts_lock_too_and_store_no_mobile_in_clear(db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        log_in(client, "13800001234", "x")
    assert log_in(client, "13800001234", "x").status_code == 429
    usernames = list(AccessAttempt.objects.values_list("username", flat=True))
    assert usernames and all("13800001234" not in u for u in usernames)


def test_success_resets_the_count(client, member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    log_in(client, "xiaofang", "wrong")
    log_in(client, "xiaofang", "wrong")
    assert log_in(client, "xiaofang").status_code == 302
    client.post(reverse("portal:logout"))
    log_in(client, "xiaofang", "wrong")
    log_in(client, "xiaofang", "wrong")
    assert log_in(client, "xiaofang").status_code == 302


def test_one_address_failing_across_many_accounts_is_paused(member, settings):
    settings.AXES_FAILURE_LIMIT = 100
    client = Client()
    for n in range(services.FAILURES_PER_ADDRESS.count):
        log_in(client, f"guess{n}", "x")
    paused = log_in(client, "xiaofang")  # even a right password, from this address
    assert paused.status_code == 429
    assert 1 <= paused.context["minutes"] <= 60
    assert log_in(Client(REMOTE_ADDR="10.9.8.7"), "xiaofang").status_code == 302


# --- sessions never cross ----------------------------------------------------------------------


def test_member_session_never_opens_the_workbench(client, member):
    log_in(client, "xiaofang")
    for url in [
        reverse("home:index"),
        reverse("members:list"),
        reverse("members:detail", args=[member.pk]),
        reverse("staff:account"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("staff:login")), url


def test_staff_session_needs_the_member_login(client, org, member):
    client.force_login(org["admin"])
    for url in [reverse("portal:home"), reverse("portal:password"), reverse("portal:photo")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("portal:login"))


def test_staff_login_drops_a_member_session_in_the_same_browser(client, org, member):
    log_in(client, "xiaofang")
    client.post(reverse("staff:login"), {"username": "aa1", "password": "Pass-1234-word"})
    assert client.session.get("_auth_user_id") == str(org["aa1"].pk)
    assert services.ACCOUNT_KEY not in client.session
    assert client.get(reverse("portal:home")).status_code == 302


def test_member_login_ends_a_staff_session_in_the_same_browser(client, org, member):
    client.force_login(org["aa1"])
    log_in(client, "xiaofang")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home:index")).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200


def test_logout(client, member):
    log_in(client, "xiaofang")
    assert client.get(reverse("portal:logout")).status_code == 405  # POST only
    response = client.post(reverse("portal:logout"))
    assert response.url == reverse("portal:login")
    assert client.get(reverse("portal:home")).status_code == 302


def test_login_next_stays_in_the_member_centre(client, member):
    response = client.post(
        reverse("portal:login") + "?next=/members/",
        {"identifier": "xiaofang", "password": MEMBER_PASSWORD},
    )
    assert response.url == reverse("portal:home")
    client.post(reverse("portal:logout"))
    response = client.post(
        reverse("portal:login") + "?next=" + reverse("portal:password"),
        {"identifier": "xiaofang", "password": MEMBER_PASSWORD},
    )
    assert response.url == reverse("portal:password")


# --- passwords ---------------------------------------------------------------------------------


def test_first_login_password_change(client, org):
    from hongniang.members.tests.helpers import add_member

    m = add_member(org["aa1"], username="newbie", mobile="13612345678")
    give_account(m, password="Set-by-staff-1", must_change_password=True)
    log_in(client, "newbie", "Set-by-staff-1")
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response.url == reverse("portal:password")
    bad = client.post(
        reverse("portal:password"),
        {
            "current_password": "Set-by-staff-1",
            "new_password1": "Set-by-staff-1",
            "new_password2": "Set-by-staff-1",
        },
    )
    assert bad.status_code == 200
    assert zh("Choose a password different from the current one.") in bad.content.decode()
    ok = client.post(
        reverse("portal:password"),
        {
            "current_password": "Set-by-staff-1",
            "new_password1": "My-own-pass-77",
            "new_password2": "My-own-pass-77",
        },
    )
    assert ok.status_code == 302 and ok.url == reverse("portal:home")
    account = MemberAccount.objects.get(member=m)
    assert not account.must_change_password and account.check_password("My-own-pass-77")
    assert client.get(reverse("portal:home")).status_code == 200  # still logged in


def test_password_change_ends_other_sessions_and_checks_input(member):
    first, second = Client(), Client()
    log_in(first, "xiaofang")
    log_in(second, "xiaofang")
    wrong = first.post(
        reverse("portal:password"),
        {"current_password": "nope", "new_password1": "a", "new_password2": "b"},
    )
    assert wrong.status_code == 200
    assert zh("The two new passwords differ.") in wrong.content.decode()
    weak = first.post(
        reverse("portal:password"),
        {
            "current_password": MEMBER_PASSWORD,
            "new_password1": "12345678",
            "new_password2": "12345678",
        },
    )
    assert weak.status_code == 200 and weak.context["form"].errors["new_password1"]
    first.post(
        reverse("portal:password"),
        {
            "current_password": MEMBER_PASSWORD,
            "new_password1": "Another-pass-88",
            "new_password2": "Another-pass-88",
        },
    )
    assert first.get(reverse("portal:home")).status_code == 200
    assert second.get(reverse("portal:home")).status_code == 302
    assert log_in(Client(), "xiaofang", MEMBER_PASSWORD).status_code == 200  # old one refused


def test_home_reads_a_fixed_number_of_queries(client, member, django_assert_max_num_queries):
    log_in(client, "xiaofang")
    client.get(reverse("portal:home"))  # the site settings and the region labels are cached
    # 9: the family-profile card reads the member's family profile (one indexed row).
    with django_assert_max_num_queries(9) as queries:
        assert client.get(reverse("portal:home")).status_code == 200
    print(f"member home: {len(queries)} queries")


def test_demo_accounts_are_idempotent_and_log_in(client, org, member):
    from hongniang.members.tests.helpers import add_member
    from hongniang.portal.demo import seed_member_accounts

    other = add_member(org["aa1"], username="demo2")
    seed_member_accounts("Demo@2026")
    seed_member_accounts("Demo@2026")
    assert MemberAccount.objects.count() == 2  # the fixture's member kept her own password
    assert log_in(client, "demo2", "Demo@2026").status_code == 302
    assert other.account.pk


def test_administrator_lifts_a_member_lockout_on_the_lockouts_page(member, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    visitor = Client()
    for _ in range(3):
        log_in(visitor, "xiaofang", "wrong")
    assert log_in(visitor, "xiaofang").status_code == 429
    admin = Client()
    admin.force_login(org["admin"])
    rows = admin.get(reverse("staff:lockouts")).context["login_lockouts"]
    assert [r.username for r in rows] == ["member:xiaofang"]
    admin.post(reverse("staff:lockout_clear"), {"kind": "login", "pk": rows[0].pk})
    assert log_in(visitor, "xiaofang").status_code == 302
