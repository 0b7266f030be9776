"""In a real browser: the promise on the matchmaker's home and the member's page, a complaint
recorded and closed, and the report's outcomes and month-by-month ledger."""

import pytest
from django.utils import timezone

from hongniang.conftest import login, shot
from hongniang.finance.models import Complaint, ComplaintStatus
from hongniang.finance.tests.helpers import effective, finance_crew, plan
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import PASSWORD, role_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_promise_complaint_and_outcomes_in_the_browser(page, org):
    crew = finance_crew(org)
    # aa2 serves members after sales, without any finance right.
    crew["aa2"].role = role_with(
        "members.view", "members.add", "aftersales.view", "aftersales.add", name="售后红娘"
    )
    crew["aa2"].save()
    today = timezone.localdate()
    member = add_member(crew["aa2"], name="周晓晴")
    effective(
        {**crew, "aa1": crew["admin"]},
        member,
        plans=[plan("金卡会员（一年）", intros=2, dates=1)],
        service_start=today.replace(day=1),
    )
    base = page.base_url

    # The matchmaker's home lists the member's promise; the member's page shows the ledger.
    login(page, "aa2", PASSWORD)
    panel = page.locator("#promise-this-month")
    assert "周晓晴" in panel.inner_text() and "0 / 2" in panel.inner_text()
    shot(page, "home-promise-this-month")
    panel.locator("a", has_text="周晓晴").click()
    ledger = page.locator("#member-ledger table")
    ledger.wait_for()
    assert "0 / 2" in ledger.inner_text() and "未达承诺" in ledger.inner_text()
    shot(page, "member-ledger")

    # A complaint recorded through the form (the date as the input reads it, YYYY-MM-DD).
    page.goto(f"{base}/finance/complaints/new/?member={member.pk}")
    page.fill("#id_received_on", today.isoformat())
    page.fill("#id_summary", "本月还没有安排任何介绍")
    shot(page, "complaint-form")
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url(f"{base}/finance/complaints/*/")
    complaint = Complaint.objects.get()
    assert complaint.about == crew["aa2"] and complaint.received_on == today
    assert page.locator("#close-complaint").count() == 0  # aa2 may not close it

    # The administrator closes it, then reads the report.
    page.context.clear_cookies()
    login(page, "admin", PASSWORD)
    page.goto(f"{base}/finance/complaints/{complaint.pk}/")
    page.fill("#id_resolution", "已电话回访，本周安排两次介绍")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#close-complaint button[type=submit]")
    page.locator("[data-resolution]").wait_for()
    assert Complaint.objects.get().status == ComplaintStatus.CLOSED
    shot(page, "complaint-closed")
    page.goto(f"{base}/finance/complaints/")
    shot(page, "complaints")
    page.goto(f"{base}/finance/report/?window=month")
    row = page.locator(f'#outcomes-by-staff tr[data-staff="{crew["aa2"].pk}"]')
    assert row.locator('[data-k="complaints"]').inner_text() == "1"
    assert row.locator('[data-k="promises_missed"]').inner_text() == "1"
    ledger_row = page.locator(f'#promise-ledger tr[data-promise-staff="{crew["aa2"].pk}"]')
    assert "1/1" in ledger_row.inner_text()
    shot(page, "report-outcomes")
