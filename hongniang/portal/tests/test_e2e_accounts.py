"""A member account opened by staff, in a real browser: a matchmaker opens the account of a member
she entered and reads the one-time password once; the member logs in at /m/login/ with it, is
made to choose her own password, and reaches the member centre."""

import pytest

from hongniang.conftest import login, shot
from hongniang.frontdesk.models import MemberAccount
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import PASSWORD

from .test_e2e_portal import both_widths

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Xiaoyu-own-2026"


def test_staff_open_an_account_and_the_member_logs_in(page, org):
    member = add_member(org["aa1"], name="赵小雨", mobile="13911112222")
    base = page.base_url

    # The matchmaker opens the account from the member's page, the SMS ticked.
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/members/{member.pk}/")
    shot(page, "account-member-page-none")
    page.click("#account-open")
    page.wait_for_url(f"{base}/members/{member.pk}/account/open/")
    assert page.is_checked("#id_send_sms")
    both_widths(page, "account-open-form")
    page.click("button:has-text('确认开通')")
    page.wait_for_selector("#issued")
    password = page.inner_text("#issued-password").strip()
    assert len(password) == 10 and "已发送到会员手机" in page.inner_text("#issued-sms")
    both_widths(page, "account-issued")
    page.goto(f"{base}/members/{member.pk}/")
    panel = page.locator("#member-account")
    assert "待会员设置自己的密码" in panel.inner_text() and password not in page.content()
    shot(page, "account-member-page-open")
    page.context.clear_cookies()

    # The member logs in with her mobile and the one-time password, and must choose her own.
    page.goto(f"{base}/m/login/")
    page.fill("#id_identifier", "13911112222")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/m/password/")
    both_widths(page, "account-first-login")
    page.fill("#id_current_password", password)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("button:has-text('修改密码')")
    page.wait_for_url(f"{base}/m/")
    assert "赵小雨" in page.inner_text("body")
    shot(page, "account-member-centre")
    account = MemberAccount.objects.get(member=member)
    assert not account.must_change_password and account.check_password(NEW_PASSWORD)
