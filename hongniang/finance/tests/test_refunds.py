"""Refunds (whitepaper 2.6.3): against an effective contract, at most what was paid minus what
was refunded, decided by finance with the security password; money races never double-count."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.finance import services
from hongniang.finance.models import Contract, ContractStatus, Refund, RefundStatus
from hongniang.finance.tests.helpers import SECURE, approve, draft, effective, finance_crew, plan
from hongniang.members import choices as c
from hongniang.members import journey
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member


@pytest.fixture
def crew(org):
    return finance_crew(org)


def request(crew, contract, amount, reason="会员因工作调动离开本市"):
    return services.refund_request(
        actor=crew["aa1"], contract=contract, amount=amount, reason=reason
    )


@pytest.mark.django_db
def test_partial_then_full_refund_moves_the_contract_and_ends_the_service(crew):
    member = add_member(crew["aa1"])
    contract = effective(crew, member)
    member.refresh_from_db()
    journey.advance(actor=None, member=member, step="start_service")
    first = request(crew, contract, "5000")
    services.refund_approve(actor=crew["fin"], refund=first, security_password=SECURE)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PARTLY_REFUNDED
    assert contract.refunded_total == Decimal("5000.00")
    second = request(crew, contract, "14800")
    services.refund_approve(actor=crew["fin"], refund=second, security_password=SECURE)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.REFUNDED
    assert Member.objects.get(pk=member.pk).service_status == c.ServiceStatus.FINISHED


@pytest.mark.django_db
def test_refund_limits_and_refusals(crew):
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member)
    with pytest.raises(ValidationError):  # not effective yet
        request(crew, contract, "100")
    services.contract_submit(actor=crew["aa1"], contract=contract)
    approve(crew["fin"], contract, amount="19800")
    with pytest.raises(ValidationError) as err:
        request(crew, contract, "19800.01")
    assert "amount" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        request(crew, contract, "100", reason=" ")
    assert "reason" in err.value.error_dict
    with pytest.raises(PermissionDenied):
        services.refund_request(actor=crew["bb1"], contract=contract, amount="1", reason="x")
    refund = request(crew, contract, "1000")
    with pytest.raises(ValidationError):  # one open request at a time
        request(crew, contract, "1000")
    with pytest.raises(PermissionDenied):
        services.refund_approve(actor=crew["aa1"], refund=refund, security_password=SECURE)
    with pytest.raises(ValidationError):
        services.refund_approve(actor=crew["fin"], refund=refund, security_password="nope")
    with pytest.raises(ValidationError) as err:  # a changed amount needs a reason
        services.refund_approve(
            actor=crew["fin"], refund=refund, security_password=SECURE, amount="800"
        )
    assert "note" in err.value.error_dict
    services.refund_approve(
        actor=crew["fin"], refund=refund, security_password=SECURE, amount="800", note="已服务部分"
    )
    refund.refresh_from_db()
    assert (refund.status, refund.amount) == (RefundStatus.APPROVED, Decimal("800.00"))
    with pytest.raises(ValidationError):  # decided once
        services.refund_reject(actor=crew["fin"], refund=refund, note="x")
    assert Contract.objects.get(pk=contract.pk).refunded_total == Decimal("800.00")


@pytest.mark.django_db
def test_pro_rata_proposal_follows_the_time_left(crew):
    member = add_member(crew["aa1"])
    today = timezone.localdate()
    contract = effective(
        crew,
        member,
        service_start=today - timedelta(days=100),
        service_end=today + timedelta(days=100),
        amount="20000",
    )
    assert services.refund_proposal(contract, today) == Decimal("10000.00")
    assert services.refund_proposal(contract, today + timedelta(days=200)) == Decimal("0.00")
    assert services.refund_proposal(contract, today - timedelta(days=300)) == Decimal("20000.00")


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    paid=st.decimals(min_value=Decimal("1"), max_value=Decimal("99999"), places=2),
    asks=st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("120000"), places=2), max_size=6
    ),
)
def test_refunds_never_exceed_what_was_paid(crew, paid, asks):
    member = add_member(crew["aa1"])
    contract = effective(crew, member, amount=str(paid), plans=[plan()])
    for ask in asks:
        try:
            refund = request(crew, Contract.objects.get(pk=contract.pk), ask)
            services.refund_approve(actor=crew["fin"], refund=refund, security_password=SECURE)
        except ValidationError:
            pass
        stored = Contract.objects.get(pk=contract.pk)
        approved = sum(
            r.amount for r in Refund.objects.filter(contract=stored, status=RefundStatus.APPROVED)
        )
        assert stored.refunded_total == (approved or Decimal("0"))
        assert Decimal("0") <= stored.refunded_total <= stored.paid_total == paid
        Refund.objects.filter(contract=stored, status=RefundStatus.REQUESTED).delete()


def _race(*calls):
    """Run the calls at the same moment in threads (each with its own connection)."""
    barrier = threading.Barrier(len(calls))
    errors: list = []

    def run(fn):
        try:
            barrier.wait()
            fn()
        except (ValidationError, PermissionDenied) as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL's row locks"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_finance_users_approving_at_once_count_the_money_once(crew):
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member)
    services.contract_submit(actor=crew["aa1"], contract=contract)
    errors = _race(
        lambda: approve(crew["fin"], Contract.objects.get(pk=contract.pk)),
        lambda: approve(crew["fin2"], Contract.objects.get(pk=contract.pk)),
    )
    stored = Contract.objects.get(pk=contract.pk)
    assert len(errors) == 1
    assert stored.payments.count() == 1
    assert stored.paid_total == Decimal("19800.00")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_refunds_never_take_more_than_was_paid(crew):
    member = add_member(crew["aa1"])
    contract = effective(crew, member, amount="10000")
    # Two open requests of 6,000 each (made one after the other, decided at once).
    first = request(crew, contract, "6000")
    Refund.objects.filter(pk=first.pk).update(status=RefundStatus.REQUESTED)
    second = Refund.objects.create(
        contract=contract,
        number="TK-test-2",
        requested_amount=Decimal("6000"),
        reason="并发测试",
        requested_by=crew["aa1"],
    )
    errors = _race(
        lambda: services.refund_approve(actor=crew["fin"], refund=first, security_password=SECURE),
        lambda: services.refund_approve(
            actor=crew["fin2"], refund=second, security_password=SECURE
        ),
    )
    stored = Contract.objects.get(pk=contract.pk)
    assert len(errors) == 1
    assert stored.refunded_total == Decimal("6000.00")
    assert Refund.objects.filter(contract=stored, status=RefundStatus.APPROVED).count() == 1
