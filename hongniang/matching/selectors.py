"""Reads for the match library, appointments and introduction requests, scoped through members."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThanOrEqual,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.matching import adapter, index
from hongniang.matching.models import (
    Appointment,
    Boost,
    IntroductionRequest,
    MatchStats,
    OptIn,
    Recommendation,
)
from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.models import Member, age_on
from hongniang.members.presenter import MemberView, own_member_ids, present_many
from hongniang.members.selectors import name_q
from hongniang.staff.permissions import can
from hongniang.staff.visibility import DataScope, Unindexed, user_scope, visible_staff_ids
from hongniang.workbench.listing import key_param

MEMBER_OWNERS = Member.objects.none().owner_fields  # a member is seen through either

APPOINTMENT_BUCKETS = {"0": (0, 0), "1": (1, 1), "2-3": (2, 3), "4+": (4, None)}


@dataclass
class Candidate:
    result: object  # the engine's Result
    member: MemberView  # through the presenter: another team's member shows public fields only
    visible: bool  # False: another team's member, only public fields may be shown
    matchmaker: object
    boost: Boost | None
    recommendation: Recommendation | None

    @property
    def score_line(self):
        return index.score_line(self.result)

    @property
    def explanations_a(self):
        return [e for e in self.result.explanations if e.direction == "a_to_b"]

    @property
    def explanations_b(self):
        return [e for e in self.result.explanations if e.direction == "b_to_a"]

    @property
    def explanations_other(self):
        return [e for e in self.result.explanations if e.direction not in ("a_to_b", "b_to_a")]


# --- who may be proposed to whom -------------------------------------------------------------
# Sales stages, service states and the candidate setting: the adapter's one rule (the engine is
# fed through it, so the offerable query and the engine agree).
MATCHED_SEXES = (c.Sex.MALE, c.Sex.FEMALE)


def offerable_q(prefix: str = "", *, indexed: bool = True) -> Q:
    """Members the engine may offer as candidates at all: matchable (birthday and sex known),
    not hidden, not married, and open to matching by their stage and status (the setting).

    `indexed=False` keeps sex and birthday off their index (`Unindexed`), for a query that
    should walk the members in key order and stop after its first rows (the partner search):
    SQLite would otherwise read every matchable member through that index, then sort them."""
    p = prefix
    if indexed:
        known = Q(**{f"{p}birthday__isnull": False}) & Q(**{f"{p}sex__in": MATCHED_SEXES})
    else:
        known = Q(IsNull(Unindexed(F(f"{p}birthday")), False)) & Q(
            In(Unindexed(F(f"{p}sex")), MATCHED_SEXES)
        )
    return (
        known
        & Q(**{f"{p}is_hidden": False})
        & adapter.candidate_q(adapter.candidate_rule(), prefix)
        & ~Q(**{f"{p}marital_status": c.MaritalStatus.MARRIED})
    )


def offerable_members():
    return Member.objects.filter(offerable_q())


def _offerable(member: Member) -> bool:
    """`offerable_q` for one row in memory."""
    return (
        member.birthday is not None
        and member.sex in MATCHED_SEXES
        and not member.is_hidden
        and adapter.engine_status(member) == "active"
        and member.marital_status != c.MaritalStatus.MARRIED
    )


def pair_problems(member: Member, partner: Member) -> list[str]:
    """Why the matching rules forbid proposing `partner` to `member` (empty: allowed).

    The one rule function for recommendations, boosts, appointments and introduction requests:
    the engine's hard rules as the site settings configure them (sex pairing, minimum age per
    sex, married members never), plus the states in which a member is not matched at all."""
    if member.pk == partner.pk:
        return [_("A member cannot be paired with themselves.")]
    rules = index.engine_config().rules
    problems = []
    for who in (member, partner):
        if not _offerable(who):
            problems.append(
                _(
                    "%(name)s is not open to matching (hidden, abandoned, paused, service "
                    "ended, married, or not offered by the candidate setting)."
                )
                % {"name": _("The member") if who is member else _("The partner")}
            )
    if problems:
        return problems
    same = member.sex == partner.sex
    if (rules.sex_pairing == "opposite" and same) or (rules.sex_pairing == "same" and not same):
        problems.append(_("The matching rules do not pair these sexes."))
    today = timezone.localdate()
    for who in (member, partner):
        minimum = rules.min_age_male if who.sex == c.Sex.MALE else rules.min_age_female
        if age_on(who.birthday, today) < minimum:
            problems.append(
                _("%(who)s is under the minimum age for matching (%(age)s).")
                % {
                    "who": _("The member") if who is member else _("The partner"),
                    "age": minimum,
                }
            )
    return problems


def pair_allowed(member: Member, partner: Member) -> bool:
    return not pair_problems(member, partner)


def check_pair(member: Member, partner: Member, field: str = "partner") -> None:
    """ValidationError on `field` when the rules forbid the pair."""
    problems = pair_problems(member, partner)
    if problems:
        raise ValidationError({field: problems})


def candidate_for(*, viewer, member: Member, pk: int) -> Member:
    """A member the viewer may act on as a candidate for their own `member`, by UID: anything
    else answers 404, exactly like a UID that does not exist (no name can be pulled out)."""
    if not Member.objects.visible_to(viewer).filter(pk=member.pk).exists():
        raise Http404
    candidate = get_object_or_404(offerable_members(), pk=pk)
    if not pair_allowed(member, candidate):
        raise Http404
    return candidate


SEARCH_LIMIT = 20


def partner_search(*, viewer, q: str, member: Member | None = None, own_only: bool = False):
    """Members to choose in a form, as presenter views.

    Names, mobiles and ID numbers (exact, through the keyed hash) are searched among the viewer's
    own members only, so that a search can never tell whether a name or number belongs to another
    team's member. Another team's member is found by UID alone and shown masked. With `member`,
    only partners the matching rules allow for that member are offered."""
    q = (q or "").strip()
    if not q:
        return []
    own = Member.objects.visible_to(viewer)
    pool = own if own_only else offerable_members()
    if not own_only:
        own = own.filter(offerable_q(indexed=False))
    hits = Member.objects.none()
    if q.isdigit() and len(q) < 11:
        hits = pool.filter(pk=key_param(q) or 0)
    else:
        by_hash = Q()
        for normalize, field in (
            (pd.normalize_mobile, "mobile_hash"),
            (pd.normalize_resident_id, "id_number_hash"),
        ):
            try:
                by_hash |= pd.hash_match(field, pd.lookup_hash(normalize(q)))
            except ValidationError:
                continue
        hits = own.filter(by_hash) if by_hash else own.filter(name_q(q))
    hits = hits.order_by("pk")[: SEARCH_LIMIT * 3]
    found = [m for m in hits if member is None or (m.pk != member.pk and pair_allowed(member, m))]
    return present_many(viewer, found[:SEARCH_LIMIT])


def presented(viewer, rows, *fields):
    """Set `<field>_shown` (a presenter view) on each row for each member foreign key, with one
    visibility query for the lot; templates print members of rows only through these."""
    rows = list(rows)
    ids = {getattr(row, f"{f}_id") for row in rows for f in fields}
    own = own_member_ids(viewer, ids)
    for row in rows:
        for f in fields:
            member = getattr(row, f)
            setattr(row, f"{f}_shown", MemberView(member, member.pk in own))
    return rows


def engine_unusable(*, viewer) -> list[tuple[int, str]]:
    """Members the engine had to leave out (bad data), for those who can fix it: people who
    see the site settings or approve in matching. Sorted by UID; reasons name no values."""
    if not (can(viewer, "settings", "view") or can(viewer, "matching", "approve")):
        return []
    return sorted(index.skipped().items())


def offered(member: Member) -> bool:
    """Whether the candidate setting opens this member to matching: the engine offers nobody to
    a member it does not offer (a library page then says why it is empty)."""
    return adapter.engine_status(member) == "active"


def engine_problem(member: Member) -> str | None:
    """Why the engine left this member out, if it did."""
    return index.skip_reason(member.pk)


def member_for_matching(*, viewer, pk: int) -> Member:
    return get_object_or_404(Member.objects.visible_to(viewer), pk=pk)


def match_candidates(*, viewer, member: Member, k: int = 30, filters: dict | None = None):
    """The engine's ranking for `member`, joined with the rows the page shows."""
    filters = filters or {}
    engine = index.get_engine()
    if member.pk not in engine:
        return []
    narrowing = any(v not in (None, "") for v in filters.values())
    results = engine.recommend(member.pk, k=max(k * 5, 100) if narrowing else k)
    ids = [r.candidate_id for r in results]
    rows = Member.objects.filter(pk__in=ids).select_related(
        "presales_owner", "aftersales_owner", "store"
    )
    rows = _filter_candidates(rows, filters)
    by_id = {m.pk: m for m in rows}
    visible = set(Member.objects.visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True))
    boosts = {b.candidate_id: b for b in Boost.objects.filter(member=member, candidate_id__in=ids)}
    recs = {}
    for rec in Recommendation.objects.filter(member=member, candidate_id__in=ids):
        recs.setdefault(rec.candidate_id, rec)
    out = []
    min_score = filters.get("min_score")
    team = filters.get("team")
    for result in results:
        cand = by_id.get(result.candidate_id)
        if cand is None or (min_score is not None and result.score < min_score):
            continue
        if (team == "mine" and cand.pk not in visible) or (team == "others" and cand.pk in visible):
            continue
        out.append(
            Candidate(
                result,
                MemberView(cand, cand.pk in visible),
                cand.pk in visible,
                cand.aftersales_owner or cand.presales_owner,
                boosts.get(cand.pk),
                recs.get(cand.pk),
            )
        )
        if len(out) >= k:
            break
    return out


def _filter_candidates(qs, filters):
    if filters.get("region"):
        from hongniang.members.selectors import region_q

        qs = qs.filter(region_q("region", filters["region"]))
    if filters.get("education") is not None:
        qs = qs.filter(education__gte=filters["education"])
    return qs


MATCH_COUNTS = ("times_matched", "times_recommended", "times_received")
# The library index's columns, and the owners and date its order and visibility test read.
LIBRARY_COLUMNS = (
    "name",
    "sex",
    "birthday",
    "service_status",
    "registered_at",
    "presales_owner_id",
    "aftersales_owner_id",
)


def library_members(*, viewer, filters: dict | None = None):
    """Members one works for in the match library, with their match counts: only the columns
    the page shows (a member row is ~100 columns; a page of 100 built them all)."""
    filters = filters or {}
    qs = (
        Member.objects.visible_to(viewer)
        .select_related("match_stats")
        .only(*LIBRARY_COLUMNS, *(f"match_stats__{key}" for key in MATCH_COUNTS))
    )
    if filters.get("q"):
        qs = qs.filter(name_q(filters["q"]) | Q(username__icontains=filters["q"]))
    for key in MATCH_COUNTS:
        lo = filters.get(f"{key}_min")
        if lo is not None:
            qs = qs.filter(**{f"match_stats__{key}__gte": lo})
    if filters.get("service_status"):
        qs = qs.filter(service_status=filters["service_status"])
    return qs


def recommendations_for(*, viewer, member: Member):
    qs = Recommendation.objects.filter(member=member).select_related(
        "candidate", "recommended_by", "answered_by"
    )
    return with_optins(presented(viewer, qs, "candidate"), "member", "candidate")


def recommended_to_others(*, viewer, member: Member):
    """Where `member` was proposed as a candidate (the candidate's matchmaker's view)."""
    qs = Recommendation.objects.filter(candidate=member).select_related("member", "recommended_by")
    return with_optins(presented(viewer, qs, "member"), "member", "candidate")


def optins_of(pairs) -> dict[tuple[int, int], OptIn]:
    """The double opt-in rows of these pairs of member keys, by (lower key, higher key): one
    query for a page of rows (the lists show each pair's state)."""
    keys = {(min(a, b), max(a, b)) for a, b in pairs}
    if not keys:
        return {}
    lows, highs = {k[0] for k in keys}, {k[1] for k in keys}
    found = OptIn.objects.filter(low_id__in=lows, high_id__in=highs)
    return {(p.low_id, p.high_id): p for p in found if (p.low_id, p.high_id) in keys}


def optin_partners(member_id: int) -> set[int]:
    """The other member of each double opt-in this member is one side of, whatever its state
    (a masked card waiting, answered, declined, withdrawn, ended): already shown to this member,
    never offered again as a fresh card."""
    rows = OptIn.objects.filter(Q(low_id=member_id) | Q(high_id=member_id))
    return {
        high if low == member_id else low for low, high in rows.values_list("low_id", "high_id")
    }


def optin_get(*, viewer, pk: int) -> OptIn:
    """A double opt-in of which the viewer sees at least one member; else not found."""
    visible = Member.objects.visible_to(viewer).values("pk")
    found = OptIn.objects.filter(Q(low__in=visible) | Q(high__in=visible), pk=pk)
    return get_object_or_404(found.select_related("low", "high"))


def with_optins(rows, first: str, second: str):
    """Each row gets `.optin`: the double opt-in of its two members (`first`_id, `second`_id),
    or None."""
    rows = list(rows)
    found = optins_of([(getattr(r, f"{first}_id"), getattr(r, f"{second}_id")) for r in rows])
    for r in rows:
        a, b = getattr(r, f"{first}_id"), getattr(r, f"{second}_id")
        r.optin = found.get((min(a, b), max(a, b)))
    return rows


def appointment_get(*, viewer, pk: int) -> Appointment:
    return get_object_or_404(appointments(viewer=viewer), pk=pk)


def appointment_sides(viewer, appointment: Appointment) -> tuple[str, ...]:
    """The sides of the appointment whose member the viewer may see ("member", "partner")."""
    own = own_member_ids(viewer, [appointment.member_id, appointment.partner_id])
    return tuple(
        side
        for side, pk in (("member", appointment.member_id), ("partner", appointment.partner_id))
        if pk in own
    )


@dataclass(frozen=True)
class VisibleList:
    """A list of rows with two members (an appointment's, an introduction request's), of which
    the viewer may see at least one, in two forms that select the same rows:

    - `rows`, for a page: each row's two members are looked up by key and their owners checked
      against the viewer's staff (a handful of ids), while the rows are read in the list's order
      through its index, so a page stops after its rows (PostgreSQL and SQLite alike);
    - `counted`, for the count: each row's keys are tested against the viewer's members,
      collected once per side through the owners' indexes (a union of two index ranges, not
      one pass over every member as an OR of the two owners makes PostgreSQL do)."""

    rows: QuerySet
    counted: QuerySet


def _owned_by(staff, prefix: str = "") -> Q:
    """Members (through `prefix`) that one of `staff` serves, before or after the sale."""
    q = Q()
    for field in MEMBER_OWNERS:
        q |= Q(**{f"{prefix}{field}_id__in": staff})
    return q


def touching_visible(qs, viewer, *fields: str) -> VisibleList:
    """Rows of `qs` of which the member behind at least one of the foreign keys `fields` is
    visible to the viewer. Whoever sees every member sees every row: no test at all."""
    if user_scope(viewer) == DataScope.ALL:
        return VisibleList(qs, qs)
    staff = visible_staff_ids(viewer)
    by_owner, by_key = Q(), Q()
    # The viewer's members collected once, one range of each owner's index (UNION ALL).
    keys = Member.objects.visible_keys(viewer, apart=True)
    for field in fields:
        by_owner |= _owned_by(staff, f"{field}__")
        by_key |= Q(In(Unindexed(F(f"{field}_id")), keys))
    return VisibleList(qs.filter(by_owner), qs.filter(by_key))


def _member_fields(*sides: str) -> list[str]:
    """What a list shows of each side's member (through the presenter: name and UID) and of its
    matchmakers: the rest of the wide member rows is left unread."""
    return [
        f"{side}__{field}"
        for side in sides
        for field in ("name", *(f"{owner}__name" for owner in MEMBER_OWNERS))
    ]


def _appointments(viewer, status: str = "") -> VisibleList:
    qs = Appointment.objects.all()
    if status:
        qs = qs.filter(status=status)
    found = touching_visible(qs, viewer, "member", "partner")
    return VisibleList(found.rows.select_related("member", "partner", "arranged_by"), found.counted)


def appointment_list(*, viewer, status: str = "") -> VisibleList:
    """The appointments list: the fields its rows show."""
    found = _appointments(viewer, status)
    own = [f.name for f in Appointment._meta.concrete_fields]
    rows = found.rows.only(*own, *_member_fields("member", "partner"), "arranged_by__name")
    return VisibleList(rows, found.counted)


def appointments(*, viewer, filters: dict | None = None):
    """The appointments the viewer may see (whole rows; a page's form, see `VisibleList`)."""
    return _appointments(viewer, (filters or {}).get("status", "")).rows


def members_by_appointments(*, viewer, arranged: str = "", bucket: str = ""):
    """Members with / without a planned appointment, or by number of appointments.

    Reads the per-member counters (`counters`), not the appointments: a member without a
    counter row has had none. `with_appointment_counts` adds the figures to a page's rows.
    The counters are kept off their indexes (`Unindexed`): the members are read in the list's
    order and their counters looked up by key, so a page stops after its rows instead of
    sorting every member of a bucket."""
    total = Unindexed(F("match_stats__appointments"))
    planned = Unindexed(F("match_stats__appointments_planned"))
    none = Q(match_stats__isnull=True)
    qs = Member.objects.visible_to(viewer)
    if arranged == "yes":
        qs = qs.filter(GreaterThan(planned, 0))
    elif arranged == "no":
        qs = qs.filter(none | Q(Exact(planned, 0)))
    if bucket in APPOINTMENT_BUCKETS:
        lo, hi = APPOINTMENT_BUCKETS[bucket]
        if lo == 0:
            qs = qs.filter(none | Q(LessThanOrEqual(total, hi)))
        else:
            qs = qs.filter(GreaterThanOrEqual(total, lo))
            if hi is not None:
                qs = qs.filter(LessThanOrEqual(total, hi))
    return qs.only("pk", "name", "registered_at")


def with_appointment_counts(members) -> list[Member]:
    """Set `n_appointments` and `n_planned` on each member (one query for the lot)."""
    members = list(members)
    stats = {
        pk: (n, p)
        for pk, n, p in MatchStats.objects.filter(pk__in=[m.pk for m in members]).values_list(
            "pk", "appointments", "appointments_planned"
        )
    }
    for m in members:
        m.n_appointments, m.n_planned = stats.get(m.pk, (0, 0))
    return members


def _introductions(viewer, status: str = "") -> VisibleList:
    qs = IntroductionRequest.objects.all()
    if status:
        qs = qs.filter(status=status)
    found = touching_visible(qs, viewer, "member", "target")
    rows = found.rows.select_related(
        "member",
        "target",
        "entered_by",
        "closed_by",
        *(f"{side}__{owner}" for side in ("member", "target") for owner in MEMBER_OWNERS),
    )
    return VisibleList(rows, found.counted)


def introduction_list(*, viewer, status: str = "") -> VisibleList:
    """The introductions list: the fields its rows show."""
    found = _introductions(viewer, status)
    own = [f.name for f in IntroductionRequest._meta.concrete_fields]
    rows = found.rows.only(
        *own, *_member_fields("member", "target"), "entered_by__name", "closed_by__name"
    )
    return VisibleList(rows, found.counted)


def introductions(*, viewer, status: str = ""):
    """The introduction requests the viewer may see (whole rows; see `VisibleList`)."""
    return _introductions(viewer, status).rows


def introduction_get(*, viewer, pk: int) -> IntroductionRequest:
    return get_object_or_404(introductions(viewer=viewer), pk=pk)


def learning_outcomes() -> list:
    """The agency's recorded outcomes for the learning step, in time order.

    The rule: each member's FIRST yes or no about another member is one outcome, whatever
    proposed the pair — a matchmaker's recommendation (answered in the workbench or the member
    centre), a daily suggestion, or the masked card another member's yes brought — at the time
    it was given, with the reasons of a no (`Answer`: the same answers the engine was told,
    `services.feedback_record`). Answering a recommendation is also the member's side of the
    pair's double opt-in: one answer, one outcome. A later answer about the same member (a
    second recommendation of the pair, a change of mind) and a withdrawn yes change the pair's
    state, not the outcome: a withdrawn yes stays a yes, never a "no". A mutual yes is the
    pair's two yes outcomes. Each held appointment that ended "continue" is a yes in both
    directions at its time."""
    from hongniang.matching.engine import REASONS
    from hongniang.matching.engine.learning import Outcome
    from hongniang.matching.models import Answer, Appointment, AppointmentOutcome

    def known(reasons) -> tuple[str, ...]:
        listed = reasons if isinstance(reasons, list) else []
        return tuple(r for r in listed if isinstance(r, str) and r in REASONS)

    out = [
        Outcome(member_id, other_id, accepted, at.timestamp(), () if accepted else known(reasons))
        for member_id, other_id, accepted, at, reasons in (
            Answer.objects.order_by("answered_at", "pk")
            .values_list("member_id", "other_id", "accepted", "answered_at", "reasons")
            .iterator(chunk_size=5000)
        )
    ]
    for member_id, partner_id, starts_at in (
        Appointment.objects.filter(outcome=AppointmentOutcome.CONTINUE)
        .values_list("member_id", "partner_id", "starts_at")
        .iterator()
    ):
        out.append(Outcome(member_id, partner_id, True, starts_at.timestamp()))
        out.append(Outcome(partner_id, member_id, True, starts_at.timestamp()))
    out.sort(key=lambda o: o.at)
    return out


def learned_models(limit: int = 20):
    """The learning step's latest runs, newest first, and the one in use (or None)."""
    from hongniang.matching.models import MatchModel

    runs = list(MatchModel.objects.all()[:limit])
    in_use = MatchModel.objects.filter(accepted=True).order_by("-trained_at", "-pk").first()
    return runs, in_use
