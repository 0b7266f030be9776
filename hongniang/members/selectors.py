"""Reads of members, always scoped to the viewer."""

import calendar
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.birthdays import lunar_today
from hongniang.members.models import Allocation, AllocationKind, AllocationStatus, Member
from hongniang.staff.models import Staff, StaffStatus, Store
from hongniang.staff.permissions import can
from hongniang.staff.visibility import DataScope, user_scope

# Registration windows of whitepaper 2.3.1 (三天内, 一个月, 三个月, 半年, 一年).
WINDOWS = {
    "3d": (timedelta(days=3), _("Within 3 days")),
    "1m": (timedelta(days=30), _("Within 1 month")),
    "3m": (timedelta(days=91), _("Within 3 months")),
    "6m": (timedelta(days=182), _("Within half a year")),
    "1y": (timedelta(days=365), _("Within 1 year")),
}

POOLS = {
    "unsigned": _("Not signed, to allocate"),
    "signed": _("Signed, to allocate"),
    "abandoned": _("Abandoned, to allocate"),
}

REALLOCATION_GROUPS = {
    "not_followed": _("Not followed up"),
    "followed": _("Followed up"),
    "unsigned": _("Not signed"),
    "signed": _("Signed"),
}

# What a row of the member lists shows; the list views load only these columns.
LIST_COLUMNS = (
    "pk",
    "username",
    "name",
    "sex",
    "birthday",
    "marital_status",
    "education",
    "height",
    "region",
    "mobile_masked",
    "sales_stage",
    "service_status",
    "registered_at",
    "allocated_at",
    "follow_up_count",
    "service_note_count",
    "followed_up_at",
    "next_contact_at",
    "presales_owner__name",
    "aftersales_owner__name",
    "store__name",
)


def member_get(*, viewer, pk: int) -> Member:
    return get_object_or_404(
        Member.objects.visible_to(viewer).select_related(
            "presales_owner", "aftersales_owner", "created_by", "store"
        ),
        pk=pk,
    )


def stores_for(viewer) -> QuerySet:
    """The stores a user may put members in: every store for the scope "all", else their own."""
    if user_scope(viewer) == DataScope.ALL:
        return Store.objects.all()
    return Store.objects.filter(pk=viewer.store_id)


def window_start(key: str):
    span = WINDOWS.get(key)
    return timezone.now() - span[0] if span else None


def birthday_bounds(age_min: int | None, age_max: int | None, today: date):
    """Birthday range for an age range: age ≥ n means born on or before today − n years."""
    q = Q()
    if age_min is not None:
        q &= Q(birthday__lte=_years_before(today, age_min))
    if age_max is not None:
        q &= Q(birthday__gt=_years_before(today, age_max + 1))
    return q


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone (where __date would cut it)."""
    start = datetime.combine(day, time.min)
    return timezone.make_aware(start) if settings.USE_TZ else start


def region_q(field: str, code: str) -> Q:
    """Members in a province, city or county, as an index-friendly code range."""
    if code.endswith("0000"):
        lo, hi = code, f"{int(code[:2]) + 1:02d}0000"
    elif code.endswith("00"):
        lo, hi = code, f"{int(code[:4]) + 1:04d}00"
    else:
        return Q(**{field: code})
    return Q(**{f"{field}__gte": lo, f"{field}__lt": hi})


def name_q(text: str) -> Q:
    """Members whose name contains the text: the one way a name is searched (the member lists,
    the finance lists' search box, the match library, the member pickers). Names are stored as
    typed, not encrypted.

    Case is ignored only when the text has case: a Chinese name has none, and PostgreSQL's
    `UPPER(name) LIKE UPPER(…)` converted every name of the table at each search (about half
    the cost of the scan); SQLite's LIKE ignores ASCII case either way."""
    lookup = "icontains" if text.upper() != text.lower() else "contains"
    return Q(**{f"name__{lookup}": text})


def apply_filters(qs: QuerySet, filters: dict) -> QuerySet:
    f = filters
    if f.get("member_id"):
        qs = qs.filter(pk=f["member_id"])
    if f.get("username"):
        qs = qs.filter(username__icontains=f["username"])
    if f.get("name"):
        qs = qs.filter(name_q(f["name"]))
    if f.get("mobile"):
        try:
            qs = qs.filter(
                pd.hash_match("mobile_hash", pd.lookup_hash(pd.normalize_mobile(f["mobile"])))
            )
        except ValidationError:  # a malformed number simply matches nobody
            qs = qs.none()
    if f.get("email"):
        qs = qs.filter(email__iexact=f["email"])
    if f.get("sex"):
        qs = qs.filter(sex=f["sex"])
    if f.get("age_min") is not None or f.get("age_max") is not None:
        qs = qs.filter(birthday_bounds(f.get("age_min"), f.get("age_max"), timezone.localdate()))
    if f.get("education") is not None and f.get("education") != "":
        qs = qs.filter(education__gte=f["education"])
    if f.get("marital_status"):
        qs = qs.filter(marital_status=f["marital_status"])
    if f.get("region"):
        qs = qs.filter(region_q("region", f["region"]))
    if f.get("window") and (start := window_start(f["window"])):
        qs = qs.filter(registered_at__gte=start)
    # Day bounds as instants (not registered_at__date), so that the registered_at indexes apply.
    if f.get("registered_from"):
        qs = qs.filter(registered_at__gte=day_start(f["registered_from"]))
    if f.get("registered_to"):
        qs = qs.filter(registered_at__lt=day_start(f["registered_to"] + timedelta(days=1)))
    if f.get("owner"):
        owner = f["owner"]
        qs = qs.filter(Q(presales_owner=owner) | Q(aftersales_owner=owner))
    if f.get("sales_stage"):
        qs = qs.filter(sales_stage=f["sales_stage"])
    if f.get("service_status"):
        qs = qs.filter(service_status=f["service_status"])
    return qs


def member_list(*, viewer, filters: dict | None = None) -> QuerySet:
    qs = Member.objects.visible_to(viewer).select_related(
        "presales_owner", "aftersales_owner", "store"
    )
    return apply_filters(qs, filters or {})


def pool_base(*, viewer) -> QuerySet:
    """Members in the pools, for those who may allocate: their store, or all for scope `all`
    (DESIGN.md, Permissions). A pooled member whose owner is still set (a signed member's
    pre-sales matchmaker, an abandoned member's matchmaker) belongs to that owner's team: only
    someone who can see that owner may take the member."""
    if not can(viewer, "members", "allocate"):
        return Member.objects.none()
    qs = Member.objects.all()
    if user_scope(viewer) != DataScope.ALL:
        # The team as a subquery, not literal ids: each owner may also be empty, and with
        # literal ids PostgreSQL splits "empty or one of the team" into two index lookups and
        # reads the rows from the table; with a subquery it counts a pool from the index.
        team = Staff.objects.visible_to(viewer).values("pk")
        qs = qs.filter(
            Q(presales_owner__isnull=True) | Q(presales_owner_id__in=team),
            Q(aftersales_owner__isnull=True) | Q(aftersales_owner_id__in=team),
            store_id=viewer.store_id,
        )
    return qs


# The pools and the kind of matchmaker a member taken from each goes to.
POOL_KINDS = {
    "unsigned": AllocationKind.PRESALES,
    "signed": AllocationKind.AFTERSALES,
    "abandoned": AllocationKind.PRESALES,
}
# A role serves pre-sales (after-sales) members when it has any right in that module.
KIND_MODULES = {AllocationKind.PRESALES: "presales", AllocationKind.AFTERSALES: "aftersales"}


def serves(staff: Staff, kind: str) -> bool:
    """Whether the staff member's role fits members of this allocation kind."""
    if staff.is_superuser:
        return True
    module = KIND_MODULES[kind]
    return staff.role is not None and any(
        grant.startswith(f"{module}.") for grant in staff.role.grant_set
    )


def assignees(*, viewer, kind: str | None = None) -> QuerySet:
    """Active staff the viewer can see and may allocate to; with a kind, those whose role fits
    it (pre-sales roles for the unsigned and abandoned pools, after-sales for the signed one)."""
    qs = (
        Staff.objects.visible_to(viewer)
        .filter(status=StaffStatus.NORMAL)
        .select_related("role")
        .order_by("path")
    )
    if kind is None:
        return qs
    return qs.filter(pk__in=[s.pk for s in qs if serves(s, kind)])


def pool_members(*, viewer, pool: str, filters: dict | None = None) -> QuerySet:
    qs = pool_base(viewer=viewer)
    if pool == "signed":
        qs = qs.filter(sales_stage=c.SalesStage.SIGNED, aftersales_owner__isnull=True)
    elif pool == "abandoned":
        qs = qs.filter(sales_stage=c.SalesStage.ABANDONED)
    else:
        qs = qs.filter(
            sales_stage__in=[c.SalesStage.NEW, c.SalesStage.FOLLOWING], presales_owner__isnull=True
        )
    return apply_filters(
        qs.select_related("presales_owner", "aftersales_owner", "store"), filters or {}
    )


def reallocation_members(*, viewer, group: str, filters: dict | None = None) -> QuerySet:
    """Members already assigned and visible to the viewer, grouped as in whitepaper 2.3.2."""
    if not can(viewer, "members", "allocate"):
        return Member.objects.none()
    qs = Member.objects.visible_to(viewer).filter(
        Q(presales_owner__isnull=False) | Q(aftersales_owner__isnull=False)
    )
    if group == "followed":
        qs = qs.filter(followed_up_at__isnull=False)
    elif group == "unsigned":
        qs = qs.filter(sales_stage__in=[c.SalesStage.NEW, c.SalesStage.FOLLOWING])
    elif group == "signed":
        qs = qs.filter(sales_stage=c.SalesStage.SIGNED)
    else:
        qs = qs.filter(followed_up_at__isnull=True)
    return apply_filters(
        qs.select_related("presales_owner", "aftersales_owner", "store"), filters or {}
    )


def allocatable_members(*, viewer) -> QuerySet:
    """Everything the viewer may allocate: their pools plus the assigned members they can see."""
    if not can(viewer, "members", "allocate"):
        return Member.objects.none()
    visible = Member.objects.visible_to(viewer).values("pk")
    pools = (
        pool_base(viewer=viewer)
        .filter(
            Q(presales_owner__isnull=True, aftersales_owner__isnull=True)
            | Q(sales_stage=c.SalesStage.SIGNED, aftersales_owner__isnull=True)
            | Q(sales_stage=c.SalesStage.ABANDONED)
        )
        .values("pk")
    )
    return Member.objects.filter(Q(pk__in=visible) | Q(pk__in=pools))


# --- follow-up lists (whitepaper 2.4.1, 2.4.2, 2.5.1) --------------------------------------------

PRESALES_LISTS = {
    "not_followed": _("Not followed up"),
    "followed": _("Followed up"),
    "unsigned": _("Not signed"),
    "birthday_today": _("Birthday today"),
    "birthday_month": _("Birthday this month"),
}
AFTERSALES_LISTS = {
    "all": _("All members"),
    "never": _("To follow up"),
    "once": _("Followed up once"),
    "upto3": _("Up to three times"),
    "upto5": _("Up to five times"),
    "six_plus": _("Six times or more"),
}
# Follow-up counts of each list (min, max), for the pre-sales buckets too.
FOLLOW_UP_BUCKETS = {
    "never": (0, 0),
    "once": (1, 1),
    "upto3": (1, 3),
    "upto5": (1, 5),
    "six_plus": (6, None),
}
# The follow-up buckets as chips of the pre-sales lists.
AFTERSALES_LISTS_BUCKETS = {key: AFTERSALES_LISTS[key] for key in FOLLOW_UP_BUCKETS}
# Registration windows of whitepaper 2.4.2 (my members by registration time).
REGISTRATION_WINDOWS = {
    "today": _("Today"),
    "3d": _("Within 3 days"),
    "1w": _("Within a week"),
    "1m": _("Within a month"),
    "more": _("More than a month ago"),
}
OPEN_STAGES = (c.SalesStage.NEW, c.SalesStage.FOLLOWING)


def _bucket_q(field: str, key: str) -> Q:
    lo, hi = FOLLOW_UP_BUCKETS[key]
    q = Q(**{f"{field}__gte": lo})
    return q & Q(**{f"{field}__lte": hi}) if hi is not None else q


def registration_window_q(key: str) -> Q:
    today = timezone.localdate()
    starts = {
        "today": today,
        "3d": today - timedelta(days=2),
        "1w": today - timedelta(days=6),
        "1m": today - timedelta(days=29),
    }
    if key == "more":
        return Q(registered_at__lt=day_start(today - timedelta(days=29)))
    return Q(registered_at__gte=day_start(starts[key])) if key in starts else Q()


def _month_q(field: str, month: str) -> Q:
    """A month of "MM-DD" keys as an index range."""
    return Q(**{f"{field}__gte": f"{month}-01", f"{field}__lte": f"{month}-31"})


def birthday_parts(today: date, *, month: bool = False) -> tuple[Q, Q]:
    """Members whose birthday is today (or this month), whatever the year: by the Gregorian
    date, and by the lunar one for members who celebrate that (`members.birthdays`). On 28
    February of a common year, those born on 29 February have their birthday too. Each
    calendar's "MM-DD" has its own indexed column, empty for members of the other calendar, so
    the two never select the same member."""
    lunar_days, lunar_month = lunar_today(today)
    if month:
        solar = _month_q("birthday_md", f"{today:%m}")
        lunar = _month_q("lunar_birthday_md", lunar_month) if lunar_month else Q(pk__in=[])
    else:
        days = [f"{today:%m-%d}"]
        if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
            days.append("02-29")
        solar = Q(birthday_md__in=days)
        lunar = Q(lunar_birthday_md__in=lunar_days)
    return solar, lunar


def birthday_q(today: date, *, month: bool = False) -> Q:
    solar, lunar = birthday_parts(today, month=month)
    return solar | lunar


def birthday_count(qs: QuerySet, today: date, *, month: bool = False) -> int:
    """How many of `qs` have their birthday today (this month): one count per calendar, each
    a range of its own index. Counted together (an OR of the two columns) the database
    collects both ranges and reads every row they name from the table."""
    return sum(qs.filter(part).count() for part in birthday_parts(today, month=month))


# The birthday lists and whether each covers the month (else the day).
BIRTHDAY_LISTS = {"birthday_today": False, "birthday_month": True}


def presales_members(*, viewer, listing: str, filters: dict | None = None) -> QuerySet:
    """The pre-sales lists of the viewer's members (whitepaper 2.4.1/2.4.2), with the member
    filters, a registration window (`reg`) and a number of follow-ups (`fu`)."""
    return _presales(viewer, listing, filters)


def presales_count(*, viewer, listing: str, filters: dict | None = None) -> int:
    """How many members a pre-sales list holds; a birthday list is counted per calendar
    (`birthday_count`)."""
    if listing in BIRTHDAY_LISTS:
        qs = _presales(viewer, listing, filters, birthdays=False)
        return birthday_count(qs, timezone.localdate(), month=BIRTHDAY_LISTS[listing])
    return _presales(viewer, listing, filters).count()


def _presales(viewer, listing: str, filters: dict | None, *, birthdays: bool = True) -> QuerySet:
    """A pre-sales list; `birthdays=False` leaves a birthday list's birthday test to the
    caller."""
    f = dict(filters or {})
    qs = Member.objects.visible_to(viewer)
    today = timezone.localdate()
    if listing == "followed":
        qs = qs.filter(sales_stage__in=OPEN_STAGES, follow_up_count__gt=0)
    elif listing == "unsigned":
        qs = qs.filter(sales_stage__in=OPEN_STAGES)
    elif listing in BIRTHDAY_LISTS:
        if birthdays:
            qs = qs.filter(birthday_q(today, month=BIRTHDAY_LISTS[listing]))
        qs = qs.exclude(sales_stage=c.SalesStage.ABANDONED)
    else:
        qs = qs.filter(sales_stage__in=OPEN_STAGES, follow_up_count=0)
    if f.get("reg") in REGISTRATION_WINDOWS:
        qs = qs.filter(registration_window_q(f["reg"]))
    if f.get("fu") in FOLLOW_UP_BUCKETS:
        qs = qs.filter(_bucket_q("follow_up_count", f["fu"]))
    return apply_filters(qs.select_related("presales_owner", "aftersales_owner", "store"), f)


def aftersales_members(*, viewer, listing: str, filters: dict | None = None) -> QuerySet:
    """The after-sales lists (whitepaper 2.5.1): the viewer's signed members by how often they
    have been followed up since signing."""
    qs = Member.objects.visible_to(viewer).filter(sales_stage=c.SalesStage.SIGNED)
    if listing in FOLLOW_UP_BUCKETS:
        qs = qs.filter(_bucket_q("service_note_count", listing))
    return apply_filters(
        qs.select_related("presales_owner", "aftersales_owner", "store"), filters or {}
    )


# --- the public pool (公海) and allocations waiting for an answer ----------------------------


def public_pool_members(*, viewer) -> QuerySet:
    """Members in the public pool the viewer may claim: their store's (every store for the
    scope "all"), unsigned and without a matchmaker."""
    if not (can(viewer, "presales", "add") and serves(viewer, AllocationKind.PRESALES)):
        return Member.objects.none()
    qs = Member.objects.filter(
        public_pool_at__isnull=False, presales_owner__isnull=True, sales_stage__in=OPEN_STAGES
    )
    if user_scope(viewer) != DataScope.ALL:
        qs = qs.filter(store_id=viewer.store_id)
    return qs


def held_unsigned(staff: Staff) -> int:
    return Member.objects.filter(presales_owner=staff, sales_stage__in=OPEN_STAGES).count()


def pending_allocations(*, viewer) -> QuerySet:
    return (
        Allocation.objects.filter(status=AllocationStatus.PENDING, to_staff=viewer)
        .select_related("member", "by", "from_staff")
        .order_by("created_at", "pk")
    )
