"""The contract workflow (whitepaper 2.6.1): draft → submitted → effective (finance, with the
payment) or rejected → edited → submitted again; an effective contract is frozen for good."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.finance import services
from hongniang.finance.models import Contract, ContractFrozen, ContractStatus, Payment
from hongniang.finance.tests.helpers import SECURE, approve, draft, effective, finance_crew, plan
from hongniang.members import choices as c
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    return finance_crew(org)


def test_a_contract_is_numbered_and_sums_the_plans_promises(crew):
    member = add_member(crew["aa1"])
    contract = draft(
        crew["aa1"],
        member,
        plans=[plan(intros=2, dates=1), plan("约会加油包", price="2000.00", intros=1, dates=2)],
    )
    assert contract.status == ContractStatus.DRAFT
    assert contract.number == f"HT{timezone.localdate():%Y%m%d}0001"
    assert (contract.introductions_per_month, contract.dates_per_month) == (3, 3)
    second = draft(crew["aa1"], add_member(crew["aa1"]))
    assert second.number.endswith("0002")


def test_approval_records_the_payment_signs_the_member_and_pools_them(crew):
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member)
    services.contract_submit(actor=crew["aa1"], contract=contract)
    approve(crew["fin"], contract, amount="19800.00")
    contract.refresh_from_db()
    member.refresh_from_db()
    assert contract.status == ContractStatus.EFFECTIVE
    assert contract.approved_by == crew["fin"]
    assert contract.paid_total == Decimal("19800.00")
    assert Payment.objects.get(contract=contract).amount == Decimal("19800.00")
    assert member.sales_stage == c.SalesStage.SIGNED
    assert member.aftersales_owner is None  # waits in 已成交待分配
    steps = set(
        MemberEvent.objects.filter(member=member, kind=EventKind.CONTRACT).values_list(
            "data__step", flat=True
        )
    )
    assert {"submitted", "effective"} <= steps
    assert MemberEvent.objects.filter(member=member, kind=EventKind.STAGE, data__to="signed")


def test_rejected_contract_is_edited_and_submitted_again(crew):
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member)
    services.contract_submit(actor=crew["aa1"], contract=contract)
    with pytest.raises(ValidationError):
        services.contract_reject(actor=crew["fin"], contract=contract, reason="  ")
    services.contract_reject(actor=crew["fin"], contract=contract, reason="金额与收据不符")
    contract.refresh_from_db()
    assert (contract.status, contract.reject_reason) == (ContractStatus.REJECTED, "金额与收据不符")
    contract.amount = Decimal("18800.00")
    services.contract_save(actor=crew["aa1"], contract=contract, plans=[plan("标准套餐")])
    services.contract_submit(actor=crew["aa1"], contract=contract)
    contract.refresh_from_db()
    assert (contract.status, contract.amount) == (ContractStatus.SUBMITTED, Decimal("18800.00"))
    assert contract.reject_reason == ""


def test_effective_contract_cannot_be_changed_by_anyone(crew):
    member = add_member(crew["aa1"])
    contract = effective(crew, member)
    # The service refuses…
    contract.amount = Decimal("1.00")
    with pytest.raises(ValidationError):
        services.contract_save(actor=crew["admin"], contract=contract, plans=[plan("x")])
    # …and so does the model, whatever path the change takes.
    stored = Contract.objects.get(pk=contract.pk)
    stored.service_end += timedelta(days=30)
    with pytest.raises(ContractFrozen):
        stored.save()
    with pytest.raises(ContractFrozen):
        Contract.objects.filter(pk=contract.pk).update(amount=Decimal("2.00"))
    other = plan("换套餐")
    # Django changes a relation without a savepoint of its own: give it one, as a view's
    # transaction would be rolled back as a whole.
    with pytest.raises(ContractFrozen), transaction.atomic():
        stored.plans.set([other])
    with pytest.raises(ContractFrozen):
        stored.delete()
    fresh = Contract.objects.get(pk=contract.pk)
    assert fresh.amount == Decimal("19800.00")
    assert fresh.plans.count() == 1


def test_approving_twice_counts_the_money_once(crew):
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member)
    services.contract_submit(actor=crew["aa1"], contract=contract)
    approve(crew["fin"], Contract.objects.get(pk=contract.pk))
    with pytest.raises(ValidationError):
        approve(crew["fin2"], Contract.objects.get(pk=contract.pk))
    assert Payment.objects.filter(contract=contract).count() == 1
    assert Contract.objects.get(pk=contract.pk).paid_total == Decimal("19800.00")


def test_wrong_security_password_approves_nothing(crew):
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member)
    services.contract_submit(actor=crew["aa1"], contract=contract)
    with pytest.raises(ValidationError):
        approve(crew["fin"], contract, security_password="wrong")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SUBMITTED
    assert not Payment.objects.exists()
    assert Member.objects.get(pk=member.pk).sales_stage != c.SalesStage.SIGNED


def test_rights_and_visibility(crew):
    member = add_member(crew["aa1"])
    # A matchmaker of another team cannot enter a contract for this member.
    with pytest.raises(PermissionDenied):
        draft(crew["bb1"], member)
    contract = draft(crew["aa1"], member)
    with pytest.raises(PermissionDenied):
        services.contract_submit(actor=crew["bb1"], contract=contract)
    services.contract_submit(actor=crew["aa1"], contract=contract)
    # Sales staff cannot approve or reject their own contract.
    with pytest.raises(PermissionDenied):
        approve(crew["aa1"], contract)
    with pytest.raises(PermissionDenied):
        services.contract_reject(actor=crew["aa1"], contract=contract, reason="x")
    assert set(Contract.objects.visible_to(crew["bb1"])) == set()
    assert set(Contract.objects.visible_to(crew["aa1"])) == {contract}
    assert set(Contract.objects.visible_to(crew["fin"])) == {contract}


def test_terms_are_checked(crew):
    member = add_member(crew["aa1"])
    today = timezone.localdate()
    with pytest.raises(ValidationError) as err:
        draft(crew["aa1"], member, service_start=today, service_end=today)
    assert "service_end" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        draft(crew["aa1"], member, amount="0")
    assert "amount" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        draft(crew["aa1"], member, amount="12.345")
    assert "amount" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        draft(crew["aa1"], member, plans=[plan("旧套餐", active=False)])
    assert "plans" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        draft(
            crew["aa1"],
            member,
            payment_type="deposit",
            instalments=[(today, Decimal("5000")), (today + timedelta(days=30), Decimal("5000"))],
        )
    assert "payment_type" in err.value.error_dict
    ok = draft(
        crew["aa1"],
        member,
        payment_type="deposit",
        instalments=[(today, Decimal("5000")), (today + timedelta(days=30), Decimal("14800"))],
    )
    assert ok.instalments.count() == 2
    assert not Contract.objects.exclude(pk=ok.pk).exists()


def test_an_abandoned_member_cannot_sign(crew):
    member = add_member(crew["aa1"])
    Member.objects.filter(pk=member.pk).update(sales_stage=c.SalesStage.ABANDONED)
    member.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        draft(crew["aa1"], member)
    assert "member" in err.value.error_dict


def test_later_payments_cannot_overpay(crew):
    member = add_member(crew["aa1"])
    today = timezone.localdate()
    contract = draft(
        crew["aa1"],
        member,
        payment_type="deposit",
        instalments=[(today, Decimal("5000")), (today + timedelta(days=30), Decimal("14800"))],
    )
    services.contract_submit(actor=crew["aa1"], contract=contract)
    approve(crew["fin"], contract, amount="5000")
    assert Contract.objects.get(pk=contract.pk).balance_due == Decimal("14800.00")
    with pytest.raises(ValidationError):
        services.payment_record(
            actor=crew["fin"],
            contract=contract,
            security_password=SECURE,
            amount="14800.01",
            method="bank",
            paid_on=today,
        )
    services.payment_record(
        actor=crew["fin"],
        contract=contract,
        security_password=SECURE,
        amount="14800",
        method="bank",
        paid_on=today,
    )
    assert Contract.objects.get(pk=contract.pk).paid_total == Decimal("19800.00")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["submit", "reject", "approve", "edit"]),
            st.sampled_from(["aa1", "bb1", "fin", "fin2"]),
        ),
        max_size=8,
    )
)
def test_random_workflow_keeps_its_invariants(crew, steps):
    """Whatever is clicked by whom, a contract only moves along the workflow, only permitted
    people move it, the money recorded equals the payments, and in force means frozen."""
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member, plans=[plan(f"套餐{member.pk}")])
    allowed = {
        "submit": {ContractStatus.DRAFT, ContractStatus.REJECTED},
        "reject": {ContractStatus.SUBMITTED},
        "approve": {ContractStatus.SUBMITTED},
        "edit": {ContractStatus.DRAFT, ContractStatus.REJECTED},
    }
    rights = {
        "submit": {"aa1", "fin", "fin2"},
        "edit": {"aa1", "fin", "fin2"},
        "reject": {"fin", "fin2"},
        "approve": {"fin", "fin2"},
    }
    for action, who in steps:
        before = Contract.objects.get(pk=contract.pk)
        fresh = Contract.objects.get(pk=contract.pk)
        try:
            if action == "submit":
                services.contract_submit(actor=crew[who], contract=fresh)
            elif action == "reject":
                services.contract_reject(actor=crew[who], contract=fresh, reason="不符")
            elif action == "approve":
                approve(crew[who], fresh)
            else:
                fresh.remark = "改"
                services.contract_save(
                    actor=crew[who], contract=fresh, plans=list(before.plans.all())
                )
        except (PermissionDenied, ValidationError):
            after = Contract.objects.get(pk=contract.pk)
            assert after.status == before.status
            continue
        assert who in rights[action]
        assert before.status in allowed[action]
    final = Contract.objects.get(pk=contract.pk)
    paid = sum(p.amount for p in Payment.objects.filter(contract=final))
    assert final.paid_total == (paid or Decimal("0"))
    signed = Member.objects.get(pk=member.pk).sales_stage == c.SalesStage.SIGNED
    assert signed == (final.status == ContractStatus.EFFECTIVE)


def test_ledger_counts_introductions_and_dates_against_the_promise(crew):
    from hongniang.finance import selectors
    from hongniang.matching.models import Appointment, AppointmentStatus, Recommendation

    member = add_member(crew["aa1"])
    other = add_member(crew["aa1"], sex=c.Sex.MALE)
    today = timezone.localdate()
    contract = effective(
        crew, member, plans=[plan(intros=2, dates=1)], service_start=today.replace(day=1)
    )
    rows = selectors.ledger(contract, today)
    assert rows[-1]["intros"] == 0 and rows[-1]["behind"]
    Recommendation.objects.create(
        member=member, candidate=other, reason="性格合适", recommended_by=crew["aa1"]
    )
    Recommendation.objects.create(
        member=member,
        candidate=add_member(crew["aa1"], sex=c.Sex.MALE),
        reason="同城",
        recommended_by=crew["aa1"],
    )
    Appointment.objects.create(
        member=other,
        partner=member,
        starts_at=timezone.now(),
        place="咖啡馆",
        status=AppointmentStatus.PLANNED,
    )
    rows = selectors.ledger(contract, today)
    assert (rows[-1]["intros"], rows[-1]["dates"], rows[-1]["behind"]) == (2, 1, False)
    # In the last week of the month, a member short of the promise is on the list.
    last_week = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=2)
    short = effective(
        crew,
        add_member(crew["aa1"]),
        plans=[plan(intros=3, dates=0)],
        service_start=today.replace(day=1),
    )
    behind = selectors.behind_promise(viewer=crew["aa1"], today=last_week)
    assert [p.contract_id for p in behind] == [short.pk]
    assert selectors.behind_promise(viewer=crew["bb1"], today=last_week) == []
