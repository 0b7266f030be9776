"""The money side in a real browser: a matchmaker enters a contract, finance approves it with the
security password, an administrator allocates the now-signed member to after-sales, a refund is
requested and approved, and the sales report shows the net figure."""

from decimal import Decimal

import pytest
from django.utils import timezone

from hongniang.conftest import login, shot
from hongniang.finance.models import Contract, ContractStatus, Refund, RefundStatus
from hongniang.finance.tests.helpers import SECURE, finance_crew, plan
from hongniang.members import choices as c
from hongniang.members.models import Allocation, Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import PASSWORD, role_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_contract_to_effect_to_allocation_to_refund(page, org):
    crew = finance_crew(org)
    # aa2 serves after-sales members.
    crew["aa2"].role = role_with("members.view", "aftersales.view", "aftersales.edit")
    crew["aa2"].save()
    member = add_member(crew["aa1"], name="林小雨")
    gold = plan("金卡会员（一年）", price="12800.00", intros=2, dates=1)
    base = page.base_url
    today = timezone.localdate()

    # The matchmaker enters the contract from the member's page and submits it.
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/members/{member.pk}/")
    page.click("#contracts >> text=签订合同")
    page.check(f"input[name=plans][value='{gold.pk}']")
    page.fill("#id_amount", "12800")
    page.fill("#id_service_start", today.isoformat())
    page.fill("#id_service_end", today.replace(year=today.year + 1).isoformat())
    page.fill("#id_remark", "到店签约，微信付款")
    shot(page, "finance-contract-form")
    page.click("button[name=submit]")
    page.wait_for_selector(".alert-success")
    contract = Contract.objects.get()
    assert contract.status == ContractStatus.SUBMITTED
    shot(page, "finance-contract-submitted")
    page.context.clear_cookies()

    # Finance confirms the money with the security password.
    login(page, "fin", PASSWORD)
    page.goto(f"{base}/finance/contracts/?tab=submitted")
    page.click(f"text={contract.number}")
    page.select_option("#id_method", "wechat")
    page.fill("#id_reference", "WX20261125001")
    page.fill("#id_security_password", SECURE)
    shot(page, "finance-contract-approve")
    page.click("button:has-text('审核通过')")
    page.wait_for_selector(".alert-success")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EFFECTIVE
    assert contract.paid_total == Decimal("12800.00")
    assert Member.objects.get(pk=member.pk).sales_stage == c.SalesStage.SIGNED
    shot(page, "finance-contract-effective")
    page.context.clear_cookies()

    # The administrator finds the member in 已成交待分配 and allocates them to after-sales.
    login(page, "admin", PASSWORD)
    page.goto(f"{base}/members/allocate/?pool=signed")
    shot(page, "finance-signed-pool")
    page.check(f"input[name=members][value='{member.pk}']")
    page.select_option("#id_to", str(crew["aa2"].pk))
    page.once("dialog", lambda dialog: dialog.accept())  # "allocate the 1 selected member?"
    page.click("button:has-text('分配所选')")
    page.wait_for_selector(".alert-success")
    assert Allocation.objects.filter(member=member, to_staff=crew["aa2"]).exists()
    page.context.clear_cookies()

    # The matchmaker asks for a refund; finance approves it.
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/finance/contracts/{contract.pk}/")
    page.fill("#id_amount", "3000")
    page.fill("#id_reason", "会员工作调动，协商退部分费用")
    page.click("button:has-text('提交财务')")
    page.wait_for_selector(".alert-success")
    refund = Refund.objects.get()
    page.context.clear_cookies()
    login(page, "fin", PASSWORD)
    page.goto(f"{base}/finance/refunds/")
    page.click(f"text={refund.number}")
    page.fill("#id_security_password", SECURE)
    shot(page, "finance-refund-decide")
    page.click("button[name=approve]")
    page.wait_for_selector(".alert-success")
    refund.refresh_from_db()
    contract.refresh_from_db()
    assert refund.status == RefundStatus.APPROVED
    assert contract.status == ContractStatus.PARTLY_REFUNDED
    assert contract.refundable == Decimal("9800.00")
    page.goto(f"{base}/finance/payments/?window=month")
    assert "WX20261125001" in page.locator("table").inner_text()
    shot(page, "finance-payments")
    page.context.clear_cookies()

    # The administrator's sales report shows the net figure: 12,800 received − 3,000 refunded.
    login(page, "admin", PASSWORD)
    page.goto(f"{base}/finance/report/?window=week")
    assert page.locator("[data-figure=net]").inner_text() == "¥9800.00"
    assert page.locator("[data-figure=contracts]").inner_text() == "1"
    assert crew["aa1"].name in page.locator("#by-staff").inner_text()
    shot(page, "finance-report")
