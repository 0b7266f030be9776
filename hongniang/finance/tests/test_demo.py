"""The demo agency keeps the rule of the journey: a member is signed by a contract finance
approved, so every signed demo member has one, and contracts waiting for finance belong to
members who are not signed yet."""

import pytest

from hongniang.finance.demo import seed_finance
from hongniang.finance.models import Contract, ContractStatus, Payment
from hongniang.members import choices as c
from hongniang.members.demo import seed_members
from hongniang.members.models import EventKind, Member
from hongniang.staff.demo import seed_staff

pytestmark = pytest.mark.django_db


def test_every_signed_demo_member_has_an_effective_contract(regions):
    seed_members(target=60, people=seed_staff(), verbose=False)
    signed = Member.objects.filter(sales_stage=c.SalesStage.SIGNED)
    assert signed.exists()
    assert seed_finance() > 0
    for member in signed:
        contract = Contract.objects.get(member=member)
        assert contract.status == ContractStatus.EFFECTIVE
        assert contract.approved_by is not None
        assert Payment.objects.filter(contract=contract).exists()
        # The timeline a real approval writes, dated on the approval.
        signed_event = member.events.get(kind=EventKind.STAGE, data__step="sign")
        assert signed_event.created_at == contract.approved_at
        assert signed_event.actor == contract.approved_by
        assert member.events.filter(kind=EventKind.CONTRACT, data__contract=contract.pk).exists()
    waiting = Contract.objects.filter(status=ContractStatus.SUBMITTED)
    assert waiting.exists()
    assert not waiting.filter(member__sales_stage=c.SalesStage.SIGNED).exists()
    assert seed_finance() == 0  # written once
