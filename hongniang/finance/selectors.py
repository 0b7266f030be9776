"""Reads of the finance module, always scoped to the viewer through the member."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from hongniang.finance.models import (
    IN_FORCE,
    ZERO,
    Contract,
    ContractStatus,
    Payment,
    Refund,
    ServicePlan,
)
from hongniang.members import personal_data as pd
from hongniang.members.models import Member
from hongniang.staff.models import Staff, StaffStatus
from hongniang.staff.visibility import visible_staff_q

# Tabs of the contract list beside the statuses (whitepaper 2.4.1: 到期未续费 and reminders).
ENDING_30, ENDING_7, EXPIRED = "ending_30", "ending_7", "expired"


def plans_on_sale() -> QuerySet:
    return ServicePlan.objects.filter(active=True)


def plans_for_contract(contract: Contract | None) -> QuerySet:
    """The plans on sale, plus those already on the contract (a plan may retire meanwhile)."""
    q = Q(active=True)
    if contract is not None and contract.pk:
        q |= Q(pk__in=contract.plans.values("pk"))
    return ServicePlan.objects.filter(q)


def signing_staff(viewer) -> QuerySet:
    return Staff.objects.filter(visible_staff_q(viewer), status=StaffStatus.NORMAL).order_by("name")


def contract_get(*, viewer, pk: int) -> Contract:
    return get_object_or_404(
        Contract.objects.visible_to(viewer).select_related(
            "member", "signed_by", "store", "approved_by", "created_by", "renewal_of"
        ),
        pk=pk,
    )


def refund_get(*, viewer, pk: int) -> Refund:
    return get_object_or_404(
        Refund.objects.visible_to(viewer).select_related(
            "contract", "contract__member", "requested_by", "decided_by"
        ),
        pk=pk,
    )


def _members_matching(q: str) -> QuerySet:
    """Keys of the members a search box's text names: by UID, user name, a part of the name, or
    an exact mobile or ID number (stored encrypted: found through their keyed hashes).

    A subquery of member keys, so that a list tests one indexed column (`member_id IN …`) OR its
    own number, instead of joining every row to its member; the outer list stays scoped to the
    viewer, so a number never reveals another team's member."""
    hashes = {"mobile_hash": set(), "id_number_hash": set()}
    for normalize, field in (
        (pd.normalize_mobile, "mobile_hash"),
        (pd.normalize_resident_id, "id_number_hash"),
        (_other_id_number, "id_number_hash"),
    ):
        try:
            hashes[field].add(pd.lookup_hash(normalize(q)))
        except ValidationError:
            continue
    cond = Q(username=q)
    if q.isdigit():
        cond |= Q(pk=int(q))
    if not q.upper().rstrip("X").isdigit():  # digits are a UID or a number, never a name
        cond |= Q(name__contains=q)
    for field, values in hashes.items():
        if values:
            cond |= Q(**{f"{field}__in": values})
    return Member.objects.filter(cond).order_by().values("pk")


def _other_id_number(q: str) -> str:
    """A passport or other ID number as it is stored (trimmed, upper case: see
    `members.services.check_personal_data`); too short to be one: nothing."""
    text = q.strip().upper()
    if len(text) < 6:
        raise ValidationError("short")
    return text


def _number_q(field: str, q: str) -> Q:
    """A contract or refund number beginning with the text, as a range of the unique index
    (SQLite uses no index for LIKE 'HT%')."""
    prefix = q.upper()
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})


def contract_list(*, viewer, filters: dict | None = None, tab: str = "", today=None) -> QuerySet:
    f = filters or {}
    qs = Contract.objects.visible_to(viewer).select_related("member", "signed_by", "store")
    today = today or timezone.localdate()
    if tab in (ENDING_30, ENDING_7):
        days = 30 if tab == ENDING_30 else 7
        qs = qs.filter(
            status=ContractStatus.EFFECTIVE,
            service_end__gte=today,
            service_end__lte=today + timedelta(days=days),
        ).order_by("service_end", "pk")
    elif tab == EXPIRED:
        qs = (
            qs.filter(status__in=IN_FORCE, service_end__lt=today, renewed_by__isnull=True)
            .exclude(status=ContractStatus.REFUNDED)
            .order_by("-service_end", "-pk")
        )
    elif tab in ContractStatus.values:
        qs = qs.filter(status=tab)
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    if f.get("store"):
        qs = qs.filter(store=f["store"])
    if f.get("start"):
        qs = qs.filter(created_at__date__gte=f["start"])
    if f.get("end"):
        qs = qs.filter(created_at__date__lte=f["end"])
    q = (f.get("q") or "").strip()
    if q:
        qs = qs.filter(_number_q("number", q) | Q(member_id__in=_members_matching(q)))
    return qs


# How far back an expired, unrenewed contract is still a reminder (the list's tab shows all).
EXPIRED_REMINDER_DAYS = 30


def renewals_due(*, viewer, tab: str, today=None) -> QuerySet:
    """Reminders for whoever handles renewals: contracts ending within 7 days (ENDING_7), or
    expired in the last 30 days and not renewed (EXPIRED), that the viewer signed or whose
    member they serve after sales, or that someone below them did (their managers, up to the
    administrator). Finance staff, who sign nothing and have nobody below them, are not
    reminded of every contract they can see."""
    today = today or timezone.localdate()
    qs = contract_list(viewer=viewer, tab=tab, today=today)
    if tab == EXPIRED:
        qs = qs.filter(service_end__gte=today - timedelta(days=EXPIRED_REMINDER_DAYS))
    below = Staff.objects.filter(path__startswith=viewer.path).values("pk")
    return qs.filter(Q(signed_by__in=below) | Q(member__aftersales_owner__in=below))


def payment_list(*, viewer, filters: dict | None = None) -> QuerySet:
    f = filters or {}
    qs = Payment.objects.visible_to(viewer).select_related("member", "contract", "recorded_by")
    if f.get("start"):
        qs = qs.filter(paid_on__gte=f["start"])
    if f.get("end"):
        qs = qs.filter(paid_on__lte=f["end"])
    q = (f.get("q") or "").strip()
    if q:
        qs = qs.filter(
            _number_q("contract__number", q)
            | Q(reference=q)
            | Q(member_id__in=_members_matching(q))
        )
    return qs


def refund_list(*, viewer, filters: dict | None = None) -> QuerySet:
    f = filters or {}
    qs = Refund.objects.visible_to(viewer).select_related(
        "contract", "contract__member", "requested_by", "decided_by"
    )
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    if f.get("start"):
        qs = qs.filter(requested_at__date__gte=f["start"])
    if f.get("end"):
        qs = qs.filter(requested_at__date__lte=f["end"])
    q = (f.get("q") or "").strip()
    if q:
        qs = qs.filter(
            _number_q("number", q)
            | _number_q("contract__number", q)
            | Q(contract__member_id__in=_members_matching(q))
        )
    return qs


def instalment_states(contract: Contract) -> list[dict]:
    """Each instalment as paid, due or overdue: the money received pays them in date order."""
    left = contract.paid_total
    today = timezone.localdate()
    rows = []
    for part in contract.instalments.all():
        if left >= part.amount:
            state = "paid"
            left -= part.amount
        else:
            state = "overdue" if part.due_on < today else "due"
            left = 0
        rows.append({"due_on": part.due_on, "amount": part.amount, "state": state})
    return rows


def member_contracts(*, viewer, member) -> QuerySet:
    return Contract.objects.visible_to(viewer).filter(member=member).order_by("-created_at")


# --- the sales report (whitepaper 2.6.4) ---

REPORT_WINDOWS = {"week": 7, "month": 30, "quarter": 91, "half": 182, "year": 365}


def report_range(window: str, start=None, end=None, today=None):
    """The report's first and last day: a named window ending today, or a chosen range."""
    today = today or timezone.localdate()
    if window == "range" and start and end:
        return (start, end) if start <= end else (end, start)
    days = REPORT_WINDOWS.get(window, REPORT_WINDOWS["month"])
    return today - timedelta(days=days - 1), today


def _team(viewer, qs, field="staff"):
    from hongniang.staff.visibility import DataScope, user_scope

    if user_scope(viewer) == DataScope.ALL:
        return qs
    return qs.filter(
        **{f"{field}_id__in": Staff.objects.filter(visible_staff_q(viewer)).values("pk")}
    )


def sales_report(*, viewer, start, end) -> dict:
    """Contracts signed, contract value, money received, refunded and net over [start, end],
    in total, by matchmaker (ranked by net), by store, by plan, and day by day (month by month
    over long ranges). A manager sees their team; finance and administrators everything.

    The database adds up the daily totals of the range grouped three ways (matchmaker, store,
    day): a few hundred rows come back however many payments there were."""
    from collections import defaultdict

    from django.db.models import Sum

    from hongniang.finance.models import PlanDay, SalesDay
    from hongniang.staff.models import Store

    monthly = (end - start).days > 92
    rows = _team(viewer, SalesDay.objects.filter(day__gte=start, day__lte=end)).order_by()
    sums = {
        "contracts": Sum("contracts"),
        "value": Sum("contract_value"),
        "received": Sum("received"),
        "refunded": Sum("refunded"),
    }

    def bucket():
        return {"contracts": 0, "value": ZERO, "received": ZERO, "refunded": ZERO}

    def finish(d, **extra):
        d = {
            k: (d[k] if d[k] is not None else bucket()[k])
            for k in ("contracts", "value", "received", "refunded")
        }
        return {**d, "net": d["received"] - d["refunded"], **extra}

    by_staff = [finish(r, staff_id=r["staff_id"]) for r in rows.values("staff_id").annotate(**sums)]
    staff_names = dict(
        Staff.objects.filter(pk__in=[r["staff_id"] for r in by_staff]).values_list("pk", "name")
    )
    for r in by_staff:
        r["name"] = staff_names.get(r["staff_id"], "—")
    by_staff.sort(key=lambda r: (-r["net"], -r["value"], r["name"]))
    by_store = [finish(r, store_id=r["store_id"]) for r in rows.values("store_id").annotate(**sums)]
    store_names = dict(
        Store.objects.filter(pk__in=[r["store_id"] for r in by_store]).values_list("pk", "name")
    )
    for r in by_store:
        r["name"] = store_names.get(r["store_id"], "—")
    by_store.sort(key=lambda r: (-r["net"], r["name"]))
    # Grouped by day in the database, by month here (a month of a date is not portable SQL).
    periods: dict = defaultdict(bucket)
    total = bucket()
    for r in rows.values("day").annotate(**sums):
        key = r["day"].replace(day=1) if monthly else r["day"]
        for target in (periods[key], total):
            for k in ("contracts", "value", "received", "refunded"):
                target[k] += r[k] or 0
    keys = (
        list(_month_starts(start, end))
        if monthly
        else [start + timedelta(days=n) for n in range((end - start).days + 1)]
    )
    label = "%Y-%m" if monthly else "%m-%d"
    trend = [{"day": k.strftime(label), **finish(periods.get(k) or bucket())} for k in keys]
    plan_rows = _team(viewer, PlanDay.objects.filter(day__gte=start, day__lte=end)).order_by()
    by_plan = list(
        plan_rows.values("plan_id", "plan__name")
        .annotate(contracts=Sum("contracts"), value=Sum("contract_value"))
        .order_by("-value")
    )
    return {
        "start": start,
        "end": end,
        "total": finish(total),
        "by_staff": by_staff,
        "by_store": by_store,
        "by_plan": by_plan,
        "trend": trend,
        "monthly": monthly,
    }


# --- the promise ledger: promised vs delivered, month by month ---


def _month_starts(first, last):
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _delivered(member_ids, start, end) -> tuple[dict, dict]:
    """Introductions (recommendations presented to the member) and arranged dates (appointments
    not cancelled, on either side) per (member, month) between two dates."""
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    from hongniang.matching.models import Appointment, AppointmentStatus, Recommendation

    intros = {}
    for row in (
        Recommendation.objects.filter(
            member_id__in=member_ids, created_at__date__gte=start, created_at__date__lte=end
        )
        .annotate(m=TruncMonth("created_at"))
        .values("member_id", "m")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        intros[(row["member_id"], row["m"].date() if hasattr(row["m"], "date") else row["m"])] = (
            row["n"]
        )
    dates: dict = {}
    live = Appointment.objects.exclude(status=AppointmentStatus.CANCELLED).filter(
        starts_at__date__gte=start, starts_at__date__lte=end
    )
    for side in ("member_id", "partner_id"):
        for row in (
            live.filter(**{f"{side}__in": member_ids})
            .annotate(m=TruncMonth("starts_at"))
            .values(side, "m")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            key = (row[side], row["m"].date() if hasattr(row["m"], "date") else row["m"])
            dates[key] = dates.get(key, 0) + row["n"]
    return intros, dates


def ledger(contract: Contract, today=None) -> list[dict]:
    """Each month of the contract up to this one: introductions and dates promised and
    delivered; `behind` when a finished month (or this one) is short of the promise."""
    today = today or timezone.localdate()
    last = min(contract.service_end, today)
    if not contract.in_force or last < contract.service_start:
        return []
    intros, dates = _delivered([contract.member_id], contract.service_start, last)
    rows = []
    for month in _month_starts(contract.service_start, last):
        got_i = intros.get((contract.member_id, month), 0)
        got_d = dates.get((contract.member_id, month), 0)
        rows.append(
            {
                "month": month,
                "intros_promised": contract.introductions_per_month,
                "intros": got_i,
                "dates_promised": contract.dates_per_month,
                "dates": got_d,
                "behind": got_i < contract.introductions_per_month
                or got_d < contract.dates_per_month,
            }
        )
    return rows


def promise_this_month(*, viewer, today=None) -> list[tuple[Contract, int, int]]:
    """The members the viewer serves (their after-sales matchmaker, or pre-sales while none)
    with a contract in force today that promises something each month, and what they have had
    this month: (contract, introductions, dates), members furthest behind first."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    contracts = list(
        Contract.objects.visible_to(viewer)
        .filter(
            status__in=(ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED),
            service_start__lte=today,
            service_end__gte=today,
        )
        .filter(
            Q(member__aftersales_owner=viewer)
            | Q(member__aftersales_owner__isnull=True, member__presales_owner=viewer)
        )
        .filter(Q(introductions_per_month__gt=0) | Q(dates_per_month__gt=0))
        .select_related("member")
        .order_by("pk")
    )
    if not contracts:
        return []
    intros, dates = _delivered([k.member_id for k in contracts], month, today)
    rows = [
        (k, intros.get((k.member_id, month), 0), dates.get((k.member_id, month), 0))
        for k in contracts
    ]
    rows.sort(key=lambda r: (-_shortfall(*r), r[0].pk))
    return rows


def _shortfall(contract: Contract, intros: int, dates: int) -> int:
    return max(contract.introductions_per_month - intros, 0) + max(
        contract.dates_per_month - dates, 0
    )


def behind_promise(*, viewer, today=None) -> list[tuple[Contract, int, int]]:
    """In the last week of a month: the members the viewer serves who have had fewer
    introductions or dates this month than their contract promises (a task for the matchmaker
    while there is still time to catch up)."""
    today = today or timezone.localdate()
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    if (next_month - today).days > 7:
        return []
    return [r for r in promise_this_month(viewer=viewer, today=today) if _shortfall(*r)]


def member_ledger(*, viewer, member, today=None) -> tuple[Contract | None, list[dict]]:
    """The member's contract in force today (else the latest in force) and its ledger, for the
    member's page; (None, []) when the member has no contract in force."""
    today = today or timezone.localdate()
    in_force = (
        Contract.objects.visible_to(viewer)
        .filter(member=member, status__in=IN_FORCE)
        .exclude(status=ContractStatus.REFUNDED)
    )
    contract = (
        in_force.filter(service_start__lte=today, service_end__gte=today)
        .order_by("-service_start", "-pk")
        .first()
        or in_force.order_by("-service_end", "-pk").first()
    )
    if contract is None:
        return None, []
    return contract, ledger(contract, today=today)


def outcome_report(*, viewer, start, end) -> list[dict]:
    """Beside sales, what each matchmaker's work led to over [start, end]: introductions made,
    how many were answered yes (of those answered), dates held and dates after which the pair
    went on, and refunds paid out on contracts they signed. A manager sees their team."""
    from collections import defaultdict
    from datetime import datetime, time

    from django.db.models import Count, Q

    from hongniang.finance.models import RefundStatus
    from hongniang.matching.models import (
        Appointment,
        AppointmentOutcome,
        AppointmentStatus,
        Recommendation,
        RecommendationStatus,
    )

    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    rows: dict = defaultdict(
        lambda: {"intros": 0, "yes": 0, "answered": 0, "dates": 0, "going_on": 0, "refunds": 0}
    )
    recs = _team(
        viewer,
        Recommendation.objects.filter(created_at__gte=since, created_at__lt=until),
        "recommended_by",
    )
    for r in (
        recs.values("recommended_by_id")
        .annotate(
            n=Count("pk"),
            yes=Count("pk", filter=Q(status=RecommendationStatus.ACCEPTED)),
            answered=Count(
                "pk",
                filter=Q(status__in=[RecommendationStatus.ACCEPTED, RecommendationStatus.DECLINED]),
            ),
        )
        .order_by()
    ):
        row = rows[r["recommended_by_id"]]
        row.update(intros=r["n"], yes=r["yes"], answered=r["answered"])
    dates = _team(
        viewer,
        Appointment.objects.filter(
            starts_at__gte=since, starts_at__lt=until, status=AppointmentStatus.HELD
        ),
        "arranged_by",
    )
    for r in (
        dates.values("arranged_by_id")
        .annotate(n=Count("pk"), on=Count("pk", filter=Q(outcome=AppointmentOutcome.CONTINUE)))
        .order_by()
    ):
        rows[r["arranged_by_id"]].update(dates=r["n"], going_on=r["on"])
    refunds = _team(
        viewer,
        Refund.objects.filter(
            status=RefundStatus.APPROVED, decided_at__gte=since, decided_at__lt=until
        ),
        "contract__signed_by",
    )
    for r in refunds.values("contract__signed_by_id").annotate(n=Count("pk")).order_by():
        rows[r["contract__signed_by_id"]]["refunds"] = r["n"]
    rows.pop(None, None)
    names = dict(Staff.objects.filter(pk__in=list(rows)).values_list("pk", "name"))
    out = []
    for pk, row in rows.items():
        rate = round(100 * row["yes"] / row["answered"]) if row["answered"] else None
        out.append({"staff_id": pk, "name": names.get(pk, "—"), "yes_rate": rate, **row})
    out.sort(key=lambda r: (-r["going_on"], -r["dates"], -r["intros"], r["name"]))
    return out
