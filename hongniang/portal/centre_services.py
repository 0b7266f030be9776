"""What a member does in the member centre: answers, requests to meet, feedback, messages,
profile changes and photos. Each act is recorded as an interaction (`Interaction`, for the
member analysis) and, where it says something about a partner, reaches the engine through the
matching services the workbench uses.

Every function takes the `MemberSession`: the member acted for, and the staff user when staff
browse as the member (their name goes on the timeline)."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.matching import index, optin
from hongniang.matching import services as matching
from hongniang.matching.models import (
    AnswerVia,
    Appointment,
    AppointmentStatus,
    DeclineReason,
    EngineChangeKind,
    OptIn,
    Recommendation,
    RecommendationStatus,
)
from hongniang.matching.selectors import offerable_members, optin_partners
from hongniang.members import services as member_services
from hongniang.members.models import EventKind, MatePreference, Member, MemberEvent
from hongniang.members.presenter import member_label
from hongniang.messaging.models import Message
from hongniang.messaging.services import message_from_member, notify

from .models import Interaction, InteractionKind, Reveal, Suggestion, SuggestionStatus

SUGGESTIONS_PER_DAY = 6
OPEN_RECOMMENDATION = (RecommendationStatus.SENT, RecommendationStatus.VIEWED)
# The reasons a member may give (the list): the engine's vocabulary.
MEMBER_REASONS = (
    DeclineReason.TOO_OLD,
    DeclineReason.TOO_YOUNG,
    DeclineReason.TOO_FAR,
    DeclineReason.EDUCATION,
    DeclineReason.INCOME,
    DeclineReason.APPEARANCE,
    DeclineReason.NOT_MY_TYPE,
)
# The engine's explanation lines a member reads: the criteria, in each direction. The score's
# other components speak of other members' behaviour (who liked whom): never shown to members.
_PRIVATE_COMPONENTS = ("collaborative", "feedback", "boost")


def _actor(session):
    return session.impersonation.staff if session.impersonating else None


def interaction(member_id: int, kind: str, other_id: int | None = None, **data) -> None:
    Interaction.objects.create(member_id=member_id, kind=kind, other_id=other_id, data=data)


def _reasons(accepted: bool, reasons) -> list[str]:
    reasons = [r for r in dict.fromkeys(reasons or []) if r in MEMBER_REASONS]
    if not accepted and not reasons:
        raise ValidationError({"reasons": _("Choose at least one reason.")})
    return [] if accepted else reasons


# --- the engine's suggestions of the day ---------------------------------------------------------


def explanation_lines(result) -> tuple[list[str], list[str]]:
    """(how the candidate fits the member's wishes, how the member fits the candidate's)."""
    mine, theirs = [], []
    for e in result.explanations:
        if e.criterion in _PRIVATE_COMPONENTS:
            continue
        if e.direction == "a_to_b":
            mine.append(_addressed(e.text, owner="您", other="对方"))
        elif e.direction == "b_to_a":
            theirs.append(_addressed(e.text, owner="TA", other="您"))
    return mine, theirs


def _addressed(text: str, *, owner: str, other: str) -> str:
    """The engine writes for staff ("她要求…：对方…"); the member reads "您" and "TA". Only the
    pronoun that opens a line or follows "与" is the owner (其他 is a word of its own)."""
    if text[:1] in ("他", "她"):
        text = owner + text[1:]
    text = text.replace("与他", f"与{owner}").replace("与她", f"与{owner}")
    return text.replace("对方", other)


def _not_again(member: Member) -> set[int]:
    """Candidates not to suggest again: answered ones, today's, those a matchmaker has
    recommended and the member has not answered yet (they are on the page already), and the
    other side of any double opt-in (answered on its masked card, or ended by a matchmaker:
    it must not come back as a new card)."""
    ids = set(
        Suggestion.objects.filter(member=member)
        .exclude(status=SuggestionStatus.OPEN, day__lt=timezone.localdate())
        .values_list("candidate_id", flat=True)
    )
    ids |= set(Recommendation.objects.filter(member=member).values_list("candidate_id", flat=True))
    return ids | optin_partners(member.pk)


def suggestions_ensure(member: Member, *, day=None) -> bool:
    """Make sure the member has their suggestions of the day: computed at the first visit of
    the day and topped up after each answer (one engine call, never one per page view).
    False when the engine is not ready yet."""
    day = day or timezone.localdate()
    open_today = Suggestion.objects.filter(
        member=member, day=day, status=SuggestionStatus.OPEN
    ).count()
    answered_today = Suggestion.objects.filter(member=member, day=day).count() - open_today
    missing = SUGGESTIONS_PER_DAY - open_today
    # Topped up after answers, but not endlessly: at most three days' worth a day.
    if missing <= 0 or answered_today >= 2 * SUGGESTIONS_PER_DAY:
        return True
    try:
        engine = index.get_engine()
    except index.EngineNotReady:
        return False
    if member.pk not in engine:
        return True
    results = engine.recommend(member.pk, k=missing, exclude=_not_again(member))
    wanted = {r.candidate_id for r in results}
    # The engine's rules agree with this query; it drops a member changed a moment ago.
    usable = set(offerable_members().filter(pk__in=wanted).values_list("pk", flat=True))
    rank = (
        Suggestion.objects.filter(member=member, day=day)
        .order_by("-rank")
        .values_list("rank", flat=True)
        .first()
        or 0
    )
    rows = []
    for result in results:
        if result.candidate_id not in usable:
            continue
        rank += 1
        mine, theirs = explanation_lines(result)
        rows.append(
            Suggestion(
                member=member,
                candidate_id=result.candidate_id,
                day=day,
                rank=rank,
                score=max(0, min(100, round(result.score))),
                fits_mine=mine,
                fits_theirs=theirs,
            )
        )
    Suggestion.objects.bulk_create(rows, ignore_conflicts=True)
    return True


@transaction.atomic
def suggestion_answer(*, session, suggestion: Suggestion, accepted: bool, reasons=()):
    member = session.member
    if suggestion.member_id != member.pk:
        raise PermissionDenied
    if suggestion.status != SuggestionStatus.OPEN:
        raise ValidationError(_("You have already answered this suggestion."))
    reasons = _reasons(accepted, reasons)
    suggestion.status = SuggestionStatus.INTERESTED if accepted else SuggestionStatus.DECLINED
    suggestion.decline_reasons = reasons
    suggestion.answered_at = timezone.now()
    suggestion.save(update_fields=["status", "decline_reasons", "answered_at"])
    candidate = suggestion.candidate
    matching.feedback_record(
        member=member,
        candidate=candidate,
        accepted=accepted,
        reasons=reasons,
        via=AnswerVia.SUGGESTION,
        at=suggestion.answered_at,
        actor=_actor(session),
        suggestion=suggestion.pk,
    )
    optin.answer(
        member=member,
        other=candidate,
        accepted=accepted,
        reasons=reasons,
        via="sug",
        actor=_actor(session),
    )
    matching.tell_matchmaker_of_answer(member, candidate, accepted, reasons)
    interaction(member.pk, InteractionKind.ANSWER, candidate.pk, liked=accepted, reasons=reasons)
    return suggestion


@transaction.atomic
def recommendation_answer(*, session, recommendation: Recommendation, accepted: bool, reasons=()):
    """The member answers their matchmaker's recommendation: the workbench's answer service."""
    member = session.member
    reasons = _reasons(accepted, reasons)
    matching.recommendation_answer_by_member(
        member=member,
        recommendation=recommendation,
        accepted=accepted,
        reasons=reasons,
        actor=_actor(session),
    )
    interaction(
        member.pk,
        InteractionKind.ANSWER,
        recommendation.candidate_id,
        liked=accepted,
        reasons=reasons,
        recommendation=recommendation.pk,
    )
    return recommendation


# --- double opt-in ------------------------------------------------------------------------------


@transaction.atomic
def pair_answer(*, session, pair: OptIn, accepted: bool, reasons=()) -> OptIn:
    """The member answers the masked card another member's yes brought them: the pair's
    answer, the engine's feedback (with the reasons, which the other member never reads), the
    member's matchmaker told. A recommendation or suggestion of the same member still open
    is answered with it (the masked card took its place on the page)."""
    member = session.member
    optin.lock_members(pair.low_id, pair.high_id)
    pair = OptIn.objects.select_for_update().get(pk=pair.pk)
    if not pair.waits_for(member.pk):
        raise ValidationError(_("This card no longer waits for your answer."))
    reasons = _reasons(accepted, reasons)
    other = Member.objects.get(pk=pair.other_id(member.pk))
    open_rec = Recommendation.objects.filter(
        member=member, candidate=other, status__in=OPEN_RECOMMENDATION
    ).first()
    if open_rec is not None:
        # The workbench's answer: the engine, the pair and the matchmaker hear it there.
        recommendation_answer(
            session=session, recommendation=open_rec, accepted=accepted, reasons=reasons
        )
    else:
        answered = optin.answer(
            member=member,
            other=other,
            accepted=accepted,
            reasons=reasons,
            via="card",
            actor=_actor(session),
        )
        matching.feedback_record(
            member=member,
            candidate=other,
            accepted=accepted,
            reasons=reasons,
            via=AnswerVia.CARD,
            at=getattr(answered, f"{answered.side(member.pk)}_answered_at"),
            actor=_actor(session),
            optin=pair.pk,
        )
        matching.tell_matchmaker_of_answer(member, other, accepted, reasons)
        interaction(
            member.pk,
            InteractionKind.ANSWER,
            other.pk,
            liked=accepted,
            reasons=reasons,
            optin=pair.pk,
        )
    Suggestion.objects.filter(member=member, candidate=other, status=SuggestionStatus.OPEN).update(
        status=SuggestionStatus.INTERESTED if accepted else SuggestionStatus.DECLINED,
        decline_reasons=reasons,
        answered_at=timezone.now(),
    )
    return OptIn.objects.get(pk=pair.pk)


@transaction.atomic
def pair_withdraw(*, session, pair: OptIn) -> OptIn:
    member = session.member
    other = Member.objects.get(pk=pair.other_id(member.pk))
    pair = optin.withdraw(member=member, other=other, actor=_actor(session))
    interaction(member.pk, InteractionKind.ANSWER, other.pk, withdrawn=True, optin=pair.pk)
    return pair


def reveal_logged(*, session, other_pk: int, kind: str, photo_id: int | None = None) -> None:
    """Every reveal is logged: who saw whose revealed card, photo or name, when (and the staff
    user when staff browse as the member)."""
    Reveal.objects.create(
        viewer_id=session.member.pk,
        shown_id=other_pk,
        kind=kind,
        photo_id=photo_id,
        staff=_actor(session),
    )


def reveals_logged(*, session, other_pks, kind: str) -> None:
    """The revealed names a list showed: one row per member shown, viewer and day (lists are
    opened many times a day; the log says who saw whose name and when, without growing with
    page views). Two queries."""
    pks = set(other_pks)
    if not pks:
        return
    staff = _actor(session)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = Reveal.objects.filter(
        viewer_id=session.member.pk, kind=kind, shown_id__in=pks, created_at__gte=midnight
    )
    today = today.filter(staff=staff) if staff is not None else today.filter(staff__isnull=True)
    pks -= set(today.values_list("shown_id", flat=True))
    Reveal.objects.bulk_create(
        Reveal(viewer_id=session.member.pk, shown_id=pk, kind=kind, staff=staff)
        for pk in sorted(pks)
    )


def profile_viewed(*, session, other: Member, recommendation: Recommendation | None = None):
    """The member opened another member's card: once a day per pair it counts as a "view" for
    the engine and the analysis; a recommendation opened for the first time becomes "viewed"."""
    member = session.member
    if session.impersonating:
        return  # staff looking is not the member's interest
    with transaction.atomic():
        if recommendation is not None and recommendation.status == RecommendationStatus.SENT:
            Recommendation.objects.filter(
                pk=recommendation.pk, status=RecommendationStatus.SENT
            ).update(status=RecommendationStatus.VIEWED)
        since = timezone.now() - timedelta(days=1)
        if Interaction.objects.filter(
            member=member, kind=InteractionKind.VIEW, other_id=other.pk, created_at__gte=since
        ).exists():
            return
        interaction(member.pk, InteractionKind.VIEW, other.pk)
        index.record(EngineChangeKind.INTERACTION, member.pk, other.pk, kinds=["view"])


# --- asking to meet ---------------------------------------------------------------------------


def introduction_target(pk: int) -> Member:
    """A member one may ask to meet: offered as a candidate (hidden, married, closed members
    are not); anything else is not found."""
    target = offerable_members().filter(pk=pk).first()
    if target is None:
        raise Http404
    return target


@transaction.atomic
def introduction_request(*, session, target: Member, message: str = ""):
    member = session.member
    if target.pk == member.pk:
        raise ValidationError(_("You cannot ask to meet yourself."))
    request = matching.introduction_request_by_member(
        member=member, target=target, message=message, actor=_actor(session)
    )
    interaction(member.pk, InteractionKind.REQUEST, target.pk, introduction=request.pk)
    return request


# --- appointments --------------------------------------------------------------------------------


def appointment_side(appointment: Appointment, member: Member) -> str:
    if appointment.member_id == member.pk:
        return "member"
    if appointment.partner_id == member.pk:
        return "partner"
    raise PermissionDenied


@transaction.atomic
def appointment_feedback(*, session, appointment: Appointment, text: str) -> Appointment:
    """The member's feedback after a meeting, on their side of the appointment; the matchmaker
    reads it on the appointment and is told."""
    member = session.member
    side = appointment_side(appointment, member)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"feedback": _("Write how the meeting went.")})
    if len(text) > 1000:
        raise ValidationError({"feedback": _("At most 1000 characters.")})
    if appointment.status == AppointmentStatus.CANCELLED or appointment.starts_at > timezone.now():
        raise ValidationError(_("Feedback is given after the meeting."))
    Appointment.objects.filter(pk=appointment.pk).update(**{f"{side}_feedback": text})
    setattr(appointment, f"{side}_feedback", text)
    MemberEvent.objects.create(
        member=member,
        actor=_actor(session),
        kind=EventKind.MATCHING,
        summary=_("Feedback on the appointment of %(date)s, in the member centre")
        % {"date": timezone.localtime(appointment.starts_at).strftime("%Y-%m-%d")},
        data={"appointment": appointment.pk},
    )
    recipient = matching.matchmaker_of(member)
    if recipient is not None:
        notify(
            recipient=recipient,
            text=_("%(member)s gave feedback on their appointment.")
            % {"member": member_label(recipient, member)},
            link=reverse("matching:appointments"),
        )
    other = appointment.partner_id if side == "member" else appointment.member_id
    interaction(member.pk, InteractionKind.FEEDBACK, other, appointment=appointment.pk)
    return appointment


# --- messages ------------------------------------------------------------------------------------


@transaction.atomic
def message_to_matchmaker(*, session, body: str, reply_to: Message | None = None) -> Message:
    member = session.member
    to = matching.matchmaker_of(member)
    if reply_to is not None and reply_to.sender_staff_id:
        to = reply_to.sender_staff
    if to is None:
        raise ValidationError(_("You have no matchmaker yet: please call the agency."))
    message = message_from_member(member=member, to=to, body=body or "", reply_to=reply_to)
    notify(
        recipient=to,
        text=_("%(member)s wrote to you.") % {"member": member_label(to, member)},
        link=reverse("member_messages:detail", args=[message.pk]),
    )
    interaction(member.pk, InteractionKind.MESSAGE, None, message=message.pk)
    return message


def messages_read(*, session, messages) -> None:
    if session.impersonating:
        return  # staff reading is not the member reading
    ids = [m.pk for m in messages if m.recipient_member_id == session.member.pk and not m.read_at]
    if ids:
        Message.objects.filter(pk__in=ids).update(read_at=timezone.now())


# --- the profile --------------------------------------------------------------------------------


@transaction.atomic
def profile_update(*, session, member: Member, preference: MatePreference | None) -> list[str]:
    """Save the member's own changes (already validated by the staff form's rules, limited to
    the fields the agency lets members change): the timeline lists the fields, the history
    rows keep the values (audit trail); the engine hears of it through the members signals."""
    if member.pk != session.member.pk:
        raise PermissionDenied
    stored = Member.objects.get(pk=member.pk)
    member.full_clean()
    changed = member_services.changed_fields(stored, member)
    if changed:
        member._history_user = _actor(session)
        member.save()
    if preference is not None:
        preference.member = member
        preference.full_clean()
        before = MatePreference.objects.filter(member_id=member.pk).first()
        pref_changed = member_services.changed_fields(before, preference)
        if pref_changed:
            preference.save()
            changed += [f"preference.{name}" for name in pref_changed]
    if changed:
        MemberEvent.objects.create(
            member=member,
            actor=_actor(session),
            kind=EventKind.UPDATED,
            summary=_("Changed in the member centre"),
            data={"fields": changed, "by": "member"},
        )
        interaction(member.pk, InteractionKind.PROFILE, None, fields=changed)
    return changed


@transaction.atomic
def photo_upload(*, session, image):
    member = session.member
    photo = member_services.photo_store(member=member, image=image)
    MemberEvent.objects.create(
        member=member,
        actor=_actor(session),
        kind=EventKind.PHOTO,
        summary=_("Uploaded a photo in the member centre (awaits review)"),
        data={"photo": photo.pk},
    )
    interaction(member.pk, InteractionKind.PHOTO, None, photo=photo.pk)
    return photo


@transaction.atomic
def site_hidden_set(*, session, hidden: bool) -> None:
    """The member keeps their profile off the public site (matching is not affected)."""
    member = Member.objects.select_for_update().get(pk=session.member.pk)
    if member.site_hidden == hidden:
        return
    member.site_hidden = hidden
    member._history_user = _actor(session)
    member.save(update_fields=["site_hidden"])
    MemberEvent.objects.create(
        member=member,
        actor=_actor(session),
        kind=EventKind.UPDATED,
        summary=_("Hid the profile from the public site")
        if hidden
        else _("Showed the profile on the public site again"),
        data={"fields": ["site_hidden"], "by": "member"},
    )
    interaction(member.pk, InteractionKind.PROFILE, None, fields=["site_hidden"])
