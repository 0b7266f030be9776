"""The outcome report's monthly counters per matchmaker (`OutcomeMonth`), kept in the same
transaction as every event they count, and rebuilt from the source rows by `rebuild()`.

Who gets the credit, and in which month (Asia/Shanghai calendar months):
- introductions, answers (yes / answered) and mutual yeses: the matchmaker who made the
  recommendation, in the month it was made (an answer counts in the recommendation's month);
- a mutual yes counts once per side of the pair: both said yes to a recommendation of the other,
  or the pair's double opt-in became mutual (`matching.OptIn.mutual_at`: whatever proposed them,
  also a daily suggestion or a masked card in the member centre). A side whose yes answered a
  recommendation credits that recommendation's matchmaker as above (its first accepted one);
  a side that said yes in the member centre without one credits the matchmaker serving that
  member when the pair became mutual, in that month, and counts in `mutual_centre` too (the
  report's mutual-yes rate is over the introductions plus these, so it stays a share);
- dates held, first and second dates of the pair, dates the pair went on after, relationships
  started (the pair's first "go on"): the matchmaker who arranged the date, in its month;
- complaints: the matchmaker serving the member when it came in (`Complaint.about`), in the
  month received;
- refunds: the contract's signing matchmaker, in the month the refund was paid out;
- success stories (services finished because the member found a partner): the matchmaker
  serving the member when the service finished (after-sales, else pre-sales, as the member's
  history had it then), in that month;
- promises: each month of a contract in force that promises introductions or dates counts for
  the matchmaker serving the member at the month's end (the month in progress: now). A member
  changing hands moves the months from this one on; past months stay with who served then.

How they stay right: every source row belongs to a group whose contribution, a Counter of
(staff, month, measure), depends on that group's rows only — a pair of members' recommendations
(a mutual yes depends on the other direction), a pair's dates (a date's ordinal depends on the
pair's other dates), one complaint, refund or event, or a member's contract months. A change
computes its group's contribution before and after and adds the difference (`counters.bump`, as
the daily sales totals are kept); the rebuild computes every group from scratch with the same
functions. Rows of other apps (recommendations,
appointments, timeline events, members) are followed through model signals (`connect()`), so
those apps need not know about finance; refunds, decided by conditional updates, are counted by
the finance services through `counting()`.
"""

from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from hongniang.finance.counters import bump
from hongniang.finance.models import (
    Complaint,
    Contract,
    ContractStatus,
    OutcomeMonth,
    PromiseMonth,
    Refund,
    RefundStatus,
)

LIVE = (ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED)
# The matching app's statuses, as literals: this module runs in a migration too.
HELD, CANCELLED, CONTINUE = "held", "cancelled", "continue"
ACCEPTED, DECLINED = "accepted", "declined"
SUCCESS = "success"  # members.choices.FinishReason.SUCCESS
SERVICE_EVENT = "service"  # members.models.EventKind.SERVICE
CHUNK = 500


def month_of(value) -> date:
    """The first day of the local calendar month of a date or an instant."""
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return value.replace(day=1)


def month_starts(first: date, last: date):
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_start(month: date) -> datetime:
    return datetime.combine(month, time.min, tzinfo=timezone.get_current_timezone())


def _month_end(month: date) -> datetime:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(following, time.min, tzinfo=timezone.get_current_timezone())


# --- contributions of a group (pure functions of its rows) ---


def pair_counts(recs, held, mutual=None) -> Counter:
    """recs: (recommended_by, member, candidate, created_at, status) between two members, both
    ways; held: (pk, arranged_by, starts_at, outcome) of their held dates; mutual: when the
    pair's double opt-in became a mutual yes and who served each member then,
    (mutual_at, {member: staff}), or None."""
    out: Counter = Counter()
    accepted = {(m, c) for _by, m, c, _at, status in recs if status == ACCEPTED}
    sides_by_rec = set()  # members whose side of a mutual yes a recommendation credits
    for by, m, c, at, status in sorted(recs, key=lambda r: (r[3], r[0] or 0)):
        both = (c, m) in accepted or mutual is not None
        credit = status == ACCEPTED and both and m not in sides_by_rec
        if credit:
            sides_by_rec.add(m)
        if by is None:
            continue
        month = month_of(at)
        out[(by, month, "intros")] += 1
        if status in (ACCEPTED, DECLINED):
            out[(by, month, "answered")] += 1
        if status == ACCEPTED:
            out[(by, month, "yes")] += 1
            out[(by, month, "mutual")] += credit
    if mutual is not None:
        mutual_at, serving = mutual
        for m, staff in serving.items():
            if m not in sides_by_rec and staff is not None:
                out[(staff, month_of(mutual_at), "mutual")] += 1
                out[(staff, month_of(mutual_at), "mutual_centre")] += 1
    went_on = False
    for ordinal, (_pk, by, at, outcome) in enumerate(sorted(held, key=lambda a: (a[2], a[0])), 1):
        started = outcome == CONTINUE and not went_on
        went_on = went_on or outcome == CONTINUE
        if by is None:
            continue
        month = month_of(at)
        out[(by, month, "dates")] += 1
        out[(by, month, "first_dates")] += ordinal == 1
        out[(by, month, "second_dates")] += ordinal == 2
        out[(by, month, "going_on")] += outcome == CONTINUE
        out[(by, month, "relationships")] += started
    return out


def promise_counts(rows) -> Counter:
    """rows: (staff, month, intros_promised, dates_promised, intros, dates) of contract months."""
    out: Counter = Counter()
    for staff, month, ip, dp, i, d in rows:
        if staff is None:
            continue
        out[(staff, month, "promise_members")] += 1
        out[(staff, month, "promise_behind")] += i < ip or d < dp
        out[(staff, month, "promise_intros")] += i
        out[(staff, month, "promise_intros_promised")] += ip
        out[(staff, month, "promise_dates")] += d
        out[(staff, month, "promise_dates_promised")] += dp
    return out


def _pair_recs(a: int, b: int) -> list:
    from hongniang.matching.models import Recommendation

    both = (a, b)
    return list(
        Recommendation.objects.filter(member_id__in=both, candidate_id__in=both).values_list(
            "recommended_by_id", "member_id", "candidate_id", "created_at", "status"
        )
    )


def _pair_mutual(a: int, b: int):
    """(mutual_at, {member: staff serving them then}) of the pair's double opt-in if it
    became a mutual yes (also one later withdrawn or ended), else None."""
    from hongniang.matching.models import OptIn

    at = (
        OptIn.objects.filter(low_id=min(a, b), high_id=max(a, b), mutual_at__isnull=False)
        .values_list("mutual_at", flat=True)
        .first()
    )
    if at is None:
        return None
    serving = serving_at([(a, at), (b, at)])
    return at, {a: serving.get((a, at)), b: serving.get((b, at))}


def _pair_dates(a: int, b: int) -> list:
    """The pair's held dates, both ways. Read by the members' keys (their indexes), the status
    tested here: a test of the status in SQL made SQLite walk every held date."""
    from hongniang.matching.models import Appointment

    both = (a, b)
    dates = Appointment.objects.filter(member_id__in=both, partner_id__in=both).values_list(
        "pk", "arranged_by_id", "starts_at", "outcome", "status"
    )
    return [row[:4] for row in dates if row[4] == HELD]


def _success_counts(events) -> Counter:
    """events: (member, created_at, data) of service events; a finish with reason "success"
    counts for whoever served the member then."""
    wins = [(m, at) for m, at, data in events if (data or {}).get("finish_reason") == SUCCESS]
    serving = serving_at(wins)
    out: Counter = Counter()
    for m, at in wins:
        if serving.get((m, at)) is not None:
            out[(serving[(m, at)], month_of(at), "successes")] += 1
    return out


def _group_counts(group: tuple) -> Counter:
    """The contribution of one group as the database has it now."""
    from hongniang.members.models import MemberEvent

    kind, *key = group
    # A pair's recommendations and its dates count independently (`pair_counts` adds them).
    if kind == "recs":  # with the pair's double opt-in (a mutual yes in the member centre)
        return pair_counts(_pair_recs(*key), [], _pair_mutual(*key))
    if kind == "dates":
        return pair_counts([], _pair_dates(*key))
    if kind == "complaint":
        rows = Complaint.objects.filter(pk=key[0]).values_list("about_id", "received_on")
        return Counter({(s, month_of(d), "complaints"): 1 for s, d in rows if s is not None})
    if kind == "refund":
        rows = Refund.objects.filter(pk=key[0], status=RefundStatus.APPROVED).values_list(
            "contract__signed_by_id", "decided_at"
        )
        return Counter({(s, month_of(at), "refunds"): 1 for s, at in rows})
    if kind == "event":
        rows = MemberEvent.objects.filter(pk=key[0], kind=SERVICE_EVENT)
        return _success_counts(rows.values_list("member_id", "created_at", "data"))
    raise ValueError(kind)


def apply(delta: Counter) -> None:
    """Add a difference of contributions to the monthly counters."""
    cells: dict = defaultdict(dict)
    for (staff, month, measure), n in delta.items():
        if n:
            cells[(staff, month)][measure] = n
    for (staff, month), amounts in sorted(cells.items()):
        bump(OutcomeMonth, {"staff_id": staff, "month": month}, **amounts)


@contextmanager
def counting(*groups: tuple):
    """Count what the block changes in these groups: their contributions before and after."""
    before = {g: _group_counts(g) for g in groups}
    yield
    for g in groups:
        delta = _group_counts(g)
        delta.subtract(before[g])
        apply(delta)


# --- who served a member when ---


def _serving(presales, aftersales):
    return aftersales or presales


def serving_at(wanted) -> dict:
    """{(member, instant): staff}: the member's after-sales matchmaker (else pre-sales) at each
    instant, as the member's history had it then (before their first record: as first
    recorded; members without any history: as now)."""
    from hongniang.members.models import Member

    wanted = list(wanted)
    members = sorted({m for m, _at in wanted})
    if not members:
        return {}
    history = defaultdict(list)
    for pk, at, pre, after in (
        Member.history.model.objects.filter(id__in=members)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_date", "presales_owner_id", "aftersales_owner_id")
    ):
        history[pk].append((at, _serving(pre, after)))
    now = {
        pk: _serving(pre, after)
        for pk, pre, after in Member.objects.filter(pk__in=members).values_list(
            "pk", "presales_owner_id", "aftersales_owner_id"
        )
    }
    out = {}
    for m, at in wanted:
        then = [staff for when, staff in history[m] if when <= at]
        if then:
            out[(m, at)] = then[-1]
        else:  # before the member's first record (a backdated contract): as first recorded
            out[(m, at)] = history[m][0][1] if history[m] else now.get(m)
    return out


# --- the promise ledger's contract months ---


def _delivered(member_ids, months=None) -> dict:
    """{(member, month): [introductions, dates]}: recommendations presented to the member and
    appointments not cancelled on either side, by local month (only `months`, if given)."""
    from hongniang.matching.models import Appointment, Recommendation

    recs = Recommendation.objects.filter(member_id__in=member_ids)
    live = Appointment.objects.exclude(status=CANCELLED).filter(
        Q(member_id__in=member_ids) | Q(partner_id__in=member_ids)
    )
    if months:
        since, until = _month_start(min(months)), _month_end(max(months))
        recs = recs.filter(created_at__gte=since, created_at__lt=until)
        live = live.filter(starts_at__gte=since, starts_at__lt=until)
    out: dict = defaultdict(lambda: [0, 0])
    for m, at in recs.values_list("member_id", "created_at"):
        out[(m, month_of(at))][0] += 1
    wanted = set(member_ids)
    for a, b, at in live.values_list("member_id", "partner_id", "starts_at"):
        for m in {a, b} & wanted:
            out[(m, month_of(at))][1] += 1
    return out


def recount_delivered(member_ids, months) -> None:
    """After a recommendation or an appointment changed: recount what these members had in
    these months, for the contract months there are (their promise and matchmaker stay).
    Members without any contract month cost one query."""
    fields = ("staff_id", "month", "intros_promised", "dates_promised", "intros", "dates")
    rows = list(
        PromiseMonth.objects.filter(
            member_id__in=[pk for pk in member_ids if pk is not None], month__in=set(months)
        ).values_list("pk", "member_id", *fields)
    )
    if not rows:
        return
    delivered = _delivered(sorted({r[1] for r in rows}), set(months))
    delta: Counter = Counter()
    for pk, member, staff, month, ip, dp, i, d in rows:
        got_i, got_d = delivered.get((member, month), (0, 0))
        if (got_i, got_d) != (i, d):
            PromiseMonth.objects.filter(pk=pk).update(intros=got_i, dates=got_d)
            delta.update(promise_counts([(staff, month, ip, dp, got_i, got_d)]))
            delta.subtract(promise_counts([(staff, month, ip, dp, i, d)]))
    apply(delta)


def refresh_promises(member_ids, *, today: date | None = None) -> None:
    """Recompute the contract months of these members from their contracts in force,
    recommendations and appointments, and add the difference to the counters."""
    from hongniang.members.models import Member

    ids = sorted({pk for pk in member_ids if pk is not None})
    if not ids:
        return
    this_month = (today or timezone.localdate()).replace(day=1)
    contracts = list(
        Contract.objects.filter(member_id__in=ids, status__in=LIVE)
        .filter(Q(introductions_per_month__gt=0) | Q(dates_per_month__gt=0))
        .values_list(
            "pk",
            "member_id",
            "service_start",
            "service_end",
            "introductions_per_month",
            "dates_per_month",
        )
    )
    old = {
        (r[0], r[1]): r[2:]
        for r in PromiseMonth.objects.filter(member_id__in=ids).values_list(
            "contract_id",
            "month",
            "member_id",
            "staff_id",
            "intros_promised",
            "dates_promised",
            "intros",
            "dates",
        )
    }
    if not contracts and not old:
        return
    members = sorted({k[1] for k in contracts})
    delivered = _delivered(members)
    now = {
        pk: _serving(pre, after)
        for pk, pre, after in Member.objects.filter(pk__in=members).values_list(
            "pk", "presales_owner_id", "aftersales_owner_id"
        )
    }
    months = {(k[0], m): k for k in contracts for m in month_starts(k[2], k[3])}
    then = serving_at({(k[1], _month_end(m)) for (_pk, m), k in months.items() if m < this_month})
    new = {}
    for (pk, month), (_pk, member, _s, _e, ip, dp) in months.items():
        staff = now.get(member) if month >= this_month else then[(member, _month_end(month))]
        got_i, got_d = delivered.get((member, month), (0, 0))
        new[(pk, month)] = (member, staff, ip, dp, got_i, got_d)
    if new == old:
        return
    gone = [key for key in old if key not in new]
    for contract_id, month in gone:
        PromiseMonth.objects.filter(contract_id=contract_id, month=month).delete()
    fields = ("member_id", "staff_id", "intros_promised", "dates_promised", "intros", "dates")
    PromiseMonth.objects.bulk_create(
        [
            PromiseMonth(contract_id=key[0], month=key[1], **dict(zip(fields, row, strict=True)))
            for key, row in new.items()
            if key not in old
        ],
        batch_size=CHUNK,
    )
    for key, row in new.items():
        if key in old and old[key] != row:
            PromiseMonth.objects.filter(contract_id=key[0], month=key[1]).update(
                **dict(zip(fields, row, strict=True))
            )
    delta = promise_counts((s, m, ip, dp, i, d) for (_k, m), (_mb, s, ip, dp, i, d) in new.items())
    delta.subtract(
        promise_counts((s, m, ip, dp, i, d) for (_k, m), (_mb, s, ip, dp, i, d) in old.items())
    )
    apply(delta)


# --- following other apps' rows (model signals, in the transaction of the save) ---


def _groups(instance) -> tuple[list, list]:
    """The counted groups a row belongs to, and the members whose promise months it touches
    (in the month of its `MONTH_FIELD`)."""
    from hongniang.matching.models import Appointment, OptIn, Recommendation

    if isinstance(instance, Recommendation):
        a, b = sorted((instance.member_id, instance.candidate_id))
        return [("recs", a, b)], [instance.member_id]
    if isinstance(instance, OptIn):
        return [("recs", instance.low_id, instance.high_id)], []
    if isinstance(instance, Appointment):
        a, b = sorted((instance.member_id, instance.partner_id))
        return [("dates", a, b)], [a, b]
    if isinstance(instance, Complaint):
        return ([("complaint", instance.pk)] if instance.pk else []), []
    if isinstance(instance, Refund):
        return ([("refund", instance.pk)] if instance.pk else []), []
    if instance.kind == SERVICE_EVENT and instance.pk:  # a timeline event
        return [("event", instance.pk)], []
    return [], []


def _lock_pair(group: tuple) -> None:
    """Two transactions changing one pair at once would each miss the other's row (a mutual
    yes, a date's order): the second waits for the first on the members' rows (PostgreSQL)."""
    from hongniang.members.models import Member

    locks = connection.features.has_select_for_update and connection.in_atomic_block
    if group[0] in ("recs", "dates") and locks:
        rows = Member.objects.select_for_update().filter(pk__in=group[1:]).order_by("pk")
        list(rows.values_list("pk"))


# The field whose month a recommendation or an appointment delivers in.
MONTH_FIELD = {"Recommendation": "created_at", "Appointment": "starts_at"}


def _stored_month(instance):
    """The month the stored row (before this change) delivered in; None for a new row."""
    field = MONTH_FIELD.get(type(instance).__name__)
    if field != "starts_at" or instance.pk is None:  # a recommendation's month never moves
        return None
    stored = type(instance).objects.filter(pk=instance.pk).values_list(field, flat=True).first()
    return month_of(stored) if stored else None


def _before(sender, instance, **kwargs):
    groups, _members = _groups(instance)
    for g in groups:
        _lock_pair(g)
    instance._outcomes_before = {g: _group_counts(g) for g in groups}
    instance._outcomes_month = _stored_month(instance)


def _after(sender, instance, created=False, **kwargs):
    before = getattr(instance, "_outcomes_before", {})
    groups, members = _groups(instance)
    for g in groups:
        delta = _group_counts(g)
        delta.subtract(before.get(g, Counter()))
        apply(delta)
    instance._outcomes_before = {}
    if members:
        value = getattr(instance, MONTH_FIELD[type(instance).__name__])
        months = {month_of(value), getattr(instance, "_outcomes_month", None)} - {None}
        recount_delivered(members, months)


def _optin_before(sender, instance, signal=None, **kwargs):
    """A pair's double opt-in counts only through the moment it became mutual: most saves (an
    answer, a withdrawal) leave that alone, and cost one look-up instead of the pair's group."""
    stored = None
    if instance.pk is not None:
        stored = sender.objects.filter(pk=instance.pk).values_list("mutual_at", flat=True).first()
    deleting = signal is pre_delete
    instance._outcomes_counts = stored is not None if deleting else stored != instance.mutual_at
    if instance._outcomes_counts:
        _before(sender, instance, **kwargs)


def _optin_after(sender, instance, **kwargs):
    if getattr(instance, "_outcomes_counts", False):
        _after(sender, instance, **kwargs)
    instance._outcomes_counts = False


def _member_saved(sender, instance, created=False, update_fields=None, **kwargs):
    """A member changing hands: their contract months from this one on move to the new
    matchmaker (one indexed query when nothing moves)."""
    if created:
        return
    owners = {"presales_owner", "aftersales_owner"}
    if update_fields is not None and not owners & set(update_fields):
        return
    serving = _serving(instance.presales_owner_id, instance.aftersales_owner_id)
    moved = PromiseMonth.objects.filter(
        member_id=instance.pk, month__gte=timezone.localdate().replace(day=1)
    ).exclude(staff_id=serving)
    if moved.exists():
        refresh_promises([instance.pk])


def connect() -> None:
    from hongniang.matching.models import Appointment, OptIn, Recommendation
    from hongniang.members.models import Member, MemberEvent

    for model in (Recommendation, OptIn, Appointment, Complaint, Refund, MemberEvent):
        uid = f"finance.outcomes.{model.__name__}"
        before, after = (_optin_before, _optin_after) if model is OptIn else (_before, _after)
        pre_save.connect(before, sender=model, dispatch_uid=uid + ".pre_save")
        post_save.connect(after, sender=model, dispatch_uid=uid + ".post_save")
        pre_delete.connect(before, sender=model, dispatch_uid=uid + ".pre_delete")
        post_delete.connect(after, sender=model, dispatch_uid=uid + ".post_delete")
    post_save.connect(_member_saved, sender=Member, dispatch_uid="finance.outcomes.member")


# --- rebuilding from the source rows ---


@transaction.atomic
def rebuild(*, today: date | None = None) -> int:
    """Recompute every counter and contract month from recommendations, appointments,
    complaints, refunds, timeline events, contracts and the members' history (after seeding
    that bypassed the models, a data repair, or to check the kept ones). Returns the number of
    counter rows."""
    from hongniang.matching.models import Appointment, OptIn, Recommendation
    from hongniang.members.models import MemberEvent

    OutcomeMonth.objects.all().delete()
    PromiseMonth.objects.all().delete()
    recs, held = defaultdict(list), defaultdict(list)
    for row in Recommendation.objects.values_list(
        "recommended_by_id", "member_id", "candidate_id", "created_at", "status"
    ).iterator(chunk_size=5000):
        recs[tuple(sorted(row[1:3]))].append(row)
    for pk, a, b, by, at, outcome in (
        Appointment.objects.filter(status=HELD)
        .values_list("pk", "member_id", "partner_id", "arranged_by_id", "starts_at", "outcome")
        .iterator(chunk_size=5000)
    ):
        held[tuple(sorted((a, b)))].append((pk, by, at, outcome))
    mutual_at = dict(
        ((a, b), at)
        for a, b, at in OptIn.objects.filter(mutual_at__isnull=False)
        .values_list("low_id", "high_id", "mutual_at")
        .iterator(chunk_size=5000)
    )
    serving = serving_at((m, at) for pair, at in mutual_at.items() for m in pair)
    mutual = {pair: (at, {m: serving.get((m, at)) for m in pair}) for pair, at in mutual_at.items()}
    total: Counter = Counter()
    for pair in recs.keys() | held.keys() | mutual.keys():
        total.update(pair_counts(recs.get(pair, []), held.get(pair, []), mutual.get(pair)))
    for staff, received in Complaint.objects.filter(about__isnull=False).values_list(
        "about_id", "received_on"
    ):
        total[(staff, month_of(received), "complaints")] += 1
    for staff, at in Refund.objects.filter(status=RefundStatus.APPROVED).values_list(
        "contract__signed_by_id", "decided_at"
    ):
        total[(staff, month_of(at), "refunds")] += 1
    total.update(
        _success_counts(
            MemberEvent.objects.filter(kind=SERVICE_EVENT, data__finish_reason=SUCCESS).values_list(
                "member_id", "created_at", "data"
            )
        )
    )
    cells: dict = defaultdict(dict)
    for (staff, month, measure), n in total.items():
        if n:
            cells[(staff, month)][measure] = n
    OutcomeMonth.objects.bulk_create(
        [OutcomeMonth(staff_id=s, month=m, **amounts) for (s, m), amounts in cells.items()],
        batch_size=CHUNK,
    )
    members = sorted(
        set(
            Contract.objects.filter(status__in=LIVE)
            .filter(Q(introductions_per_month__gt=0) | Q(dates_per_month__gt=0))
            .values_list("member_id", flat=True)
        )
    )
    for n in range(0, len(members), CHUNK):
        refresh_promises(members[n : n + CHUNK], today=today)
    return OutcomeMonth.objects.count()
