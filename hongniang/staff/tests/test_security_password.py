"""The security password (安全密码): attempts limited like login, asked in a password field in a
modal, never in a browser prompt (issue 8)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from hongniang.members.models import RevealLog
from hongniang.members.tests.helpers import add_member
from hongniang.staff import services
from hongniang.staff.models import Staff, StaffStatus
from hongniang.staff.tests.factories import StaffFactory, role_with

RIGHT = "Secure-999"


def fresh(user) -> Staff:
    return Staff.objects.select_related("role").get(pk=user.pk)


@pytest.mark.django_db
def test_five_wrong_tries_lock_and_the_right_one_is_then_refused(org, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    admin = org["admin"]
    for _ in range(4):
        with pytest.raises(ValidationError):
            services.verify_security_password(fresh(admin), "wrong")
    with pytest.raises(ValidationError) as locked:
        services.verify_security_password(fresh(admin), "wrong")
    assert "15" in " ".join(locked.value.messages)
    with pytest.raises(ValidationError) as still:
        services.verify_security_password(fresh(admin), RIGHT)
    assert "15" in " ".join(still.value.messages) or "14" in " ".join(still.value.messages)
    # When the lock has run out the right password works again, with a fresh count.
    Staff.objects.filter(pk=admin.pk).update(
        security_locked_until=timezone.now() - timedelta(seconds=1)
    )
    services.verify_security_password(fresh(admin), RIGHT)
    assert fresh(admin).security_failures == 0


@pytest.mark.django_db
def test_success_resets_the_count(org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    admin = org["admin"]
    for _ in range(2):
        with pytest.raises(ValidationError):
            services.verify_security_password(fresh(admin), "wrong")
    services.verify_security_password(fresh(admin), RIGHT)
    for _ in range(2):
        with pytest.raises(ValidationError):
            services.verify_security_password(fresh(admin), "wrong")
    services.verify_security_password(fresh(admin), RIGHT)


@pytest.mark.django_db
def test_reveal_is_limited_over_http(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 5
    member = add_member(org["aa1"], mobile="13812347996")
    url = reverse("members:reveal", args=[member.pk, "mobile"])
    client.force_login(org["admin"])
    for _ in range(15):
        client.post(url, {"security_password": "wrong"})
    response = client.post(url, {"security_password": RIGHT})
    body = response.content.decode()
    assert "13812347996" not in body and "分钟" in body
    assert not RevealLog.objects.exists()


@pytest.mark.django_db
def test_full_export_is_limited_over_http(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 5
    revealer = StaffFactory(
        role=role_with("members.view", "members.export", "members.reveal"),
        store=org["store_a"],
        supervisor=org["mgr2"],
    )
    client.force_login(revealer)
    for _ in range(5):
        client.post(reverse("members:export"), {"security_password": "wrong", "query": ""})
    response = client.post(reverse("members:export"), {"security_password": RIGHT, "query": ""})
    assert response.status_code == 302  # back to the list with the message, no workbook
    assert fresh(revealer).security_locked_until is not None


@pytest.mark.django_db
def test_account_lock_action_is_limited_over_http(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 5
    client.force_login(org["mgr1"])
    url = reverse("staff:set_status", args=[org["aa1"].pk])
    for _ in range(5):
        client.post(url, {"status": "locked", "security_password": "wrong"})
    response = client.post(url, {"status": "locked", "security_password": RIGHT}, follow=True)
    assert fresh(org["aa1"]).status == StaffStatus.NORMAL
    assert "分钟" in response.content.decode()


def test_no_template_asks_in_a_browser_prompt():
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(p.relative_to(root))
        for p in root.glob("**/templates/**/*.html")
        if "hx-prompt" in p.read_text()
    ]
    assert offenders == []


@pytest.mark.django_db
def test_member_page_asks_through_the_modal(client, org):
    member = add_member(org["aa1"], mobile="13812347996")
    client.force_login(org["admin"])
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert 'id="security-password-modal"' in html
    assert "data-security-password" in html
    assert 'type="password"' in html


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_reveal_and_lock_ask_in_the_modal_in_a_browser(page, org):
    from hongniang.conftest import login, shot
    from hongniang.staff.tests.factories import PASSWORD

    member = add_member(org["aa1"], mobile="13812347996")
    prompts: list[str] = []
    page.on("dialog", lambda d: (prompts.append(d.type), d.accept()))
    login(page, "admin", PASSWORD)
    page.goto(f"{page.base_url}/members/{member.pk}/")
    page.click("button[hx-target='#reveal-mobile']")
    modal = page.locator("#security-password-modal")
    modal.locator("input[type=password]").wait_for(state="visible")
    shot(page, "security-password-modal")
    modal.locator("input[type=password]").fill("wrong")
    modal.locator("button[type=submit]").click()
    page.wait_for_selector("#reveal-mobile .text-danger")
    assert "13812347996" not in page.inner_text("#reveal-mobile")
    page.click("button[hx-target='#reveal-mobile']")
    modal.locator("input[type=password]").wait_for(state="visible")
    modal.locator("input[type=password]").fill(RIGHT)
    modal.locator("button[type=submit]").click()
    page.wait_for_selector("#reveal-mobile:has-text('13812347996')")
    # A plain form (lock an account) submits its own fields plus the password from the modal.
    page.goto(f"{page.base_url}/staff/{org['aa1'].pk}/")
    page.click("form[action$='/status/'] button[type=submit]")
    modal.locator("input[type=password]").wait_for(state="visible")
    modal.locator("input[type=password]").fill(RIGHT)
    modal.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    assert fresh(org["aa1"]).status == StaffStatus.LOCKED
    assert prompts == []
