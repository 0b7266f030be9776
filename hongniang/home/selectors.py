"""The workbench home (whitepaper 1.4.1): the viewer's to-do list and the business at a glance.

It reads from every feature app, which is why it is its own app on the top floor (DESIGN.md,
Layout). Everything goes through the viewer's visibility: a matchmaker sees their own members, a
manager the same over the team. Each entry is a count plus the first few items, with a link to the
page where the work is done; the counts use indexed columns (next contact, follow-up counters).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.lookups import In
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hongniang.finance.models import Payment, Refund, RefundStatus
from hongniang.frontdesk.models import Consultation, ConsultationStatus, MemberAccount
from hongniang.matching.models import (
    Appointment,
    AppointmentStatus,
    IntroductionRequest,
    IntroductionStatus,
    Recommendation,
    RecommendationStatus,
)
from hongniang.members import choices as c
from hongniang.members.models import IDLE_SINCE, AllocationKind, EventKind, Member, MemberEvent
from hongniang.members.presenter import LABEL_FIELDS, present_many
from hongniang.members.selectors import birthday_count, birthday_q, pending_allocations
from hongniang.messaging.models import Channel, Delivery, DeliveryStatus, Message
from hongniang.sales.models import FollowUp
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.permissions import can
from hongniang.staff.visibility import DataScope, Unindexed, user_scope

PREVIEW = 5  # items shown per entry; the link leads to the rest
OPEN = [c.SalesStage.NEW, c.SalesStage.FOLLOWING, c.SalesStage.SIGNED]


@dataclass
class Entry:
    key: str
    title: str
    count: int
    link: str
    items: list = field(default_factory=list)  # (label, url, detail)
    tone: str = ""  # "danger" for what is late


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _first(qs, count: int) -> list:
    """The first rows of an entry, not read when its count says there are none (most entries
    are empty on most days: a preview query each was a fifth of the page's queries)."""
    return list(qs[:PREVIEW]) if count else []


def _member_items(viewer, qs, count: int, detail, *fields) -> list:
    """The first members of an entry by label, with the `fields` that `detail` reads."""
    members = _first(qs.only(*LABEL_FIELDS, *fields), count)
    return [
        (view.label, reverse("members:detail", args=[m.pk]), detail(m))
        for m, view in zip(members, present_many(viewer, members), strict=True)
    ]


def _labelled(qs, *fields) -> QuerySet:
    """Rows of another table read with their member for its label: of the row its `fields`,
    of the member what the label needs (`LABEL_FIELDS`)."""
    return (
        qs.select_related(None)
        .select_related("member")
        .only(*fields, "member", *(f"member__{f}" for f in LABEL_FIELDS))
    )


def _with_views(viewer, events) -> list:
    events = list(events)
    return list(zip(events, present_many(viewer, [e.member for e in events]), strict=True))


def _of_visible_members(qs, viewer, fields=("member",), *, few=False):
    """Rows of another table (events, follow-ups, recommendations) whose member, or one of whose
    members, the viewer sees.

    The table's own filter (a kind and a recent time, a status) picks the rows: those are read
    through their index and each member key is tested against the viewer's members, collected
    through each owner's index (`keyed_q`); the member key is kept off its index, which would
    otherwise be probed once per visible member. `few`: the filter picks about a thousand rows
    or fewer, cheaper to test by looking each member up (`key_visible_q`) than by collecting a
    team's members."""
    if user_scope(viewer) == DataScope.ALL:
        return qs
    q = Q()
    for name in fields:
        if few:
            q |= Member.objects.key_visible_q(viewer, f"{name}_id")
        else:
            q |= Member.objects.keyed_q(viewer, Unindexed(F(f"{name}_id")))
    return qs.filter(q)


def _when(m) -> str:
    return timezone.localtime(m.next_contact_at).strftime("%m-%d %H:%M")


def todo_list(
    *, viewer, now=None, promise: "PromiseBook | None" = None, tally: "Tally | None" = None
) -> list[Entry]:
    """What the viewer has to do, most urgent first; entries with nothing to do are left out.
    `promise`, `tally`: the viewer's `promise_book` and `member_tally` for the same moment, when
    the page has read them already."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, tomorrow = _day_start(today), _day_start(today + timedelta(days=1))
    entries: list[Entry] = []
    if can(viewer, "members", "view"):
        # The stage is kept off the indexes so that SQLite walks the next-contact index (a
        # range of times, in the preview's order) rather than every open member of a stage.
        mine = Member.objects.visible_to(viewer).filter(In(Unindexed(F("sales_stage")), OPEN))
        overdue = mine.filter(next_contact_at__lt=start).order_by("next_contact_at", "pk")
        due = mine.filter(next_contact_at__gte=start, next_contact_at__lt=tomorrow).order_by(
            "next_contact_at", "pk"
        )
        # Both counted in one pass over the range before tomorrow (one query fewer).
        n = mine.filter(next_contact_at__lt=tomorrow).aggregate(
            overdue=Count("pk", filter=Q(next_contact_at__lt=start)),
            due=Count("pk", filter=Q(next_contact_at__gte=start)),
        )
        entries.append(
            Entry(
                "overdue",
                _("Overdue follow-ups"),
                n["overdue"],
                reverse("members:presales") + "?list=followed",
                _member_items(viewer, overdue, n["overdue"], _when, "next_contact_at"),
                tone="danger",
            )
        )
        entries.append(
            Entry(
                "due_today",
                _("Follow-ups due today"),
                n["due"],
                reverse("members:presales") + "?list=followed",
                _member_items(viewer, due, n["due"], _when, "next_contact_at"),
            )
        )
    waiting = pending_allocations(viewer=viewer)
    n = waiting.count()
    entries.append(
        Entry(
            "acceptance",
            _("Members waiting for you to accept"),
            n,
            reverse("members:pending"),
            [
                (view.label, reverse("members:pending"), "")
                for view in present_many(viewer, [a.member for a in _first(_labelled(waiting), n)])
            ],
        )
    )
    if can(viewer, "members", "view"):
        born = Member.objects.visible_to(viewer).exclude(sales_stage=c.SalesStage.ABANDONED)
        today_born = born.filter(birthday_q(today)).order_by("pk")
        n = today_born.count()
        entries.append(
            Entry(
                "birthdays",
                _("Birthdays today"),
                n,
                reverse("members:presales") + "?list=birthday_today",
                _member_items(viewer, today_born, n, lambda m: ""),
            )
        )
        entries.append(
            Entry(
                "birthdays_month",
                _("Birthdays this month"),
                birthday_count(born, today, month=True),
                reverse("members:presales") + "?list=birthday_month",
            )
        )
        registered = Member.objects.filter(
            presales_owner=viewer, source=c.Source.REGISTRATION, follow_up_count=0
        ).filter(sales_stage__in=OPEN)
        n = registered.count()
        entries.append(
            Entry(
                "registrations",
                _("New registrations assigned to you"),
                n,
                reverse("members:presales"),
                _member_items(
                    viewer, registered.order_by("-registered_at", "-pk"), n, lambda m: ""
                ),
            )
        )
    if can(viewer, "presales", "view"):
        # Assigning a consultation moves it to "in progress": it is on the list until done.
        consultations = (
            Consultation.objects.filter(assigned_to=viewer)
            .exclude(status=ConsultationStatus.DONE)
            .order_by("created_at", "pk")
        )
        n = consultations.count()
        entries.append(
            Entry(
                "consultations",
                _("New consultations assigned to you"),
                n,
                reverse("frontdesk:consultations") + "?status=in_progress",
                [
                    (c_.name, reverse("frontdesk:consultation", args=[c_.pk]), "")
                    for c_ in _first(consultations, n)
                ],
            )
        )
    if can(viewer, "matching", "view"):
        stalled = _of_visible_members(
            MemberEvent.objects.filter(
                kind=EventKind.MATCHING,
                created_at__gte=now - timedelta(days=7),
                data__has_key="stalled_pair",
            ),
            viewer,
        ).order_by("-created_at", "-pk")
        n = stalled.count()
        entries.append(
            Entry(
                "stalled",
                _("Couples waiting for a follow-up"),
                n,
                reverse("messaging:list"),
                [
                    (view.label, reverse("members:detail", args=[e.member_id]), e.summary)
                    for e, view in _with_views(viewer, _first(_labelled(stalled, "summary"), n))
                ],
            )
        )
        unanswered = _of_visible_members(
            Recommendation.objects.filter(
                status__in=[RecommendationStatus.SENT, RecommendationStatus.VIEWED]
            ),
            viewer,
        )
        entries.append(
            Entry(
                "recommendations",
                _("Recommendations waiting for an answer"),
                unanswered.count(),
                reverse("matching:library_index"),
            )
        )
        intros = _of_visible_members(
            IntroductionRequest.objects.filter(status=IntroductionStatus.OPEN),
            viewer,
            fields=("member", "target"),
        )
        entries.append(
            Entry(
                "introductions",
                _("Introduction requests waiting for an answer"),
                intros.count(),
                reverse("matching:introductions"),
            )
        )
    if can(viewer, "aftersales", "view"):
        entries.append(_paused_due_back(viewer, today))
    if can(viewer, "members", "allocate") and user_scope(viewer) != DataScope.SELF:
        tally = tally or member_tally(viewer=viewer, now=now)
        entries.append(
            Entry(
                "idle",
                _("Team members not followed up for %(days)s days") % {"days": tally.idle_days},
                tally.idle,
                reverse("members:reallocate") + "?group=not_followed",
                tone="danger",
            )
        )
    entries += _finance_entries(viewer, today, promise)
    return [e for e in entries if e.count]


def _paused_due_back(viewer, today) -> Entry:
    """Paused services whose expected return date has come: the matchmaker resumes the service
    (or finishes it) from the member's page. Only paused members carry a return date, so the
    date's index picks them."""
    due = (
        Member.objects.visible_to(viewer)
        .filter(pause_until__lte=today, service_status=c.ServiceStatus.PAUSED)
        .order_by("pause_until", "pk")
    )
    n = due.count()
    return Entry(
        "paused_due",
        _("Paused services due to resume"),
        n,
        reverse("members:aftersales"),
        _member_items(
            viewer,
            due,
            n,
            lambda m: _("expected back %(date)s") % {"date": m.pause_until.isoformat()},
            "pause_until",
        ),
    )


def _finance_entries(viewer, today, promise) -> list[Entry]:
    """Contracts and refunds waiting for finance; contracts ending soon; members served by the
    viewer who are short of their contract's promise in the month's last week."""
    from hongniang.finance import selectors as fs
    from hongniang.finance.models import Contract, ContractStatus, Refund, RefundStatus

    entries = []
    contracts = reverse("finance:contracts")
    ending, renewals = can(viewer, "finance", "view"), can(viewer, "members", "view")
    counts = fs.end_date_counts(viewer=viewer, today=today, ending=ending, renewals=renewals)
    if can(viewer, "finance", "approve"):
        waiting = Contract.objects.visible_to(viewer).filter(status=ContractStatus.SUBMITTED)
        entries.append(
            Entry(
                "contracts_waiting",
                _("Contracts waiting for finance's approval"),
                waiting.count(),
                f"{contracts}?tab={ContractStatus.SUBMITTED}",
            )
        )
        refunds = Refund.objects.visible_to(viewer).filter(status=RefundStatus.REQUESTED)
        entries.append(
            Entry(
                "refunds_waiting",
                _("Refund requests waiting for finance"),
                refunds.count(),
                f"{reverse('finance:refunds')}?status={RefundStatus.REQUESTED}",
            )
        )
    if ending:
        entries.append(
            Entry(
                "contracts_ending",
                _("Contracts ending within 30 days"),
                counts[fs.ENDING_30],
                f"{contracts}?tab={fs.ENDING_30}",
            )
        )
    if renewals:
        entries += _renewal_entries(viewer, today, counts)
    if fs.in_last_week_of_month(today):  # else nothing to read
        book = promise or promise_book(viewer=viewer, today=today)
        behind = fs.behind_promise(viewer=viewer, today=today, rows=book.rows)
        entries.append(
            Entry(
                "behind_promise",
                _("Members short of their contract's promise this month"),
                len(behind),
                # The member's page shows the month-by-month ledger to whoever serves them; the
                # after-sales matchmaker who has the task may have no finance right.
                reverse("members:aftersales"),
                [
                    (
                        book.views[p.member_id].label,
                        reverse("members:detail", args=[p.member_id]) + "#member-ledger",
                        _("%(i)s/%(pi)s introductions, %(d)s/%(pd)s dates")
                        % {
                            "i": p.intros,
                            "pi": p.intros_promised,
                            "d": p.dates,
                            "pd": p.dates_promised,
                        },
                    )
                    for p in behind[:PREVIEW]
                ],
                tone="danger",
            )
        )
    return entries


def _renewal_entries(viewer, today, counts) -> list[Entry]:
    """Contracts to renew (ending within 7 days) and expired ones nobody renewed, for the
    matchmaker who signed them or serves the member, and their managers. `counts`: the
    viewer's `end_date_counts`."""
    from hongniang.finance import selectors as fs

    finance = can(viewer, "finance", "view")
    entries = []
    for key, tab, title, tone in (
        ("contracts_ending_7", fs.ENDING_7, _("Contracts ending within 7 days"), ""),
        (
            "contracts_expired",
            fs.EXPIRED,
            _("Contracts expired in the last 30 days and not renewed"),
            "danger",
        ),
    ):
        due = fs.renewals_due(viewer=viewer, tab=tab, today=today)
        count = counts[tab]
        # Nothing to show: no second query. The preview names the member only (joining the
        # signer and the store made PostgreSQL join every row of the range before the limit).
        shown = _labelled(due, "number", "service_end")
        preview = list(shown[:PREVIEW]) if count else []
        views = present_many(viewer, [k.member for k in preview])
        entries.append(
            Entry(
                key,
                title,
                count,
                f"{reverse('finance:contracts')}?tab={tab}"
                if finance
                else reverse("members:aftersales"),
                [
                    (
                        view.label,
                        reverse("finance:contract", args=[k.pk])
                        if finance
                        else reverse("members:detail", args=[k.member_id]),
                        _("%(number)s ends %(day)s")
                        % {"number": k.number, "day": k.service_end.isoformat()},
                    )
                    for k, view in zip(preview, views, strict=True)
                ],
                tone=tone,
            )
        )
    return entries


@dataclass
class PromiseRow:
    label: str
    url: str
    intros: int
    intros_promised: int
    dates: int
    dates_promised: int
    behind: bool


PROMISE_ROWS = 10  # members shown on the home panel, furthest behind first
assert PREVIEW <= PROMISE_ROWS  # the to-do entry shows the first of the panel's rows


@dataclass
class PromiseBook:
    """This month's promise of every member the viewer serves, read once for the page (the
    panel and the to-do entry both show it), with the first rows' members presented."""

    rows: list  # finance.selectors.Promise, furthest behind first
    views: dict  # member key → MemberView, for the first PROMISE_ROWS rows


def promise_book(*, viewer, today=None) -> PromiseBook:
    from hongniang.finance import selectors as fs

    rows = fs.promise_this_month(viewer=viewer, today=today)
    keys = list(dict.fromkeys(p.member_id for p in rows[:PROMISE_ROWS]))
    members = Member.objects.only(*LABEL_FIELDS).in_bulk(keys) if keys else {}
    views = present_many(viewer, [members[k] for k in keys])
    return PromiseBook(rows, dict(zip(keys, views, strict=True)))


@dataclass
class PromisePanel:
    rows: list  # PromiseRow, the first PROMISE_ROWS
    total: int  # members with a monthly promise
    behind: int  # of them short of it so far


def promise_this_month(
    *, viewer, today=None, book: PromiseBook | None = None
) -> PromisePanel | None:
    """The matchmaker's members with a monthly promise: what each has had so far this month,
    those furthest behind first (the home page's ledger panel). None when they serve nobody
    with a promise. Only the rows shown go through the presenter."""
    book = book or promise_book(viewer=viewer, today=today)
    if not book.rows:
        return None
    return PromisePanel(
        rows=[
            PromiseRow(
                book.views[p.member_id].label,
                reverse("members:detail", args=[p.member_id]) + "#member-ledger",
                p.intros,
                p.intros_promised,
                p.dates,
                p.dates_promised,
                p.shortfall > 0,
            )
            for p in book.rows[:PROMISE_ROWS]
        ],
        total=len(book.rows),
        behind=sum(1 for p in book.rows if p.shortfall),
    )


@dataclass
class Tally:
    by_stage: Counter  # the viewer's members per sales stage
    idle: int  # of them in an open pre-sales stage with a pre-sales owner, not followed up lately
    idle_days: int  # "lately": the days after which members return to the pool
    # follow-ups of the viewer's members contacted this month; None for a viewer who sees every
    # member (a plain count of the month's follow-ups is cheaper than the sum over all members:
    # no index carries the counter in the stage order SQLite groups them in)
    follow_ups_done: int | None


def member_tally(*, viewer, now=None) -> Tally:
    """The viewer's members per stage (the pipeline figure) and how many of them wait for a
    follow-up past the pool's return days (the manager's to-do entry), read in one pass: one
    grouped query per owner part (`visible_parts`, disjoint), each answered from its owner's
    list index alone (it carries the stage, both owners and the follow-up and registration
    times). The idle count used to be a second pass over the same members.

    This month's follow-ups (of a viewer who sees some of the members) are summed there too:
    a member whose latest follow-up is this month carries the number of their follow-ups in it
    (`month_follow_ups`, kept by the follow-up service), so the 80,000 follow-ups of a month
    are not tested against the team's members."""
    now = now or timezone.now()
    days = SiteSettings.load().pool_return_days
    idle = Q(
        sales_stage__in=[c.SalesStage.NEW, c.SalesStage.FOLLOWING],
        presales_owner__isnull=False,
        idle_since__lt=now - timedelta(days=days),
    )
    this_month = Q(follow_up_month=timezone.localdate(now).replace(day=1))
    counted = user_scope(viewer) != DataScope.ALL
    by_stage, late, done = Counter(), 0, 0 if counted else None
    for part in Member.objects.visible_parts(viewer):
        sums = {"n": Count("pk"), "idle": Count("pk", filter=idle)}
        if counted:
            sums["done"] = Sum("month_follow_ups", filter=this_month)
        rows = (
            part.order_by()
            .alias(idle_since=IDLE_SINCE)
            .values_list("sales_stage")
            .annotate(**sums)
            .values_list("sales_stage", *sums)
        )
        for stage, n, idle_n, *done_n in rows:
            by_stage[stage] += n
            late += idle_n
            if counted:
                done += done_n[0] or 0
    return Tally(by_stage, late, days, done)


def business_figures(*, viewer, now=None, tally: Tally | None = None) -> dict:
    """The pipeline by stage, follow-ups done against due this month, signings this month.
    `tally`: the viewer's `member_tally` for the same moment, when the page has read it."""
    if not can(viewer, "members", "view"):
        return {}
    now = now or timezone.now()
    month_start = _day_start(timezone.localdate(now).replace(day=1))
    members = Member.objects.visible_to(viewer)
    tally = tally or member_tally(viewer=viewer, now=now)
    by_stage = tally.by_stage
    pipeline = [
        {"name": str(label), "value": by_stage.get(value, 0)}
        for value, label in c.SalesStage.choices
    ]
    due = members.filter(next_contact_at__gte=month_start, next_contact_at__lt=now).count()
    signed = _of_visible_members(
        MemberEvent.objects.filter(
            kind=EventKind.STAGE, created_at__gte=month_start, data__to=c.SalesStage.SIGNED
        ),
        viewer,
        few=True,  # a month's signings
    ).count()
    return {
        "members": sum(by_stage.values()),
        "pipeline": pipeline,
        "follow_ups_done": FollowUp.objects.filter(contacted_at__gte=month_start).count()
        if tally.follow_ups_done is None
        else tally.follow_ups_done,
        "follow_ups_due": due,
        "signed": signed,
    }


@dataclass
class Activity:
    """What happened around one member, from every app (the member page's activity panel)."""

    follow_ups: int
    last_follow_up: FollowUp | None
    service_notes: int
    last_service_note: FollowUp | None
    recommended_to_them: int
    recommended_to_others: int
    appointments: int
    appointments_held: int
    introductions: int
    sent: dict  # channel label → messages sent to the member
    received: int  # internal messages the member wrote
    last_login: datetime | None
    has_account: bool
    paid: Decimal  # payments received, before refunds
    refunded: Decimal  # approved refunds
    last_paid_on: date | None


def member_activity(*, viewer, member: Member) -> Activity:
    """Counts and the latest notes for a member the viewer may see (the caller checked that).
    Notes go through their member's visibility, tested on this one member (a key look-up, not
    a team's 22,000 members collected for each count); the other counts name no other
    member."""
    notes = FollowUp.objects.filter(
        member__in=Member.objects.visible_to(viewer).filter(pk=member.pk).values("pk")
    )
    counts = dict(notes.values_list("phase").annotate(n=Count("pk")).order_by())
    last = {
        phase: notes.filter(phase=phase).select_related("author").first()
        if counts.get(phase)
        else None
        for phase in (AllocationKind.PRESALES, AllocationKind.AFTERSALES)
    }
    appointments = Appointment.objects.filter(Q(member=member) | Q(partner=member)).aggregate(
        total=Count("pk"), held=Count("pk", filter=Q(status=AppointmentStatus.HELD))
    )
    recommendations = Recommendation.objects.filter(Q(member=member) | Q(candidate=member))
    recommended = recommendations.aggregate(
        to_them=Count("pk", filter=Q(member=member)),
        to_others=Count("pk", filter=Q(candidate=member)),
    )
    channels = dict(Channel.choices)
    sent = {
        str(channels.get(channel, channel)): n
        for channel, n in Delivery.objects.filter(member=member, status=DeliveryStatus.SENT)
        .values_list("channel")
        .annotate(n=Count("pk"))
        .order_by("channel")
    }
    account = MemberAccount.objects.filter(member=member).values_list("last_login", flat=True)
    account = list(account)
    payments = Payment.objects.filter(member=member).aggregate(
        total=Sum("amount"), last=Max("paid_on")
    )
    refunded = Refund.objects.filter(
        contract__member=member, status=RefundStatus.APPROVED
    ).aggregate(total=Sum("amount"))["total"]
    return Activity(
        follow_ups=counts.get(AllocationKind.PRESALES, 0),
        last_follow_up=last[AllocationKind.PRESALES],
        service_notes=counts.get(AllocationKind.AFTERSALES, 0),
        last_service_note=last[AllocationKind.AFTERSALES],
        recommended_to_them=recommended["to_them"],
        recommended_to_others=recommended["to_others"],
        appointments=appointments["total"],
        appointments_held=appointments["held"],
        introductions=IntroductionRequest.objects.filter(
            Q(member=member) | Q(target=member)
        ).count(),
        sent=sent,
        received=Message.objects.filter(sender_member=member).count(),
        last_login=account[0] if account else None,
        has_account=bool(account),
        paid=payments["total"] or Decimal(0),
        refunded=refunded or Decimal(0),
        last_paid_on=payments["last"],
    )
