"""In a browser: a visitor asks for a matchmaker, then registers through a matchmaker's QR link;
the public pages on a desktop and a phone, with no CSP violation."""

import re
from datetime import date

import pytest

from hongniang.conftest import login, shot
from hongniang.frontdesk.models import Consultation, FrontDeskSettings
from hongniang.frontdesk.tests.browser import fill_registration, referral_link, submit_consultation
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import resident_id
from hongniang.staff.tests.factories import PASSWORD

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _watch_csp(page, refused):
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_visitor_consults_and_registers_through_a_qr_link(browser, live_server, org, regions):
    settings_row = FrontDeskSettings.load()
    settings_row.default_store = org["store_a"]
    settings_row.save()
    refused: list[str] = []
    base = live_server.url

    # The matchmaker opens their link page: the QR code and the poster.
    staff_ctx = browser.new_context(viewport=WIDTHS["desktop"], locale="zh-CN")
    staff = staff_ctx.new_page()
    staff.base_url = base
    _watch_csp(staff, refused)
    login(staff, "aa1", PASSWORD)
    link = referral_link(staff)
    assert staff.locator("img.qr-image").evaluate("img => img.naturalWidth") > 0
    shot(staff, "frontdesk-my-link")
    staff.goto(f"{base}/frontdesk/poster/")
    shot(staff, "frontdesk-poster")

    for device, viewport in WIDTHS.items():
        ctx = browser.new_context(viewport=viewport, locale="zh-CN")
        page = ctx.new_page()
        _watch_csp(page, refused)
        suffix = "8" if device == "phone" else "7"

        # A consultation.
        page.goto(f"{base}/consult/")
        shot(page, f"frontdesk-consult-{device}")
        submit_consultation(
            page,
            base,
            name=f"陈女士{suffix}",
            mobile=f"1391234567{suffix}",
            message="想了解一对一红娘服务",
        )
        shot(page, f"frontdesk-consult-thanks-{device}")

        # Registration through the matchmaker's QR link, with a first mistake.
        page.goto(link)
        page.wait_for_url(re.compile(r".*/join/\?ref=.*"))
        assert "邀请您登记" in page.inner_text(".alert-info")
        fill_registration(
            page,
            username=f"xiaofang{suffix}",
            mobile=f"1381234567{suffix}",
            name="王小芳",
            id_number="123",
        )
        shot(page, f"frontdesk-join-{device}")
        page.click("button[type=submit]")
        page.wait_for_selector(".alert-danger")
        shot(page, f"frontdesk-join-errors-{device}")
        assert page.input_value("#id_username") == f"xiaofang{suffix}"
        assert page.input_value("#id_birthday") == "1995-03-04"
        assert page.input_value("#id_password") == ""
        page.fill("#id_id_number", resident_id(date(1995, 3, 4), c.Sex.FEMALE, seq=int(suffix)))
        page.fill("#id_password", "Hn-visitor-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/join/thanks/")
        shot(page, f"frontdesk-join-thanks-{device}")
        ctx.close()

    assert Consultation.objects.count() == 2
    members = Member.objects.filter(username__startswith="xiaofang")
    assert members.count() == 2
    assert {m.presales_owner_id for m in members} == {org["aa1"].pk}
    assert {m.source for m in members} == {c.Source.REGISTRATION}
    staff.goto(f"{base}/frontdesk/my-link/")
    assert staff.inner_text("[data-count-total]") == "2"
    staff_ctx.close()
    assert refused == [], "\n".join(refused)
