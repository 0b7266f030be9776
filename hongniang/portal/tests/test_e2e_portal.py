"""The member centre in a real browser: a member logs in; a matchmaker logs in as her member with
the security password, sees the banner, and one click brings her back to the member's page."""

import re

import pytest

from hongniang.conftest import login, shot
from hongniang.members.regions import load_regions
from hongniang.portal.models import Impersonation
from hongniang.staff.tests.factories import PASSWORD

from .conftest import MEMBER_PASSWORD, SECURITY_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def both_widths(page, name):
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_member_logs_in_and_matchmaker_logs_in_as_her(page, after1, member):
    load_regions()
    preference = member.preference
    preference.age_min, preference.age_max, preference.age_must = 28, 36, True
    preference.education_min, preference.region = 60, "440100"
    preference.other = "希望性格开朗，有稳定工作"
    preference.save()
    member.hobbies, member.occupation = ["travel", "reading"], "teacher"
    member.save(update_fields=["hobbies", "occupation"])
    base = page.base_url

    # The member logs in with her mobile.
    page.goto(f"{base}/m/login/")
    both_widths(page, "portal-login")
    page.fill("#id_identifier", "13912345678")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    page.wait_for_selector(".alert-danger")
    page.fill("#id_password", MEMBER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/m/")
    assert page.locator("#my-matchmaker").inner_text().count("资深红娘李老师") == 1
    both_widths(page, "portal-home")
    page.click("button:has-text('退出登录')")
    page.wait_for_url(f"{base}/m/login/")
    page.context.clear_cookies()

    # The matchmaker opens the member and logs in as her.
    login(page, "after1", PASSWORD)
    page.goto(f"{base}/members/{member.pk}/")
    page.click("#login-as-member button[type=submit]")
    page.fill("#security-password-input", SECURITY_PASSWORD)
    page.click("#security-password-modal button[type=submit]")
    page.wait_for_url(f"{base}/m/")
    banner = page.locator("#impersonation-banner")
    assert "王小芳" in banner.inner_text()
    both_widths(page, "portal-impersonation")
    assert Impersonation.objects.get().ended_at is None

    # One click back to the member's page in the workbench.
    banner.locator("button:has-text('返回工作台')").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/members/{member.pk}/$"))
    assert page.locator("#impersonation-banner").count() == 0
    assert Impersonation.objects.get().ended_at is not None
    shot(page, "portal-back-in-workbench")
