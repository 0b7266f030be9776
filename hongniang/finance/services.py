"""Every write of the finance module (whitepaper 2.6): plans, the contract workflow, payments,
refunds. Each checks the actor's right and the member's visibility, and changes state with a
conditional update, so two finance users clicking at once change it once."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.finance import outcomes
from hongniang.finance.counters import bump
from hongniang.finance.models import (
    EDITABLE,
    IN_FORCE,
    ZERO,
    Contract,
    ContractStatus,
    FeeType,
    Instalment,
    Payment,
    PaymentType,
    PlanDay,
    Refund,
    RefundStatus,
    SalesDay,
    ServicePlan,
)
from hongniang.members import choices as c
from hongniang.members import journey
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.staff.permissions import can
from hongniang.staff.services import verify_security_password

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")


def _require(actor, action: str) -> None:
    if not can(actor, "finance", action):
        raise PermissionDenied


def clean_amount(value, *, field: str = "amount") -> Decimal:
    """A plausible positive amount of yuan with at most two decimals."""
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, ValueError):
        raise ValidationError({field: _("Enter an amount in yuan.")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({field: _("The amount must be more than zero.")})
    if amount > MAX_AMOUNT:
        raise ValidationError({field: _("The amount is implausibly large.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("Use at most two decimals (fen).")})
    return amount.quantize(CENT)


def _event(member_id: int, actor, summary: str, data: dict) -> None:
    MemberEvent.objects.create(
        member_id=member_id, actor=actor, kind=EventKind.CONTRACT, summary=summary[:300], data=data
    )


# --- the sales report's daily totals ---


def _count_signing(contract: Contract, day: date) -> None:
    key = {"day": day, "staff_id": contract.signed_by_id, "store_id": contract.store_id}
    bump(SalesDay, key, contracts=1, contract_value=contract.amount)
    for plan_id in contract.plans.values_list("pk", flat=True):
        bump(
            PlanDay,
            {"day": day, "plan_id": plan_id, "staff_id": contract.signed_by_id},
            contracts=1,
            contract_value=contract.amount,
        )


def _count_money(contract: Contract, day: date, *, received=ZERO, refunded=ZERO) -> None:
    key = {"day": day, "staff_id": contract.signed_by_id, "store_id": contract.store_id}
    bump(SalesDay, key, received=received, refunded=refunded)


@transaction.atomic
def rebuild_sales_days() -> int:
    """Recompute the daily totals from contracts, payments and refunds (after a data repair,
    or to check that the kept totals are right)."""
    from collections import defaultdict

    SalesDay.objects.all().delete()
    PlanDay.objects.all().delete()
    days: dict = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
    plans: dict = defaultdict(lambda: [0, ZERO])
    signed = Contract.objects.filter(status__in=IN_FORCE, approved_at__isnull=False)
    plan_ids = defaultdict(list)
    for contract_id, plan_id in Contract.plans.through.objects.filter(
        contract__in=signed
    ).values_list("contract_id", "serviceplan_id"):
        plan_ids[contract_id].append(plan_id)
    for pk, staff, store, amount, at in signed.values_list(
        "pk", "signed_by_id", "store_id", "amount", "approved_at"
    ):
        day = timezone.localdate(at)
        row = days[(day, staff, store)]
        row[0] += 1
        row[1] += amount
        for plan_id in plan_ids[pk]:
            plans[(day, plan_id, staff)][0] += 1
            plans[(day, plan_id, staff)][1] += amount
    for day, staff, store, amount in Payment.objects.values_list(
        "paid_on", "contract__signed_by_id", "contract__store_id", "amount"
    ).iterator(chunk_size=5000):
        days[(day, staff, store)][2] += amount
    for at, staff, store, amount in Refund.objects.filter(status=RefundStatus.APPROVED).values_list(
        "decided_at", "contract__signed_by_id", "contract__store_id", "amount"
    ):
        days[(timezone.localdate(at), staff, store)][3] += amount
    SalesDay.objects.bulk_create(
        (
            SalesDay(
                day=day,
                staff_id=staff,
                store_id=store,
                contracts=n,
                contract_value=v,
                received=r,
                refunded=f,
            )
            for (day, staff, store), (n, v, r, f) in days.items()
        ),
        batch_size=2000,
    )
    PlanDay.objects.bulk_create(
        (
            PlanDay(day=day, plan_id=plan, staff_id=staff, contracts=n, contract_value=v)
            for (day, plan, staff), (n, v) in plans.items()
        ),
        batch_size=2000,
    )
    return len(days)


# --- service plans ---


def check_plan(plan: ServicePlan) -> None:
    """The fees must match the fee type: a plan charges what its type says, and only that."""
    fees = {"price": plan.price, "monthly_fee": plan.monthly_fee, "success_fee": plan.success_fee}
    charged = {name for name, value in fees.items() if value and value > 0}
    needs = {
        FeeType.ONE_OFF: ({"price"}, _("A one-off plan has a price and no other fee.")),
        FeeType.PERIODIC: (
            {"monthly_fee"},
            _("An activation + monthly plan has a monthly fee and no success fee."),
        ),
        FeeType.SUCCESS: ({"success_fee"}, _("A success-fee plan has a success fee.")),
    }
    if plan.fee_type in needs:
        required, message = needs[plan.fee_type]
        allowed = required | ({"price"} if plan.fee_type != FeeType.ONE_OFF else set())
        if not required <= charged or charged - allowed:
            raise ValidationError({"fee_type": message})
    elif len(charged) < 2:
        raise ValidationError({"fee_type": _("A mixed plan charges at least two kinds of fee.")})


@transaction.atomic
def plan_save(*, actor, plan: ServicePlan) -> ServicePlan:
    _require(actor, "edit")
    check_plan(plan)
    plan.save()
    return plan


# --- contracts ---


def next_contract_number(today: date | None = None) -> str:
    """HT + the date + a four-digit serial of the day: HT202611250001."""
    today = today or timezone.localdate()
    prefix = f"HT{today:%Y%m%d}"
    last = (
        Contract.objects.filter(number__startswith=prefix, number__regex=r"^HT\d{12}$")
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    serial = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{serial:04d}"


def _check_terms(contract: Contract, plans: list, instalments: list[tuple]) -> None:
    errors = {}
    member = contract.member
    if member.sales_stage == c.SalesStage.ABANDONED:
        errors["member"] = _("This member was abandoned: reopen them before signing a contract.")
    if not plans:
        errors["plans"] = _("Choose at least one service plan.")
    else:
        # A plan retired after the contract was entered may stay on it; a new sale needs a plan
        # on sale.
        kept = set(contract.plans.values_list("pk", flat=True)) if contract.pk else set()
        retired = [p for p in plans if not p.active and p.pk not in kept]
        if retired:
            errors["plans"] = _("A retired plan cannot be sold: %(names)s.") % {
                "names": "、".join(p.name for p in retired)
            }
    if contract.service_start and contract.service_end:
        if contract.service_end <= contract.service_start:
            errors["service_end"] = _("The service must end after it starts.")
        elif (contract.service_end - contract.service_start).days > 366 * 10:
            errors["service_end"] = _("A contract runs for at most ten years.")
    if contract.payment_type != PaymentType.FULL:
        total = sum((amount for _due, amount in instalments), ZERO)
        if len(instalments) < 2 or (
            contract.payment_type == PaymentType.DEPOSIT and len(instalments) != 2
        ):
            errors["payment_type"] = _(
                "Give the deposit and the balance (or each instalment) with its due date."
            )
        elif total != contract.amount:
            errors["payment_type"] = _(
                "The payments add up to %(total)s yuan, not the agreed %(amount)s yuan."
            ) % {"total": total, "amount": contract.amount}
    elif instalments:
        errors["payment_type"] = _("A contract paid in full has no instalments.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def contract_save(
    *, actor, contract: Contract, plans: list, instalments: list[tuple] | None = None
) -> Contract:
    """Enter a new contract or change a draft or rejected one (its terms are frozen after)."""
    _require(actor, "add")
    instalments = sorted(instalments or [])
    if not Member.objects.visible_to(actor).filter(pk=contract.member_id).exists():
        raise PermissionDenied
    if contract.pk is not None:
        stored = Contract.objects.select_for_update().get(pk=contract.pk)
        if stored.status not in EDITABLE:
            raise ValidationError(
                _("Only a draft or a rejected contract can be changed; this one is “%(s)s”.")
                % {"s": stored.get_status_display()}
            )
        contract.status = stored.status
    else:
        contract.created_by = actor
        contract.status = ContractStatus.DRAFT
    contract.amount = clean_amount(contract.amount)
    _check_terms(contract, plans, instalments)
    contract.introductions_per_month = sum(p.introductions_per_month for p in plans)
    contract.dates_per_month = sum(p.dates_per_month for p in plans)
    manual = bool(contract.number)
    if not manual:
        contract.number = next_contract_number()
    if Contract.objects.filter(number=contract.number).exclude(pk=contract.pk).exists():
        raise ValidationError({"number": _("This contract number is already used.")})
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        # Two contracts numbered in the same instant: the second takes the next number.
        if manual:
            raise ValidationError({"number": _("This contract number is already used.")}) from None
        contract.number = next_contract_number()
        contract.save()
    contract.plans.set(plans)
    contract.instalments.all().delete()
    Instalment.objects.bulk_create(
        Instalment(contract=contract, due_on=due, amount=amount) for due, amount in instalments
    )
    return contract


def _move(contract: Contract, source: tuple, **changes) -> None:
    """Change the status only if it is still one of `source`: the second of two clicks fails."""
    moved = Contract.objects.filter(pk=contract.pk, status__in=source).update(**changes)
    if not moved:
        current = Contract.objects.values_list("status", flat=True).get(pk=contract.pk)
        raise ValidationError(
            _("The contract is now “%(s)s”: someone else has just acted on it.")
            % {"s": ContractStatus(current).label}
        )
    for name, value in changes.items():
        setattr(contract, name, value)


@transaction.atomic
def contract_submit(*, actor, contract: Contract) -> Contract:
    _require(actor, "add")
    if not Member.objects.visible_to(actor).filter(pk=contract.member_id).exists():
        raise PermissionDenied
    _move(
        contract,
        EDITABLE,
        status=ContractStatus.SUBMITTED,
        submitted_at=timezone.now(),
        reject_reason="",
    )
    _event(
        contract.member_id,
        actor,
        _("Contract %(n)s submitted to finance") % {"n": contract.number},
        {"contract": contract.pk, "step": "submitted"},
    )
    return contract


@transaction.atomic
def contract_reject(*, actor, contract: Contract, reason: str) -> Contract:
    _require(actor, "approve")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Please give a reason.")})
    _move(
        contract,
        (ContractStatus.SUBMITTED,),
        status=ContractStatus.REJECTED,
        reject_reason=reason[:300],
    )
    _event(
        contract.member_id,
        actor,
        _("Contract %(n)s rejected: %(r)s") % {"n": contract.number, "r": reason},
        {"contract": contract.pk, "step": "rejected"},
    )
    return contract


def contract_approve(
    *,
    actor,
    contract: Contract,
    security_password: str,
    amount,
    method: str,
    paid_on: date,
    reference: str = "",
) -> Contract:
    """Finance confirms the money received: the payment is recorded, the contract takes effect,
    the member becomes signed and waits in the 已成交待分配 pool for after-sales allocation."""
    _require(actor, "approve")
    verify_security_password(actor, security_password)
    with transaction.atomic():
        _move(
            contract,
            (ContractStatus.SUBMITTED,),
            status=ContractStatus.EFFECTIVE,
            approved_by=actor,
            approved_at=timezone.now(),
        )
        _record_payment(actor, contract, amount, method, paid_on, reference)
        _count_signing(contract, timezone.localdate(contract.approved_at))
        outcomes.refresh_promises([contract.member_id])
        member = Member.objects.get(pk=contract.member_id)
        if member.sales_stage in (c.SalesStage.NEW, c.SalesStage.FOLLOWING):
            journey.advance(actor=actor, member=member, step="sign", check_visible=False)
        _event(
            contract.member_id,
            actor,
            _("Contract %(n)s approved by finance and in effect") % {"n": contract.number},
            {"contract": contract.pk, "step": "effective"},
        )
    return contract


def _record_payment(actor, contract, amount, method, paid_on, reference) -> Payment:
    amount = clean_amount(amount)
    errors = {}
    if paid_on is None:
        errors["paid_on"] = _("Give the date the money was received.")
    elif paid_on > timezone.localdate():
        errors["paid_on"] = _("The payment date cannot be in the future.")
    if not method:
        errors["method"] = _("Choose how the money was paid.")
    if errors:
        raise ValidationError(errors)
    # Conditional on what is still due: two payments racing cannot overpay the contract.
    added = Contract.objects.filter(
        pk=contract.pk, status__in=IN_FORCE, paid_total__lte=F("amount") - amount
    ).update(paid_total=F("paid_total") + amount)
    if not added:
        raise ValidationError(
            {
                "amount": _("That is more than the %(due)s yuan still due on this contract.")
                % {"due": Contract.objects.get(pk=contract.pk).balance_due}
            }
        )
    contract.refresh_from_db(fields=["paid_total"])
    _count_money(contract, paid_on, received=amount)
    return Payment.objects.create(
        contract=contract,
        member_id=contract.member_id,
        paid_on=paid_on,
        amount=amount,
        method=method,
        reference=(reference or "").strip()[:60],
        recorded_by=actor,
    )


def payment_record(
    *,
    actor,
    contract: Contract,
    security_password: str,
    amount,
    method: str,
    paid_on: date,
    reference: str = "",
) -> Payment:
    """A later payment on a contract in force: the balance or an instalment."""
    _require(actor, "approve")
    verify_security_password(actor, security_password)
    with transaction.atomic():
        payment = _record_payment(actor, contract, amount, method, paid_on, reference)
        _event(
            contract.member_id,
            actor,
            _("Payment of %(a)s yuan on contract %(n)s")
            % {"a": payment.amount, "n": contract.number},
            {"contract": contract.pk, "payment": payment.pk},
        )
    return payment


# --- refunds ---


def refund_proposal(contract: Contract, today: date | None = None) -> Decimal:
    """Pro rata by time: what was paid and not refunded, times the share of the service period
    still ahead (all of it before the start, nothing after the end)."""
    today = today or timezone.localdate()
    total = (contract.service_end - contract.service_start).days
    left = min(max((contract.service_end - max(today, contract.service_start)).days, 0), total)
    share = Decimal(left) / Decimal(total) if total else ZERO
    return (contract.refundable * share).quantize(CENT, rounding=ROUND_HALF_UP)


def next_refund_number() -> str:
    prefix = f"TK{timezone.localdate():%Y%m%d}"
    last = (
        Refund.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    serial = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{serial:04d}"


@transaction.atomic
def refund_request(*, actor, contract: Contract, amount, reason: str) -> Refund:
    _require(actor, "add")
    if not Member.objects.visible_to(actor).filter(pk=contract.member_id).exists():
        raise PermissionDenied
    stored = Contract.objects.select_for_update().get(pk=contract.pk)
    amount = clean_amount(amount)
    reason = (reason or "").strip()
    errors = {}
    if stored.status not in (ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED):
        raise ValidationError(_("Only an effective contract can be refunded."))
    if Refund.objects.filter(contract=stored, status=RefundStatus.REQUESTED).exists():
        raise ValidationError(_("A refund of this contract is already waiting for finance."))
    if amount > stored.refundable:
        errors["amount"] = _("At most %(max)s yuan can be refunded (paid minus refunded).") % {
            "max": stored.refundable
        }
    if not reason:
        errors["reason"] = _("Please give a reason.")
    if errors:
        raise ValidationError(errors)
    refund = Refund(
        contract=stored,
        requested_amount=amount,
        proposed_amount=refund_proposal(stored),
        reason=reason[:1000],
        requested_by=actor,
    )
    for _attempt in range(3):
        refund.number = next_refund_number()
        try:
            with transaction.atomic():
                refund.save()
            break
        except IntegrityError:
            continue
    _event(
        stored.member_id,
        actor,
        _("Refund of %(a)s yuan requested on contract %(n)s") % {"a": amount, "n": stored.number},
        {"contract": stored.pk, "refund": refund.pk},
    )
    return refund


def _decide(refund: Refund, status: str, actor, **changes) -> None:
    moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
        status=status, decided_by=actor, decided_at=timezone.now(), **changes
    )
    if not moved:
        raise ValidationError(_("This refund has already been decided."))
    refund.refresh_from_db()


def refund_approve(
    *, actor, refund: Refund, security_password: str, amount=None, note: str = ""
) -> Refund:
    """Finance pays the refund out (the requested amount, or another with a reason)."""
    _require(actor, "approve")
    verify_security_password(actor, security_password)
    amount = clean_amount(refund.requested_amount if amount in (None, "") else amount)
    note = (note or "").strip()
    if amount != refund.requested_amount and not note:
        raise ValidationError({"note": _("Say why the amount differs from the request.")})
    with transaction.atomic():
        # The ceiling is checked by the update itself: refunds racing each other cannot take
        # more than was paid (and the database's own check backs it up).
        taken = Contract.objects.filter(
            pk=refund.contract_id,
            status__in=(ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED),
            refunded_total__lte=F("paid_total") - amount,
        ).update(refunded_total=F("refunded_total") + amount)
        if not taken:
            contract = Contract.objects.get(pk=refund.contract_id)
            raise ValidationError(
                {
                    "amount": _("At most %(max)s yuan can be refunded (paid minus refunded).")
                    % {"max": contract.refundable}
                }
            )
        with outcomes.counting(("refund", refund.pk)):
            _decide(refund, RefundStatus.APPROVED, actor, amount=amount, decision_note=note[:300])
        contract = Contract.objects.get(pk=refund.contract_id)
        _count_money(contract, timezone.localdate(refund.decided_at), refunded=amount)
        full = contract.refunded_total >= contract.paid_total
        Contract.objects.filter(pk=contract.pk).update(
            status=ContractStatus.REFUNDED if full else ContractStatus.PARTLY_REFUNDED
        )
        outcomes.refresh_promises([contract.member_id])  # a refunded contract promises no more
        _event(
            contract.member_id,
            actor,
            _("Refund of %(a)s yuan paid out on contract %(n)s")
            % {"a": amount, "n": contract.number},
            {"contract": contract.pk, "refund": refund.pk},
        )
        if full:
            member = Member.objects.get(pk=contract.member_id)
            still_in_force = (
                Contract.objects.filter(member=member, status__in=IN_FORCE)
                .exclude(status=ContractStatus.REFUNDED)
                .exists()
            )
            if not still_in_force and member.service_status in (
                c.ServiceStatus.IN_SERVICE,
                c.ServiceStatus.PAUSED,
            ):
                journey.advance(
                    actor=None,
                    member=member,
                    step="finish",
                    finish_reason=c.FinishReason.CONTRACT_ENDED,
                )
    return refund


@transaction.atomic
def refund_reject(*, actor, refund: Refund, note: str) -> Refund:
    _require(actor, "approve")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Please give a reason.")})
    _decide(refund, RefundStatus.REJECTED, actor, decision_note=note[:300])
    _event(
        refund.contract.member_id,
        actor,
        _("Refund request on contract %(n)s rejected: %(r)s")
        % {"n": refund.contract.number, "r": note},
        {"contract": refund.contract_id, "refund": refund.pk},
    )
    return refund


# --- attachments ---


@transaction.atomic
def attachment_add(*, actor, contract: Contract, upload, kind: str, title: str):
    """Keep a scan with the contract (allowed at any status: it adds evidence, not terms)."""
    from hongniang.finance.models import ContractAttachment

    _require(actor, "add")
    if not Contract.objects.visible_to(actor).filter(pk=contract.pk).exists():
        raise PermissionDenied
    if contract.attachments.count() >= 20:
        raise ValidationError(_("A contract keeps at most 20 files."))
    attachment = ContractAttachment(
        contract=contract, kind=kind, title=title.strip()[:60], size=upload.size, uploaded_by=actor
    )
    attachment.file.save("scan", upload, save=False)
    attachment.save()
    return attachment


# --- complaints (about the service a member receives) ---


def _require_aftersales(actor, action: str) -> None:
    if not can(actor, "aftersales", action):
        raise PermissionDenied


@transaction.atomic
def complaint_record(*, actor, member: Member, received_on: date, summary: str):
    """Record a member's complaint against the matchmaker serving them now (after-sales, else
    pre-sales). Who may add after-sales records and sees the member may record one."""
    from hongniang.finance.models import Complaint

    _require_aftersales(actor, "add")
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    summary = (summary or "").strip()
    errors = {}
    if not summary:
        errors["summary"] = _("Please say what the member complains about.")
    today = timezone.localdate()
    if received_on is None or received_on > today:
        errors["received_on"] = _("The complaint cannot be received in the future.")
    elif (today - received_on).days > 366:
        errors["received_on"] = _("Record complaints of the last twelve months only.")
    if errors:
        raise ValidationError(errors)
    complaint = Complaint.objects.create(
        member=member,
        about_id=member.aftersales_owner_id or member.presales_owner_id,
        received_on=received_on,
        summary=summary[:1000],
        recorded_by=actor,
    )
    _complaint_event(complaint, actor, _("Complaint recorded: %(s)s") % {"s": complaint.summary})
    return complaint


def _complaint_event(complaint, actor, summary: str) -> None:
    MemberEvent.objects.create(
        member_id=complaint.member_id,
        actor=actor,
        kind=EventKind.COMPLAINT,
        summary=summary[:300],
        data={"complaint": complaint.pk, "status": complaint.status},
    )


@transaction.atomic
def complaint_close(*, actor, complaint, resolution: str):
    """Close an open complaint with what was done about it (managers: after-sales approve).
    A conditional update: two managers closing it at once close it once."""
    from hongniang.finance.models import Complaint, ComplaintStatus

    _require_aftersales(actor, "approve")
    if not Complaint.objects.visible_to(actor).filter(pk=complaint.pk).exists():
        raise PermissionDenied
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Please say how the complaint was handled.")})
    now = timezone.now()
    done = Complaint.objects.filter(pk=complaint.pk, status=ComplaintStatus.OPEN).update(
        status=ComplaintStatus.CLOSED, resolution=resolution[:1000], closed_by=actor, closed_at=now
    )
    if not done:
        raise ValidationError(_("This complaint is already closed."))
    complaint.refresh_from_db()
    complaint.save()  # the audit trail's row (an update writes none)
    _complaint_event(complaint, actor, _("Complaint closed: %(s)s") % {"s": complaint.resolution})
    return complaint


# --- renewal reminders (a periodic job: finance/tasks.py) ---

ENDING_SOON_DAYS = 7
EXPIRED_REMINDER_DAYS = 30


def _renewal_handlers(contract: Contract) -> list:
    """Who handles a renewal: the signing matchmaker, the member's after-sales matchmaker, and
    the manager above each (their supervisor)."""
    people = [contract.signed_by, contract.member.aftersales_owner]
    people += [p.supervisor for p in people if p is not None and p.supervisor_id]
    unique = {p.pk: p for p in people if p is not None and p.is_active}
    return list(unique.values())


def renewal_reminders_notify(*, today: date | None = None, since: date | None = None) -> int:
    """Once per contract and kind, a notice to whoever handles the renewal: when an effective
    contract has 7 days or fewer left, and when it has expired with no renewal. Only contracts
    that entered those windows after `since` (the day of the job's last run; by default
    yesterday) are reminded of: a first run does not send the whole backlog, which the contract
    list's tabs and the to-do list show anyway. A line on the member's timeline marks the
    reminder as sent. Returns how many contracts were reminded of."""
    from django.db.models import Q
    from django.urls import reverse

    from hongniang.members.presenter import member_label
    from hongniang.messaging.services import notify

    today = today or timezone.localdate()
    since = min(since or today - timedelta(days=1), today - timedelta(days=1))
    live = (ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED)
    due = {
        # In the window from service_end - 7 days: entered after `since`.
        "ending": Q(
            status__in=live,
            service_end__gte=today,
            service_end__lte=today + timedelta(days=ENDING_SOON_DAYS),
            service_end__gt=since + timedelta(days=ENDING_SOON_DAYS),
        ),
        # Expired from the day after service_end: entered after `since`.
        "expired": Q(
            status__in=live,
            service_end__lt=today,
            service_end__gte=max(since, today - timedelta(days=EXPIRED_REMINDER_DAYS)),
            renewed_by__isnull=True,
        ),
    }
    told = 0
    for kind, q in due.items():
        contracts = Contract.objects.filter(q).select_related(
            "member__aftersales_owner__supervisor", "signed_by__supervisor"
        )
        sent = set(
            MemberEvent.objects.filter(
                kind=EventKind.CONTRACT,
                member_id__in=contracts.values("member_id"),
                data__reminder=kind,
            ).values_list("data__contract", flat=True)
        )
        for contract in contracts.order_by("pk"):
            if contract.pk in sent:
                continue
            with transaction.atomic():
                for person in _renewal_handlers(contract):
                    values = {
                        "number": contract.number,
                        "member": member_label(person, contract.member),
                        "day": contract.service_end.isoformat(),
                    }
                    text = (
                        _("Contract %(number)s of %(member)s ends on %(day)s: time to renew.")
                        if kind == "ending"
                        else _("Contract %(number)s of %(member)s ended on %(day)s, not renewed.")
                    ) % values
                    link = (
                        reverse("finance:contract", args=[contract.pk])
                        if can(person, "finance", "view")
                        else reverse("members:detail", args=[contract.member_id])
                    )
                    notify(recipient=person, text=text, link=link)
                _event(
                    contract.member_id,
                    None,
                    (
                        _("Contract %(n)s ends on %(d)s: renewal reminder sent")
                        if kind == "ending"
                        else _("Contract %(n)s expired on %(d)s without renewal: reminder sent")
                    )
                    % {"n": contract.number, "d": contract.service_end.isoformat()},
                    {"contract": contract.pk, "reminder": kind},
                )
            told += 1
    return told
