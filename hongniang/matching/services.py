"""Writes of the match library, appointments and introduction requests.

Permissions: module "matching". Visibility: the member acted for must be visible to the actor;
the candidate may belong to another team (cross-team recommendations are the point).
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.matching import engine as eng
from hongniang.matching import index
from hongniang.matching.models import (
    Appointment,
    AppointmentStatus,
    Boost,
    IntroductionRequest,
    IntroductionStatus,
    MatchSeen,
    MatchStats,
    Recommendation,
    RecommendationStatus,
)
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.messaging.services import notify
from hongniang.staff.permissions import can

DOUBLE_BOOKING_WINDOW = timedelta(hours=3)


def _require(actor, action: str, member: Member):
    if not can(actor, "matching", action):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied


def _stats(*member_ids):
    for pk in member_ids:
        MatchStats.objects.get_or_create(member_id=pk)


def _event(member, actor, summary, **data):
    MemberEvent.objects.create(
        member=member, actor=actor, kind=EventKind.MATCHING, summary=summary[:300], data=data
    )


def matchmaker_of(member: Member):
    return member.aftersales_owner or member.presales_owner


def record_shown(member: Member, candidate_ids: list[int]) -> None:
    """Count each candidate once per member the first time the library shows them."""
    seen = set(
        MatchSeen.objects.filter(member=member, candidate_id__in=candidate_ids).values_list(
            "candidate_id", flat=True
        )
    )
    new = [pk for pk in candidate_ids if pk not in seen]
    if not new:
        return
    with transaction.atomic():
        MatchSeen.objects.bulk_create(
            [MatchSeen(member=member, candidate_id=pk) for pk in new], ignore_conflicts=True
        )
        _stats(*new)
        MatchStats.objects.filter(member_id__in=new).update(times_matched=F("times_matched") + 1)


@transaction.atomic
def recommend(*, actor, member: Member, candidate: Member, reason: str) -> Recommendation:
    _require(actor, "add", member)
    if not reason.strip():
        raise ValidationError({"reason": _("Write why you recommend this person.")})
    if Recommendation.objects.filter(
        member=member,
        candidate=candidate,
        status__in=[RecommendationStatus.SENT, RecommendationStatus.VIEWED],
    ).exists():
        raise ValidationError(_("This candidate was already recommended and awaits an answer."))
    engine = index.get_engine()
    both_known = member.pk in engine and candidate.pk in engine
    result = engine.score(member.pk, candidate.pk, explain=False) if both_known else None
    if result is not None and not result.eligible:
        raise ValidationError(
            _("This pair breaks a matching rule: %(why)s")
            % {"why": "; ".join(f.text for f in result.failed_rules)}
        )
    rec = Recommendation.objects.create(
        member=member,
        candidate=candidate,
        recommended_by=actor,
        reason=reason.strip(),
        score=round(result.score) if result else None,
    )
    _stats(member.pk, candidate.pk)
    MatchStats.objects.filter(pk=member.pk).update(times_received=F("times_received") + 1)
    MatchStats.objects.filter(pk=candidate.pk).update(times_recommended=F("times_recommended") + 1)
    _event(
        member,
        actor,
        _("Recommended %(name)s") % {"name": candidate.name},
        recommendation=rec.pk,
        candidate=candidate.pk,
    )
    other = matchmaker_of(candidate)
    if other is not None and other.pk != actor.pk:
        notify(
            recipient=other,
            text=_("%(actor)s recommended your member %(candidate)s to %(member)s.")
            % {"actor": actor.name, "candidate": candidate.name, "member": member.name},
            link=reverse("matching:library", args=[member.pk]),
        )
    return rec


@transaction.atomic
def recommendation_answer(
    *,
    actor,
    recommendation: Recommendation,
    accepted: bool,
    reasons: list[str] | tuple = (),
    note: str = "",
) -> Recommendation:
    """The member's answer, entered by staff; it reaches the engine as feedback (反选)."""
    _require(actor, "edit", recommendation.member)
    if recommendation.status in (RecommendationStatus.ACCEPTED, RecommendationStatus.DECLINED):
        raise ValidationError(_("This recommendation has already been answered."))
    reasons = [r for r in reasons if r in eng.REASONS]
    if not accepted and not reasons:
        raise ValidationError({"reasons": _("Choose at least one reason for the decline.")})
    recommendation.status = (
        RecommendationStatus.ACCEPTED if accepted else RecommendationStatus.DECLINED
    )
    recommendation.decline_reasons = [] if accepted else reasons
    recommendation.answer_note = note[:300]
    recommendation.answered_by, recommendation.answered_at = actor, timezone.now()
    recommendation.save()
    _event(
        recommendation.member,
        actor,
        (_("Accepted %(name)s") if accepted else _("Declined %(name)s"))
        % {"name": recommendation.candidate.name},
        recommendation=recommendation.pk,
    )
    index.with_engine(
        lambda e, a, b: e.feedback(a, b, accepted, reasons),
        recommendation.member_id,
        recommendation.candidate_id,
    )
    return recommendation


@transaction.atomic
def boost_set(*, actor, member: Member, candidate: Member, pin: bool, points: int) -> Boost:
    _require(actor, "edit", member)
    boost, _created = Boost.objects.update_or_create(
        member=member,
        candidate=candidate,
        defaults={"pin": pin, "points": max(0, min(50, points)), "by": actor},
    )
    index.with_engine(
        lambda e, a, b: e.boost(a, b, boost.pin, float(boost.points)), member.pk, candidate.pk
    )
    _event(
        member,
        actor,
        _("Boosted %(name)s") % {"name": candidate.name},
        candidate=candidate.pk,
        pin=pin,
        points=boost.points,
    )
    return boost


@transaction.atomic
def boost_remove(*, actor, member: Member, candidate: Member) -> None:
    _require(actor, "edit", member)
    Boost.objects.filter(member=member, candidate=candidate).delete()
    index.with_engine(lambda e, a, b: e.unboost(a, b), member.pk, candidate.pk)


def double_bookings(*, member: Member, partner: Member, starts_at, exclude_pk=None):
    """Planned appointments of either person within a few hours of `starts_at`."""
    ids = [member.pk, partner.pk]
    qs = Appointment.objects.filter(
        status=AppointmentStatus.PLANNED,
        starts_at__gt=starts_at - DOUBLE_BOOKING_WINDOW,
        starts_at__lt=starts_at + DOUBLE_BOOKING_WINDOW,
    ).filter(Q(member_id__in=ids) | Q(partner_id__in=ids))
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


@transaction.atomic
def appointment_create(
    *, actor, appointment: Appointment, allow_double_booking: bool = False
) -> Appointment:
    _require(actor, "add", appointment.member)
    clashes = double_bookings(
        member=appointment.member, partner=appointment.partner, starts_at=appointment.starts_at
    )
    if clashes.exists() and not allow_double_booking:
        raise ValidationError(
            {
                "starts_at": _(
                    "One of them already has an appointment around this time. "
                    "Tick the box to book anyway."
                )
            },
            code="double_booking",
        )
    appointment.arranged_by = actor
    appointment.full_clean()
    appointment.save()
    for who, other in (
        (appointment.member, appointment.partner),
        (appointment.partner, appointment.member),
    ):
        MemberEvent.objects.create(
            member=who,
            actor=actor,
            kind=EventKind.MATCHING,
            summary=_("Appointment with %(name)s at %(place)s")
            % {"name": other.name, "place": appointment.place},
            data={"appointment": appointment.pk},
        )
    other_mm = matchmaker_of(appointment.partner)
    if other_mm is not None and other_mm.pk != actor.pk:
        notify(
            recipient=other_mm,
            text=_("%(actor)s arranged an appointment for %(name)s.")
            % {"actor": actor.name, "name": appointment.partner.name},
            link=reverse("matching:appointments"),
        )
    return appointment


@transaction.atomic
def appointment_update(*, actor, appointment: Appointment) -> Appointment:
    """Save status, feedback and outcome; a held appointment's outcome feeds the engine."""
    _require(actor, "edit", appointment.member)
    before = Appointment.objects.get(pk=appointment.pk)
    appointment.full_clean()
    appointment.save()
    newly_held = appointment.status == AppointmentStatus.HELD and (
        before.status != AppointmentStatus.HELD or before.outcome != appointment.outcome
    )
    if newly_held:
        kinds = index.appointment_interactions(appointment)
        if before.status == AppointmentStatus.HELD:
            kinds = kinds[1:]  # "held" was already recorded; only the new outcome counts

        def feed(e, a, b):
            for kind in kinds:
                e.interaction(a, b, kind)
                e.interaction(b, a, kind)

        index.with_engine(feed, appointment.member_id, appointment.partner_id)
    return appointment


@transaction.atomic
def introduction_create(*, actor, request: IntroductionRequest) -> IntroductionRequest:
    _require(actor, "add", request.member)
    if IntroductionRequest.objects.filter(
        member=request.member, target=request.target, status=IntroductionStatus.OPEN
    ).exists():
        raise ValidationError(_("There is already an open request for this pair."))
    request.entered_by = actor
    request.full_clean()
    request.save()
    index.with_engine(
        lambda e, a, b: e.interaction(a, b, "like"), request.member_id, request.target_id
    )
    other = matchmaker_of(request.target)
    if other is not None and other.pk != actor.pk:
        notify(
            recipient=other,
            text=_("%(member)s would like to meet your member %(target)s.")
            % {"member": request.member.name, "target": request.target.name},
            link=reverse("matching:introductions"),
        )
    return request


@transaction.atomic
def introduction_close(
    *,
    actor,
    request: IntroductionRequest,
    status: str,
    note: str = "",
    appointment: Appointment | None = None,
) -> IntroductionRequest:
    """Close as arranged (with a new appointment), declined or withdrawn.

    Either side's matchmaker may close it: the member or the target must be visible."""
    if not can(actor, "matching", "edit"):
        raise PermissionDenied
    visible = (
        Member.objects.visible_to(actor)
        .filter(pk__in=[request.member_id, request.target_id])
        .exists()
    )
    if not visible:
        raise PermissionDenied
    if request.status != IntroductionStatus.OPEN:
        raise ValidationError(_("This request is already closed."))
    if status not in (
        IntroductionStatus.ARRANGED,
        IntroductionStatus.DECLINED,
        IntroductionStatus.WITHDRAWN,
    ):
        raise ValidationError(_("Choose how the request ends."))
    if status == IntroductionStatus.ARRANGED:
        if appointment is None:
            raise ValidationError(_("An arranged introduction needs an appointment."))
        appointment.member, appointment.partner = request.member, request.target
        appointment.arranged_by = actor
        appointment.full_clean()
        appointment.save()
        request.appointment = appointment
    request.status, request.close_note = status, note[:300]
    request.closed_by, request.closed_at = actor, timezone.now()
    request.save()
    return request
