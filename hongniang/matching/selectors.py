"""Reads for the match library, appointments and introduction requests, scoped through members."""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from hongniang.matching import index
from hongniang.matching.models import (
    Appointment,
    AppointmentStatus,
    Boost,
    IntroductionRequest,
    Recommendation,
)
from hongniang.members.models import Member

APPOINTMENT_BUCKETS = {"0": (0, 0), "1": (1, 1), "2-3": (2, 3), "4+": (4, None)}


@dataclass
class Candidate:
    result: object  # the engine's Result
    member: Member
    visible: bool  # False: another team's member, only public fields may be shown
    matchmaker: object
    boost: Boost | None
    recommendation: Recommendation | None

    @property
    def explanations_a(self):
        return [e for e in self.result.explanations if e.direction == "a_to_b"]

    @property
    def explanations_b(self):
        return [e for e in self.result.explanations if e.direction == "b_to_a"]

    @property
    def explanations_other(self):
        return [e for e in self.result.explanations if e.direction not in ("a_to_b", "b_to_a")]


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
                cand,
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


def library_members(*, viewer, filters: dict | None = None):
    """Members one works for in the match library, with their match counts."""
    filters = filters or {}
    qs = Member.objects.visible_to(viewer).select_related(
        "match_stats", "presales_owner", "aftersales_owner"
    )
    if filters.get("q"):
        qs = qs.filter(Q(name__icontains=filters["q"]) | Q(username__icontains=filters["q"]))
    for key in ("times_matched", "times_recommended", "times_received"):
        lo = filters.get(f"{key}_min")
        if lo is not None:
            qs = qs.filter(**{f"match_stats__{key}__gte": lo})
    if filters.get("service_status"):
        qs = qs.filter(service_status=filters["service_status"])
    return qs


def recommendations_for(*, viewer, member: Member):
    return Recommendation.objects.filter(member=member).select_related(
        "candidate", "recommended_by", "answered_by"
    )


def appointment_get(*, viewer, pk: int) -> Appointment:
    visible = Member.objects.visible_to(viewer).values("pk")
    return get_object_or_404(
        Appointment.objects.filter(Q(member__in=visible) | Q(partner__in=visible)).select_related(
            "member", "partner", "arranged_by"
        ),
        pk=pk,
    )


def appointments(*, viewer, filters: dict | None = None):
    filters = filters or {}
    visible = Member.objects.visible_to(viewer).values("pk")
    qs = Appointment.objects.filter(Q(member__in=visible) | Q(partner__in=visible)).select_related(
        "member", "partner", "arranged_by"
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    return qs


def members_by_appointments(*, viewer, arranged: str = "", bucket: str = ""):
    """Members with / without a planned appointment, or by number of appointments."""
    qs = Member.objects.visible_to(viewer).annotate(
        n_appointments=Count("appointments", distinct=True)
        + Count("appointments_as_partner", distinct=True),
        n_planned=Count(
            "appointments", filter=Q(appointments__status=AppointmentStatus.PLANNED), distinct=True
        )
        + Count(
            "appointments_as_partner",
            filter=Q(appointments_as_partner__status=AppointmentStatus.PLANNED),
            distinct=True,
        ),
    )
    if arranged == "yes":
        qs = qs.filter(n_planned__gt=0)
    elif arranged == "no":
        qs = qs.filter(n_planned=0)
    if bucket in APPOINTMENT_BUCKETS:
        lo, hi = APPOINTMENT_BUCKETS[bucket]
        qs = qs.filter(n_appointments__gte=lo)
        if hi is not None:
            qs = qs.filter(n_appointments__lte=hi)
    return qs.select_related("presales_owner", "aftersales_owner")


def introductions(*, viewer, status: str = ""):
    visible = Member.objects.visible_to(viewer).values("pk")
    qs = IntroductionRequest.objects.filter(
        Q(member__in=visible) | Q(target__in=visible)
    ).select_related(
        "member",
        "target",
        "entered_by",
        "closed_by",
        "member__presales_owner",
        "member__aftersales_owner",
        "target__presales_owner",
        "target__aftersales_owner",
    )
    return qs.filter(status=status) if status else qs


def introduction_get(*, viewer, pk: int) -> IntroductionRequest:
    return get_object_or_404(introductions(viewer=viewer), pk=pk)
