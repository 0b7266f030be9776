"""Reads of the finance module, always scoped to the viewer through the member."""

from datetime import timedelta
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.lookups import Exact, In, IsNull
from django.shortcuts import get_object_or_404
from django.utils import timezone

from hongniang.finance.models import (
    IN_FORCE,
    OUTCOME_MEASURES,
    ZERO,
    Contract,
    ContractStatus,
    Payment,
    Refund,
    ServicePlan,
)
from hongniang.finance.outcomes import month_starts
from hongniang.members import personal_data as pd
from hongniang.members.models import Member
from hongniang.members.selectors import name_q
from hongniang.staff.models import Staff, StaffStatus
from hongniang.staff.visibility import (
    DataScope,
    Unindexed,
    staff_below,
    user_scope,
    visible_staff_q,
)
from hongniang.workbench.listing import key_param

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
    """Keys of the members a search box's text names: by UID, user name, a part of the name
    (the member lists' way, `name_q`), or an exact mobile or ID number (stored encrypted: found
    through their keyed hashes).

    A subquery of member keys, so that a list tests one indexed column (`member_id IN …`) OR its
    own number, instead of joining every row to its member; the outer list stays scoped to the
    viewer, so a number never reveals another team's member. Each way is its own part (UNION
    ALL) read through its own index: as one OR, the name's LIKE made every part a pass over the
    member table (~30 ms at 100,000 members), where the name alone reads a covering index."""
    parts = [Member.objects.filter(username=q)]
    if uid := key_param(q):
        parts.append(Member.objects.filter(pk=uid))
    if not q.upper().rstrip("X").isdigit():  # digits are a UID or a number, never a name
        parts.append(Member.objects.filter(name_q(q)))
    for normalize, field in (
        (pd.normalize_mobile, "mobile_hash"),
        (pd.normalize_resident_id, "id_number_hash"),
        (_other_id_number, "id_number_hash"),
    ):
        try:
            value = pd.lookup_hash(normalize(q))
        except ValidationError:
            continue
        # stated as the partial unique index wants (hash_match)
        parts.append(Member.objects.filter(pd.hash_match(field, value)))
    first, *rest = (part.order_by().values("pk") for part in parts)
    return first.union(*rest, all=True) if rest else first


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
    # The end-date tabs read a short range of the end-date index: each contract's member is
    # tested by a join, cheaper there than collecting a large team's members first.
    per_row = tab in (ENDING_30, ENDING_7, EXPIRED)
    qs = Contract.objects.visible_to(viewer, per_row=per_row).select_related(
        "member", "signed_by", "store"
    )
    today = today or timezone.localdate()
    # The end-date tabs read a range of the end-date index, in the list's order; the status is
    # kept off its index, where SQLite would read every contract in force to test its end.
    if tab in (ENDING_30, ENDING_7):
        days = 30 if tab == ENDING_30 else 7
        qs = qs.filter(
            In(Unindexed(F("status")), [ContractStatus.EFFECTIVE]),
            service_end__gte=today,
            service_end__lte=today + timedelta(days=days),
        ).order_by("service_end", "pk")
    elif tab == EXPIRED:
        # In force and not refunded in full (IN_FORCE without REFUNDED).
        expired = [ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED]
        # Not renewed: a look-up of the renewal's unique key per contract of the range
        # (`renewed_by__isnull` is a LEFT JOIN, which PostgreSQL 15 answered by hashing the range
        # and reading every contract against it).
        renewed = Contract.objects.filter(renewal_of=OuterRef("pk"))
        qs = qs.filter(
            ~Exists(renewed), In(Unindexed(F("status")), expired), service_end__lt=today
        ).order_by("-service_end", "-pk")
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
    below, everyone = staff_below(viewer)
    if everyone:  # every contract has a signer, and all of them are below the viewer
        return qs
    return qs.filter(Q(signed_by__in=below) | Q(member__aftersales_owner__in=below))


def end_date_counts(*, viewer, today=None, ending: bool = True, renewals: bool = True) -> dict:
    """The home page's end-date counts in one query: `contract_list(tab=ENDING_30).count()`
    (`ending`) and `renewals_due(tab).count()` for ENDING_7 and EXPIRED (`renewals`), keyed by
    tab.

    One range of the end-date index covers every window. Each contract's member is looked up by
    its key in a scalar subquery, which neither database turns into a join (`member_owners`
    answers it from the index alone): PostgreSQL joined each window to the whole team instead,
    hashing a manager's 23,000 members once per count. The subquery yields 2 when the member's
    after-sales owner is below the viewer (a renewal reminder), 1 when it is only visible,
    nothing when it is not visible."""
    today = today or timezone.localdate()
    in_force = [ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED]
    windows = {}
    if ending:
        windows[ENDING_30] = Q(
            status=ContractStatus.EFFECTIVE,
            service_end__gte=today,
            service_end__lte=today + timedelta(days=30),
        )
    if renewals:
        windows[ENDING_7] = Q(
            status=ContractStatus.EFFECTIVE,
            service_end__gte=today,
            service_end__lte=today + timedelta(days=7),
        )
        windows[EXPIRED] = Q(
            ~Exists(Contract.objects.filter(renewal_of=OuterRef("pk"))),
            service_end__gte=today - timedelta(days=EXPIRED_REMINDER_DAYS),
            service_end__lt=today,
        )
    if not windows:
        return {}
    qs = Contract.objects.filter(
        # off its index, as in `contract_list`: the end date leads
        In(Unindexed(F("status")), in_force),
        service_end__gte=today - timedelta(days=EXPIRED_REMINDER_DAYS if renewals else 0),
        service_end__lte=today + timedelta(days=30 if ending else 7),
    )
    below, everyone = staff_below(viewer) if renewals else ((), True)
    reminded = Q()
    if user_scope(viewer) != DataScope.ALL or not everyone:
        member = Member.objects.visible_to(viewer).filter(pk=OuterRef("member_id")).order_by()
        level = Case(When(aftersales_owner__in=below, then=Value(2)), default=Value(1))
        # not an alias: an aggregate over an aliased query is a subquery Django misnames in it
        seen = Subquery(member.values(level=level)[:1])
        qs = qs.filter(IsNull(seen, False))
        if not everyone:
            reminded = Q(signed_by__in=below) | Q(Exact(seen, 2))
    counts = {
        tab: Count("pk", filter=q & reminded if tab != ENDING_30 else q)
        for tab, q in windows.items()
    }
    return qs.aggregate(**counts)


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


def complaint_list(*, viewer, filters: dict | None = None) -> QuerySet:
    from hongniang.finance.models import Complaint

    f = filters or {}
    qs = Complaint.objects.visible_to(viewer).select_related("member", "about", "recorded_by")
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    if f.get("start"):
        qs = qs.filter(received_on__gte=f["start"])
    if f.get("end"):
        qs = qs.filter(received_on__lte=f["end"])
    return qs


def complaint_get(*, viewer, pk: int):
    from hongniang.finance.models import Complaint

    return get_object_or_404(
        Complaint.objects.visible_to(viewer).select_related(
            "member", "about", "recorded_by", "closed_by"
        ),
        pk=pk,
    )


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
        list(month_starts(start, end))
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


def _month_bucket(field: str, months: list, end):
    """A CASE giving each row the first day of its (local) month among `months`, compared as
    instants so that no per-row date function runs (SQLite's is Python code)."""
    from datetime import datetime, time

    from django.db.models import Case, DateField, Value, When

    tz = timezone.get_current_timezone()
    bounds = [datetime.combine(m, time.min, tzinfo=tz) for m in months]
    bounds.append(datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))
    return Case(
        *[
            When(**{f"{field}__gte": lo, f"{field}__lt": hi}, then=Value(m))
            for m, lo, hi in zip(months, bounds, bounds[1:], strict=False)
        ],
        output_field=DateField(),
    ), (bounds[0], bounds[-1])


def _delivered(wanted, start, end) -> tuple[dict, dict]:
    """Introductions (recommendations presented to the member) and arranged dates (appointments
    not cancelled, on either side) per (member, month) between two dates, of the members
    `wanted(field)` picks (a Q on that member-key field). One grouped query per table,
    whatever the number of months or members: the members are a test inside the query (one
    member's key, or the keys of the members a matchmaker serves), never a list of keys sent
    from here (a matchmaker's 1,600 keys cost more to send and parse than to count)."""
    from django.db.models import Count

    from hongniang.matching.models import Appointment, AppointmentStatus, Recommendation

    months = [max(m, start) for m in month_starts(start, end)]

    def rows(qs, field, *sides):
        bucket, (lo, hi) = _month_bucket(field, months, end)
        qs = qs.filter(**{f"{field}__gte": lo, f"{field}__lt": hi})
        if len(months) == 1:  # this month's promise: the range is the month, nothing to bucket
            month = months[0].replace(day=1)
            for row in qs.values_list(*sides).annotate(n=Count("pk")):
                yield row[:-1], month, row[-1]
            return
        for row in qs.annotate(m=bucket).values_list(*sides, "m").annotate(n=Count("pk")):
            if row[-2] is not None:
                yield row[:-2], row[-2].replace(day=1), row[-1]

    intros: dict = {}
    recs = Recommendation.objects.filter(wanted("member_id")).order_by()
    for (member,), month, n in rows(recs, "created_at", "member_id"):
        intros[(member, month)] = intros.get((member, month), 0) + n
    # A date counts for both sides: one query for the dates of either.
    live = (
        Appointment.objects.exclude(status=AppointmentStatus.CANCELLED)
        .filter(wanted("member_id") | wanted("partner_id"))
        .order_by()
    )
    dates: dict = {}
    for pair, month, n in rows(live, "starts_at", "member_id", "partner_id"):
        for member in pair:
            dates[(member, month)] = dates.get((member, month), 0) + n
    return intros, dates


def ledger(contract: Contract, today=None) -> list[dict]:
    """Each month of the contract up to this one: introductions and dates promised and
    delivered; `behind` when a finished month (or this one) is short of the promise."""
    today = today or timezone.localdate()
    last = min(contract.service_end, today)
    if not contract.in_force or last < contract.service_start:
        return []
    intros, dates = _delivered(
        lambda field: Q(**{field: contract.member_id}), contract.service_start, last
    )
    rows = []
    for month in month_starts(contract.service_start, last):
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


class Promise(NamedTuple):
    """A contract's monthly promise and what its member has had so far this month.

    A tuple with the shortfall worked out when it is made: a matchmaker's book makes 1,100 of
    them per home page, sorted and counted by shortfall (as a frozen dataclass with a cached
    property, whose first read takes a lock on Python 3.11, that cost 2.7 ms of CPU; now 1)."""

    contract_id: int
    member_id: int
    intros_promised: int
    dates_promised: int
    intros: int
    dates: int
    shortfall: int  # introductions and dates missing, together (`_shortfall`)


def _shortfall(intros_promised: int, dates_promised: int, intros: int, dates: int) -> int:
    return max(intros_promised - intros, 0) + max(dates_promised - dates, 0)


def _served_q(viewer, field: str) -> Q:
    """Rows whose member key `field` is a member the viewer serves: after sales, or before
    sales while nobody serves them after sales. Each way is its own IN, collected once through
    its own index (`member_after_list`, `member_served_pre`) into a hash the outer rows are
    tested against."""
    after = Member.objects.filter(aftersales_owner=viewer).order_by().values("pk")
    # `pk > 0` is always true (keys start at 1); it is there for SQLite, which plans without
    # statistics: it took "no after-sales owner" for the better equality and read the 76,000
    # members without one in `member_after_list` (~12 ms at 100,000 members, on every home
    # page); with a key range on `member_served_pre` too, that index wins (~0.5 ms).
    before = (
        Member.objects.filter(aftersales_owner__isnull=True, presales_owner=viewer, pk__gt=0)
        .order_by()
        .values("pk")
    )
    return Q(In(F(field), after)) | Q(In(F(field), before))


# SQLite (in the process, no parsing cost to speak of) looks a list of up to this many keys up
# through the member index faster than it collects the served members for each IN; the list
# stays well within its limit of parameters.
_SQLITE_KEY_LIST_MAX = 5000


def _promised_q(viewer, terms):
    """`wanted(field)` for `_delivered`: the members of `terms`. PostgreSQL tests the served
    members inside the query (a list of 1,600 keys cost more to send and parse than to count);
    SQLite is given the keys themselves when they are few enough."""
    keys = sorted({t[1] for t in terms})
    if connection.vendor == "sqlite" and len(keys) <= _SQLITE_KEY_LIST_MAX:
        return lambda field: Q(In(F(field), keys))
    return lambda field: _served_q(viewer, field)


def promise_this_month(*, viewer, today=None) -> list[Promise]:
    """The members the viewer serves (their after-sales matchmaker, or pre-sales while none)
    with a contract in force today that promises something each month, and what they have had
    this month, members furthest behind first.

    Three queries, whatever the size of the book: the contracts in force are tested against
    the served members' keys (`_served_q`), and so are this month's recommendations and
    dates (`_promised_q`). The members served are the viewer's own, whom every data scope shows
    (`visible_staff_ids` always holds the viewer), so no visibility test is needed on top.
    Only the terms are read; callers load the few members they show."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    terms = list(
        Contract.objects.filter(
            _served_q(viewer, "member_id"),
            # off its index: SQLite would read every contract in force to test its member
            In(Unindexed(F("status")), [ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED]),
            service_start__lte=today,
            service_end__gte=today,
        )
        .filter(Q(introductions_per_month__gt=0) | Q(dates_per_month__gt=0))
        .order_by()  # sorted below
        .values_list("pk", "member_id", "introductions_per_month", "dates_per_month")
    )
    if not terms:
        return []
    intros, dates = _delivered(_promised_q(viewer, terms), month, today)
    rows = []
    for pk, m, pi, pdm in terms:
        i, d = intros.get((m, month), 0), dates.get((m, month), 0)
        rows.append(Promise(pk, m, pi, pdm, i, d, _shortfall(pi, pdm, i, d)))
    rows.sort(key=_furthest_behind)
    return rows


def _furthest_behind(p: Promise) -> tuple:
    return (-p.shortfall, p.contract_id)


def in_last_week_of_month(today) -> bool:
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (next_month - today).days <= 7


def behind_promise(*, viewer, today=None, rows: list[Promise] | None = None) -> list[Promise]:
    """In the last week of a month: the members the viewer serves who have had fewer
    introductions or dates this month than their contract promises (a task for the matchmaker
    while there is still time to catch up). `rows`: this month's `promise_this_month`, when the
    caller has read it already."""
    today = today or timezone.localdate()
    if not in_last_week_of_month(today):
        return []
    if rows is None:
        rows = promise_this_month(viewer=viewer, today=today)
    return [r for r in rows if r.shortfall]


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


def outcome_months(start, end, today=None) -> tuple:
    """The calendar months the outcome section counts for [start, end]: those the range
    touches, up to this one (the counters are monthly: `finance.outcomes`)."""
    today = today or timezone.localdate()
    return start.replace(day=1), min(end, today).replace(day=1)


def _outcome_rows(viewer, first, last) -> QuerySet:
    from hongniang.finance.models import OutcomeMonth

    rows = OutcomeMonth.objects.filter(month__gte=first, month__lte=last).order_by()
    return _team(viewer, rows)


def promise_months(*, viewer, start, end, today=None) -> dict:
    """Promised against delivered month by month, per matchmaker the contract months count for
    (`finance.outcomes`: who served the member at the month's end), over the months of
    [start, end] up to this one: {(staff id, month): {"members", "behind", "intros",
    "intros_promised", "dates", "dates_promised"}}. A member is behind in a month when they had
    fewer introductions or dates than promised (this month: so far). A manager sees their
    team. Read from the monthly counters: one query."""
    first, last = outcome_months(start, end, today)
    names = ("members", "behind", "intros", "intros_promised", "dates", "dates_promised")
    fields = [f"promise_{n}" for n in names]
    rows = _outcome_rows(viewer, first, last).filter(promise_members__gt=0)
    return {
        (r[0], r[1]): dict(zip(names, r[2:], strict=True))
        for r in rows.values_list("staff_id", "month", *fields)
    }


def promise_report(cells: dict, *, start, end, today=None) -> dict:
    """The promise ledger for the manager's report, from `promise_months`: one row per
    matchmaker, one cell per month (the last twelve months of the range at most)."""
    first, last = outcome_months(start, end, today)
    months = list(month_starts(first, last))[-12:]
    staff_ids = sorted({staff for staff, _m in cells})
    names = dict(Staff.objects.filter(pk__in=staff_ids).values_list("pk", "name"))
    rows = [
        {
            "staff_id": pk,
            "name": names.get(pk, "—"),
            "cells": [cells.get((pk, m)) for m in months],
            "behind": sum(cells[(pk, m)]["behind"] for m in months if (pk, m) in cells),
        }
        for pk in staff_ids
    ]
    rows.sort(key=lambda r: (-r["behind"], r["name"]))
    return {"months": months, "rows": rows}


OUTCOME_KEYS = (*OUTCOME_MEASURES, "promises_missed")


def outcome_report(*, viewer, start, end, today=None) -> list[dict]:
    """Beside sales, what each matchmaker's work led to over the calendar months of [start,
    end] (`outcome_months`; a manager sees their team): introductions made, the share answered
    yes (of those answered) and the share that became a mutual yes; dates held, first and
    second dates of the pair, dates after which the pair went on, relationships started;
    success stories (services finished because the member found a partner); promises missed
    (member-months short of the contract's promise); complaints; refunds. Who gets the credit
    and when: `finance.outcomes`. Read from the monthly counters: two queries, whatever
    happened."""
    from django.db.models import Sum

    first, last = outcome_months(start, end, today)
    sums = {k: Sum(k) for k in OUTCOME_MEASURES}
    rows = [
        r
        for r in _outcome_rows(viewer, first, last)
        .values("staff_id")
        .annotate(**sums, promises_missed=Sum("promise_behind"))
        if any(r[k] for k in OUTCOME_KEYS)
    ]
    staff = {
        s.pk: s
        for s in Staff.objects.filter(pk__in=[r["staff_id"] for r in rows]).select_related("store")
    }
    out = []
    for row in rows:
        person = staff.get(row["staff_id"])
        out.append(
            {
                "name": person.name if person else "—",
                "store_id": person.store_id if person else None,
                "store": person.store.name if person and person.store else "—",
                **_rates(row),
            }
        )
    out.sort(key=lambda r: (-r["relationships"], -r["dates"], -r["intros"], r["name"]))
    return out


def _rates(row: dict) -> dict:
    """The shares: yes of the answered introductions; mutual yeses of the introductions and
    the pairs formed in the member centre without one (`finance.outcomes`), so at most 100 %."""
    answered, proposed = row["answered"], row["intros"] + row["mutual_centre"]
    return {
        **row,
        "yes_rate": round(100 * row["yes"] / answered) if answered else None,
        "mutual_rate": round(100 * row["mutual"] / proposed) if proposed else None,
    }


def outcomes_by_store(rows: list[dict]) -> list[dict]:
    """The matchmakers' outcome rows added up per store (a matchmaker counts for their store)."""
    from collections import defaultdict

    stores: dict = defaultdict(lambda: dict.fromkeys(OUTCOME_KEYS, 0))
    names = {}
    for r in rows:
        for k in OUTCOME_KEYS:
            stores[r["store_id"]][k] += r[k]
        names[r["store_id"]] = r["store"]
    out = [{"store_id": pk, "name": names[pk], **_rates(row)} for pk, row in stores.items()]
    out.sort(key=lambda r: (-r["relationships"], -r["dates"], r["name"]))
    return out
