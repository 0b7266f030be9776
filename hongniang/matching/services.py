"""Writes of the match library, appointments and introduction requests.

Permissions: module "matching". Visibility: the member acted for must be visible to the actor;
the candidate may belong to another team (cross-team recommendations are the point).
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.matching import engine as eng
from hongniang.matching import index
from hongniang.matching.counters import count_appointments
from hongniang.matching.models import (
    Answer,
    AnswerVia,
    Appointment,
    AppointmentStatus,
    Boost,
    DeclineReason,
    EngineChangeKind,
    IntroductionRequest,
    IntroductionStatus,
    MatchSeen,
    MatchStats,
    OptIn,
    OptInState,
    Recommendation,
    RecommendationStatus,
)
from hongniang.matching.selectors import appointment_sides, check_pair
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.presenter import MemberView, contact_like, member_label
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


def _label_for_team(member: Member, other: Member) -> str:
    """`other` as the timeline of `member` may print it: that timeline is read by `member`'s
    team, so `other` is composed for `member`'s matchmaker (masked when of another team)."""
    reader = matchmaker_of(member)
    return member_label(reader, other) if reader else MemberView(other, own=False).label


def _notify_matchmaker(*, about: Member, actor, text: str, link, **members: Member) -> None:
    """Tell `about`'s matchmaker (unless they acted themselves). The text is composed for that
    recipient: each member in `members` goes through the presenter for them, and `link(recipient)`
    gives a page the recipient may open."""
    recipient = matchmaker_of(about)
    if recipient is None or recipient.pk == actor.pk:
        return
    names = {key: member_label(recipient, m) for key, m in members.items()}
    notify(recipient=recipient, text=text % {"actor": actor.name, **names}, link=link(recipient))


def _member_page(member: Member):
    """The page about `member` for its own matchmaker: the match library if they may use it."""

    def link(recipient):
        if can(recipient, "matching", "view"):
            return reverse("matching:library", args=[member.pk]) + "#recommended-as"
        return reverse("members:detail", args=[member.pk])

    return link


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
    check_pair(member, candidate, "candidate")
    if not reason.strip():
        raise ValidationError({"reason": _("Write why you recommend this person.")})
    reason_check(reason, candidate)
    if Recommendation.objects.filter(
        member=member,
        candidate=candidate,
        status__in=[RecommendationStatus.SENT, RecommendationStatus.VIEWED],
    ).exists():
        raise ValidationError(_("This candidate was already recommended and awaits an answer."))
    try:
        engine = index.get_engine()
    except index.EngineNotReady:
        engine = None  # no score yet; the rules were checked above (check_pair)
    both_known = engine is not None and member.pk in engine and candidate.pk in engine
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
        _("Recommended %(name)s") % {"name": _label_for_team(member, candidate)},
        recommendation=rec.pk,
        candidate=candidate.pk,
    )
    _event(
        candidate,
        actor,
        _("Recommended to %(name)s") % {"name": _label_for_team(candidate, member)},
        recommendation=rec.pk,
        recommended_to=member.pk,
    )
    _notify_matchmaker(
        about=candidate,
        actor=actor,
        text=_("%(actor)s recommended your member %(candidate)s to %(member)s."),
        link=_member_page(candidate),
        candidate=candidate,
        member=member,
    )
    return rec


def reason_check(reason: str, candidate: Member) -> None:
    """The member reads the reason as typed: refuse one that names the candidate or carries a
    way to reach them (a number, an e-mail or WeChat account)."""
    found = contact_like(reason, [candidate.name])
    if found:
        raise ValidationError(
            {
                "reason": _(
                    "The member reads this reason: leave out phone and ID numbers, e-mail and "
                    "WeChat accounts and the candidate's name (found: %(found)s)."
                )
                % {"found": "、".join(f"“{part}”" for part in found)}
            }
        )


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
    return _answer(recommendation, accepted=accepted, reasons=reasons, note=note, actor=actor)


@transaction.atomic
def recommendation_answer_by_member(
    *,
    member: Member,
    recommendation: Recommendation,
    accepted: bool,
    reasons: list[str] | tuple = (),
    note: str = "",
    actor=None,
) -> Recommendation:
    """The member answers in the member centre: the same feedback as a staff-entered answer,
    and their matchmaker is told. `actor`: the staff user browsing as the member, if any."""
    if recommendation.member_id != member.pk:
        raise PermissionDenied
    _answer(recommendation, accepted=accepted, reasons=reasons, note=note, actor=actor)
    tell_matchmaker_of_answer(member, recommendation.candidate, accepted, reasons)
    return recommendation


def tell_matchmaker_of_answer(member: Member, candidate: Member, accepted, reasons) -> None:
    recipient = matchmaker_of(member)
    if recipient is None:
        return
    text = (
        _("%(member)s is interested in %(candidate)s (answered in the member centre).")
        if accepted
        else _("%(member)s declined %(candidate)s in the member centre: %(reasons)s.")
    )
    labels = dict(DeclineReason.choices)
    notify(
        recipient=recipient,
        text=text
        % {
            "member": member_label(recipient, member),
            "candidate": member_label(recipient, candidate),
            "reasons": "、".join(str(labels.get(r, r)) for r in reasons),
        },
        link=_member_page(member)(recipient),
    )


def _answer(recommendation, *, accepted, reasons, note, actor) -> Recommendation:
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
    feedback_record(
        member=recommendation.member,
        candidate=recommendation.candidate,
        accepted=accepted,
        reasons=reasons,
        via=AnswerVia.RECOMMENDATION,
        at=recommendation.answered_at,
        actor=actor,
        recommendation=recommendation.pk,
    )
    # The answer is also this side's answer of the pair's double opt-in (optin builds on this
    # module, hence imported here).
    from hongniang.matching import optin

    optin.answer(
        member=recommendation.member,
        other=recommendation.candidate,
        accepted=accepted,
        reasons=reasons,
        via="rec",
        actor=actor,
    )
    return recommendation


def feedback_record(
    *,
    member: Member,
    candidate: Member,
    accepted: bool,
    reasons: list[str],
    via: str,
    at=None,
    actor=None,
    **data,
) -> bool:
    """An answer to a proposed partner (a recommendation, the engine's suggestion or a masked
    card in the member centre): on the member's timeline, and — if it is the member's first
    answer about the candidate — kept as an `Answer` and told to the engine as feedback (反选).
    A second answer about the same person (a new recommendation of the pair, an open
    suggestion answered after a card) teaches nothing new, so the rates and the collaborative
    edges count each member's answer about another once, whatever proposed them. Part of the
    caller's transaction; True when the engine was told."""
    reasons = [r for r in reasons if r in eng.REASONS]
    _event(
        member,
        actor,
        (_("Accepted %(name)s") if accepted else _("Declined %(name)s"))
        % {"name": _label_for_team(member, candidate)},
        **data,
    )
    reasons = [] if accepted else reasons
    if Answer.objects.filter(member=member, other=candidate).exists():
        return False
    try:
        with transaction.atomic():  # the other process may record the same first answer now
            Answer.objects.create(
                member=member,
                other=candidate,
                accepted=accepted,
                reasons=reasons,
                via=via,
                answered_at=at or timezone.now(),
            )
    except IntegrityError:
        return False
    index.record(
        EngineChangeKind.FEEDBACK, member.pk, candidate.pk, liked=accepted, reasons=reasons
    )
    return True


@transaction.atomic
def boost_set(*, actor, member: Member, candidate: Member, pin: bool, points: int) -> Boost:
    _require(actor, "edit", member)
    check_pair(member, candidate, "candidate")
    boost, _created = Boost.objects.update_or_create(
        member=member,
        candidate=candidate,
        defaults={"pin": pin, "points": max(0, min(50, points)), "by": actor},
    )
    index.record(
        EngineChangeKind.BOOST, member.pk, candidate.pk, pin=boost.pin, points=float(boost.points)
    )
    _event(
        member,
        actor,
        _("Boosted %(name)s") % {"name": _label_for_team(member, candidate)},
        candidate=candidate.pk,
        pin=pin,
        points=boost.points,
    )
    return boost


@transaction.atomic
def boost_remove(*, actor, member: Member, candidate: Member) -> None:
    _require(actor, "edit", member)
    Boost.objects.filter(member=member, candidate=candidate).delete()
    index.record(EngineChangeKind.UNBOOST, member.pk, candidate.pk)


def double_bookings(*, member: Member, partner: Member, starts_at, exclude_pk=None):
    """Planned appointments of either person within a few hours of `starts_at`."""
    ids = [member.pk, partner.pk]
    qs = Appointment.objects.filter(
        status=AppointmentStatus.PLANNED,
        starts_at__gt=starts_at - DOUBLE_BOOKING_WINDOW,
        starts_at__lt=starts_at + DOUBLE_BOOKING_WINDOW,
    ).filter(Q(member_id__in=ids) | Q(partner_id__in=ids))
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


def _appointment_page(appointment: Appointment):
    def link(recipient):
        if can(recipient, "matching", "edit"):
            return reverse("matching:appointment_edit", args=[appointment.pk])
        return reverse("matching:appointments")

    return link


def _check_double_booking(appointment: Appointment, allow: bool) -> None:
    clashes = double_bookings(
        member=appointment.member,
        partner=appointment.partner,
        starts_at=appointment.starts_at,
        exclude_pk=appointment.pk,
    )
    if clashes.exists() and not allow:
        raise ValidationError(
            {
                "starts_at": _(
                    "One of them already has an appointment around this time. "
                    "Tick the box to book anyway."
                )
            },
            code="double_booking",
        )


@transaction.atomic
def appointment_create(
    *, actor, appointment: Appointment, allow_double_booking: bool = False
) -> Appointment:
    """The one way an appointment comes to be (the form, an arranged introduction, the API):
    the actor books for their own `member`; the pair must pass the matching rules; a new
    meeting is planned in the future and checked for double bookings; both timelines record it
    and the partner's matchmaker is told."""
    _require(actor, "add", appointment.member)
    check_pair(appointment.member, appointment.partner)
    if appointment.starts_at is None or appointment.starts_at <= timezone.now():
        raise ValidationError({"starts_at": _("A new appointment must be in the future.")})
    appointment.status, appointment.outcome = AppointmentStatus.PLANNED, ""
    appointment.member_attended = appointment.partner_attended = None
    _check_double_booking(appointment, allow_double_booking)
    appointment.arranged_by = actor
    appointment.full_clean()
    appointment.save()
    count_appointments(appointment.member_id, appointment.partner_id)
    for who, other in (
        (appointment.member, appointment.partner),
        (appointment.partner, appointment.member),
    ):
        MemberEvent.objects.create(
            member=who,
            actor=actor,
            kind=EventKind.MATCHING,
            summary=(
                _("Appointment with %(name)s at %(place)s")
                % {"name": _label_for_team(who, other), "place": appointment.place}
            )[:300],
            data={"appointment": appointment.pk},
        )
    _notify_matchmaker(
        about=appointment.partner,
        actor=actor,
        text=_("%(actor)s arranged an appointment of %(member)s with your member %(partner)s."),
        link=_appointment_page(appointment),
        member=appointment.member,
        partner=appointment.partner,
    )
    return appointment


@transaction.atomic
def appointment_update(
    *, actor, appointment: Appointment, allow_double_booking: bool = False
) -> Appointment:
    """Save what the actor's side may change; a held appointment's outcome feeds the engine.

    The arranging side (the appointment's `member`) owns the meeting: time, place, status,
    outcome, notes and its member's attendance and feedback; the partner's side owns only its
    member's attendance and feedback. Changing anything of the other side is refused."""
    if not can(actor, "matching", "edit"):
        raise PermissionDenied
    before = Appointment.objects.select_related("member", "partner").get(pk=appointment.pk)
    sides = appointment_sides(actor, before)
    allowed = {name for side in sides for name in Appointment.SIDE_FIELDS[side]}
    changed = {
        name
        for side_fields in Appointment.SIDE_FIELDS.values()
        for name in side_fields
        if getattr(before, name) != getattr(appointment, name)
    }
    if not sides or changed - allowed:
        raise PermissionDenied
    now = timezone.now()
    errors = {}
    if appointment.status == AppointmentStatus.HELD and appointment.starts_at > now:
        errors["status"] = _("An appointment cannot have taken place before its time.")
    for name in ("member_attended", "partner_attended"):
        if getattr(appointment, name) is not None and appointment.starts_at > now:
            errors[name] = _("Attendance is recorded after the meeting time.")
    moved = "starts_at" in changed and appointment.status == AppointmentStatus.PLANNED
    if moved and appointment.starts_at <= now:
        errors["starts_at"] = _("A planned appointment must be in the future.")
    if errors:
        raise ValidationError(errors)
    if moved:
        _check_double_booking(appointment, allow_double_booking)
    appointment.full_clean()
    appointment.save()
    if appointment.status != before.status:
        count_appointments(appointment.member_id, appointment.partner_id)
    newly_held = appointment.status == AppointmentStatus.HELD and (
        before.status != AppointmentStatus.HELD or before.outcome != appointment.outcome
    )
    if newly_held:
        kinds = index.appointment_interactions(appointment)
        if before.status == AppointmentStatus.HELD:
            kinds = kinds[1:]  # "held" was already recorded; only the new outcome counts
        index.record(
            EngineChangeKind.INTERACTION,
            appointment.member_id,
            appointment.partner_id,
            kinds=kinds,
            mutual=True,
        )
    return appointment


@transaction.atomic
def introduction_create(*, actor, request: IntroductionRequest) -> IntroductionRequest:
    _require(actor, "add", request.member)
    check_pair(request.member, request.target, "target")
    if IntroductionRequest.objects.filter(
        member=request.member, target=request.target, status=IntroductionStatus.OPEN
    ).exists():
        raise ValidationError(_("There is already an open request for this pair."))
    request.entered_by = actor
    request.full_clean()
    request.save()
    index.record(EngineChangeKind.INTERACTION, request.member_id, request.target_id, kinds=["like"])
    _notify_matchmaker(
        about=request.target,
        actor=actor,
        text=_("%(member)s would like to meet your member %(target)s."),
        link=lambda recipient: reverse("matching:introductions") + "?status=open",
        member=request.member,
        target=request.target,
    )
    return request


@transaction.atomic
def introduction_request_by_member(
    *, member: Member, target: Member, message: str = "", actor=None
) -> IntroductionRequest:
    """A member asks to meet `target` from the member centre ("我要认识TA"): for the
    matchmakers of both, as if entered by staff; the same pair rules and no duplicate."""
    check_pair(member, target, "target")
    if IntroductionRequest.objects.filter(
        member=member, target=target, status=IntroductionStatus.OPEN
    ).exists():
        raise ValidationError(_("You have already asked to meet this member."))
    request = IntroductionRequest(member=member, target=target, message=message[:1000].strip())
    request.full_clean(exclude=["entered_by"])  # nobody on the staff entered it
    request.save()
    index.record(EngineChangeKind.INTERACTION, member.pk, target.pk, kinds=["like"])
    _event(
        member,
        actor,
        _("Asked to meet %(name)s in the member centre")
        % {"name": _label_for_team(member, target)},
        introduction=request.pk,
    )
    for about in (member, target):
        recipient = matchmaker_of(about)
        if recipient is None or (about is target and recipient == matchmaker_of(member)):
            continue
        notify(
            recipient=recipient,
            text=_("%(member)s would like to meet %(target)s.")
            % {
                "member": member_label(recipient, member),
                "target": member_label(recipient, target),
            },
            link=reverse("matching:introductions") + "?status=open",
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
    allow_double_booking: bool = False,
) -> IntroductionRequest:
    """Close as arranged (with a new appointment), declined or withdrawn.

    Either side's matchmaker may close it: the member or the target must be visible. An
    arranged meeting is booked by `appointment_create` like any other, for the actor's side."""
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
        pair = (request.member, request.target)
        if not Member.objects.visible_to(actor).filter(pk=request.member_id).exists():
            pair = pair[::-1]  # the target's side books: the target is the actor's member
        appointment.member, appointment.partner = pair
        request.appointment = appointment_create(
            actor=actor, appointment=appointment, allow_double_booking=allow_double_booking
        )
    request.status, request.close_note = status, note[:300]
    request.closed_by, request.closed_at = actor, timezone.now()
    request.save()
    return request


# --- stalled pairs (issue 10) ------------------------------------------------------------------


def _pair_key(a: int, b: int) -> str:
    return f"{min(a, b)}-{max(a, b)}"


def stalled_pairs(*, now=None) -> list[tuple[int, int, object]]:
    """Couples who said yes to each other (both recommendations accepted) or whose appointment
    ended "continue", where nothing followed for the agency's N days: no follow-up of either
    member and no later appointment of the two. (a, b, since) with a < b."""
    from hongniang.siteconfig.models import SiteSettings

    now = now or timezone.now()
    cutoff = now - timedelta(days=SiteSettings.load().stalled_pair_days)
    pairs: dict[tuple[int, int], object] = {}
    accepted = Recommendation.objects.filter(status=RecommendationStatus.ACCEPTED)
    answers = {
        (r["member_id"], r["candidate_id"]): r["answered_at"] or r["created_at"]
        for r in accepted.values("member_id", "candidate_id", "answered_at", "created_at")
    }
    for (a, b), when in answers.items():
        back = answers.get((b, a))
        if back is not None and a < b:
            pairs[(a, b)] = max(when, back)
    # Both said yes in the member centre (double opt-in), whatever proposed them.
    mutual = OptIn.objects.filter(state=OptInState.MUTUAL, mutual_at__isnull=False)
    for a, b, when in mutual.values_list("low_id", "high_id", "mutual_at"):
        pairs[(a, b)] = max(pairs.get((a, b), when), when)
    held = Appointment.objects.filter(status=AppointmentStatus.HELD, outcome="continue")
    for appt in held.values("member_id", "partner_id", "starts_at"):
        key = tuple(sorted((appt["member_id"], appt["partner_id"])))
        pairs[key] = max(pairs.get(key, appt["starts_at"]), appt["starts_at"])
    stalled = []
    members = Member.objects.in_bulk({pk for pair in pairs for pk in pair})
    for (a, b), since in pairs.items():
        if since >= cutoff or a not in members or b not in members:
            continue
        if any(m.followed_up_at and m.followed_up_at > since for m in (members[a], members[b])):
            continue
        later = Appointment.objects.filter(
            Q(member_id=a, partner_id=b) | Q(member_id=b, partner_id=a), created_at__gt=since
        ).exclude(status=AppointmentStatus.CANCELLED)
        if later.exists():
            continue
        stalled.append((a, b, since))
    return stalled


def stalled_pairs_notify(*, now=None) -> int:
    """Tell both matchmakers of each stalled couple, once per couple and moment: a task for them
    (a notice linking to the member) and a line on both timelines."""
    told = 0
    for a, b, since in stalled_pairs(now=now):
        key, stamp = _pair_key(a, b), since.isoformat()
        if MemberEvent.objects.filter(
            member_id=a, kind=EventKind.MATCHING, data__stalled_pair=key, data__since=stamp
        ).exists():
            continue
        with transaction.atomic():
            members = Member.objects.select_related("presales_owner", "aftersales_owner").in_bulk(
                [a, b]
            )
            for member, other in ((members[a], members[b]), (members[b], members[a])):
                recipient = matchmaker_of(member)
                summary = _("No follow-up since %(name)s and this member said yes") % {
                    "name": _label_for_team(member, other)
                }
                _event(member, None, summary, stalled_pair=key, since=stamp)
                if recipient is not None:
                    notify(
                        recipient=recipient,
                        text=_(
                            "Nobody has followed up %(member)s and %(other)s since they said "
                            "yes to each other: please get in touch."
                        )
                        % {
                            "member": member_label(recipient, member),
                            "other": member_label(recipient, other),
                        },
                        link=reverse("members:detail", args=[member.pk]),
                    )
        told += 1
    return told


def learn_model(engine=None):
    """The nightly learning step: fit the directional yes-model to the recorded outcomes
    (older ones train, the latest check) and store the run; the engines use it from their
    next load if it beat the defaults on the check (`index.current_model`)."""
    from hongniang.matching.engine.learning import learn
    from hongniang.matching.models import LearnReason, MatchModel
    from hongniang.matching.selectors import learning_outcomes

    outcomes = learning_outcomes()
    if engine is None:
        try:
            engine = index.get_engine()
        except index.EngineNotReady:
            default = eng.Model()
            return MatchModel.objects.create(
                trained_on=len(outcomes),
                reason=LearnReason.NO_ENGINE,
                **_coefficients(default),
            )
    known = [o for o in outcomes if o.actor in engine and o.target in engine]
    result = learn(engine, known)
    run = MatchModel.objects.create(
        trained_on=result.trained_on,
        checked_on=result.checked_on,
        check_auc=_number(result.check_auc),
        default_auc=_number(result.default_auc),
        accepted=result.accepted,
        reason=result.reason,
        **_coefficients(result.model),
    )
    if result.accepted:
        engine.set_model(result.model)
    return run


def _coefficients(model) -> dict:
    return {
        "intercept": model.intercept,
        "fit": model.fit,
        "appeal": model.appeal,
        "selectivity": model.selectivity,
        "collaborative": model.collaborative,
        "declined": model.declined,
        "liked": model.liked,
        "rate_prior": model.rate_prior,
    }


def _number(value: float):
    return None if value != value else value  # NaN (no check possible) is stored as NULL
