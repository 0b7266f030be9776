"""The lock-outs screen: administrators see who is locked out (login or security password), until
when, and lift a lock; each lift is audited (issue 8)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hongniang.staff import services
from hongniang.staff.models import LockoutRelease, Staff
from hongniang.staff.tests.factories import PASSWORD


def lock_out(username: str, times: int = 5):
    anonymous = Client()
    for _ in range(times):
        anonymous.post(reverse("staff:login"), {"username": username, "password": "bad"})


@pytest.mark.django_db
def test_administrator_sees_and_clears_a_login_lockout(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 5
    lock_out("aa1")
    assert (
        Client().post(reverse("staff:login"), {"username": "aa1", "password": PASSWORD}).status_code
        == 429
    )

    client.force_login(org["admin"])
    page = client.get(reverse("staff:lockouts"))
    assert page.status_code == 200
    rows = page.context["login_lockouts"]
    # The try with the right password while locked counted as one more failure.
    assert [(r.username, r.ip_address, r.failures) for r in rows] == [("aa1", "127.0.0.1", 6)]
    html = page.content.decode()
    assert "aa1" in html and "127.0.0.1" in html
    assert rows[0].until - rows[0].since == settings.AXES_COOLOFF_TIME

    assert client.get(reverse("staff:lockout_clear")).status_code == 405
    response = client.post(
        reverse("staff:lockout_clear"), {"kind": "login", "pk": rows[0].pk}, follow=True
    )
    assert response.status_code == 200 and response.context["messages"]
    assert not AccessAttempt.objects.exists()
    release = LockoutRelease.objects.get()
    assert (release.username, release.released_by, release.kind) == ("aa1", org["admin"], "login")
    assert release.history.filter(history_user=org["admin"]).exists()
    audit = client.get(reverse("siteconfig:audit")).content.decode()
    assert "aa1" in audit
    login = Client().post(reverse("staff:login"), {"username": "aa1", "password": PASSWORD})
    assert login.status_code == 302


@pytest.mark.django_db
def test_security_password_locks_are_listed_and_cleared(client, org):
    Staff.objects.filter(pk=org["mgr1"].pk).update(
        security_locked_until=timezone.now() + timedelta(minutes=10)
    )
    client.force_login(org["admin"])
    page = client.get(reverse("staff:lockouts"))
    assert [s.username for s in page.context["security_lockouts"]] == ["mgr1"]
    client.post(reverse("staff:lockout_clear"), {"kind": "security", "pk": org["mgr1"].pk})
    assert Staff.objects.get(pk=org["mgr1"].pk).security_locked_until is None
    assert LockoutRelease.objects.get().kind == "security"
    services.verify_security_password(Staff.objects.get(pk=org["mgr1"].pk), "Secure-999")


@pytest.mark.django_db
def test_only_administrators_see_lockouts(client, org):
    lock_out("aa1")
    for who in ("mgr1", "aa1"):
        client.force_login(org[who])
        assert client.get(reverse("staff:lockouts")).status_code == 403
        client.post(reverse("staff:lockout_clear"), {"kind": "login", "pk": 1})
        html = client.get(reverse("home:index")).content.decode()
        assert reverse("staff:lockouts") not in html
    assert AccessAttempt.objects.exists() and not LockoutRelease.objects.exists()
    client.force_login(org["admin"])
    assert reverse("staff:lockouts") in client.get(reverse("home:index")).content.decode()


@pytest.mark.django_db
def test_clearing_a_missing_lock_says_so_and_never_fails(client, org):
    client.force_login(org["admin"])
    for data in ({"kind": "login", "pk": 999}, {"kind": "nope", "pk": "x"}, {}):
        response = client.post(reverse("staff:lockout_clear"), data)
        assert response.status_code == 302
    assert not LockoutRelease.objects.exists()
