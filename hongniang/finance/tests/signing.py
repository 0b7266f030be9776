"""Signing a member the one way there is: a contract entered, submitted and approved by finance
(the journey's "sign" step is taken by `finance.services.contract_approve` only). For the tests of
other apps that need a signed member."""

from hongniang.finance import services
from hongniang.finance.models import Contract
from hongniang.finance.tests.helpers import approve, draft
from hongniang.staff.models import Staff
from hongniang.staff.tests.factories import StaffFactory, role_with
from hongniang.staff.visibility import DataScope


def finance_clerk():
    """A finance user who sees every member (enters and approves contracts): one per database."""
    existing = Staff.objects.filter(username="finance-clerk").first()
    if existing is not None:
        return existing
    return StaffFactory(
        username="finance-clerk",
        role=role_with(
            "members.view",
            "finance.view",
            "finance.add",
            "finance.approve",
            scope=DataScope.ALL,
            name="财务（测试）",
        ),
    )


def sign(member, *, seller=None, approver=None, amount="12800.00") -> Contract:
    """Enter a contract for the member (as `seller`, who needs finance.add and the member in
    view), submit it, and let finance approve it: the member is then signed."""
    approver = approver or finance_clerk()
    seller = seller or approver
    contract = draft(seller, member, amount=amount)
    services.contract_submit(actor=seller, contract=contract)
    return approve(approver, contract)
