"""Double opt-in (issue 13): two members see each other's names and photos only once both said
yes, and never each other's contact details.

A member's yes or no about another — to a matchmaker's recommendation, to the engine's
suggestion, or on the masked card the other side receives after a first yes — is one side's
answer of the pair's `OptIn` row. The row is locked while an answer is written, so two members
answering at the same moment still make exactly one "mutual" transition (its side effects — the
introduction for the matchmakers, the timelines, the notices — happen once). A withdrawn yes or
a matchmaker ending the pair hides the reveal again; an ended pair takes no more answers.

Answers reach the engine through the callers (`services.feedback_record`), a member's first
answer about the other once (`Answer`); a withdrawal does not (the yes was the member's answer
at the time; withdrawing says nothing about their taste).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.matching import services
from hongniang.matching.models import (
    IntroductionRequest,
    IntroductionStatus,
    OptIn,
    OptInAnswer,
    OptInState,
    optin_state,
)
from hongniang.members.models import Member
from hongniang.members.presenter import member_label
from hongniang.messaging.services import notify
from hongniang.staff.permissions import can


def lock_members(a: int, b: int) -> None:
    """Lock the two members' rows (PostgreSQL), lower key first, before the pair's row: every
    writer of the pair takes them in this order (a recommendation's save locks them for the
    outcome counters, `finance.outcomes`), so two members answering each other at once through
    different paths wait for each other instead of deadlocking."""
    if connection.features.has_select_for_update and connection.in_atomic_block:
        list(
            Member.objects.select_for_update()
            .filter(pk__in=[a, b])
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _locked(a: int, b: int) -> OptIn:
    """The pair's row, created if need be, locked for this transaction."""
    lock_members(a, b)
    low, high = min(a, b), max(a, b)
    if not OptIn.objects.filter(low_id=low, high_id=high).exists():
        try:
            with transaction.atomic():
                OptIn.objects.create(low_id=low, high_id=high)
        except IntegrityError:
            pass  # created by the other side a moment ago: the unique pair holds
    return OptIn.objects.select_for_update().get(low_id=low, high_id=high)


def _save(pair: OptIn, before: str, *, actor=None) -> OptIn:
    pair.state = optin_state(pair.low_answer, pair.high_answer, pair.ended_at is not None)
    if pair.state == OptInState.MUTUAL and before != OptInState.MUTUAL:
        pair.mutual_at = timezone.now()
    pair.save()
    if pair.state == OptInState.MUTUAL and before != OptInState.MUTUAL:
        _became_mutual(pair, actor)
    elif before == OptInState.MUTUAL and pair.state != OptInState.MUTUAL:
        _no_longer_mutual(pair, actor)
    return pair


@transaction.atomic
def answer(
    *,
    member: Member,
    other: Member,
    accepted: bool,
    reasons=(),
    via: str = "",
    actor=None,
) -> OptIn:
    """`member`'s answer about `other`; the latest answer of a side counts. The same answer
    again changes nothing; an ended pair keeps its state."""
    if member.pk == other.pk:
        raise ValidationError(_("A member cannot answer about themselves."))
    pair = _locked(member.pk, other.pk)
    if pair.state == OptInState.ENDED:
        return pair
    side = pair.side(member.pk)
    new = OptInAnswer.YES if accepted else OptInAnswer.NO
    if getattr(pair, f"{side}_answer") == new:
        return pair
    before = pair.state
    setattr(pair, f"{side}_answer", new)
    setattr(pair, f"{side}_reasons", [] if accepted else list(reasons))
    setattr(pair, f"{side}_answered_at", timezone.now())
    other_answer = getattr(pair, f"{pair.other_side(member.pk)}_answer")
    if accepted and pair.first_id is None and other_answer == OptInAnswer.NONE:
        pair.first, pair.via = member, via
    return _save(pair, before, actor=actor)


@transaction.atomic
def withdraw(*, member: Member, other: Member, actor=None) -> OptIn:
    """`member` takes back their yes: the reveal, if any, is hidden again for both."""
    pair = _locked(member.pk, other.pk)
    side = pair.side(member.pk)
    if pair.state == OptInState.ENDED or getattr(pair, f"{side}_answer") != OptInAnswer.YES:
        raise ValidationError(_("There is no yes of yours to withdraw."))
    before = pair.state
    setattr(pair, f"{side}_answer", OptInAnswer.WITHDRAWN)
    setattr(pair, f"{side}_answered_at", timezone.now())
    return _save(pair, before, actor=actor)


@transaction.atomic
def end(*, actor, pair: OptIn, note: str = "") -> OptIn:
    """A matchmaker of either member ends the pair (the date did not work out, a complaint):
    nothing is revealed any more and no answer changes it again."""
    if not can(actor, "matching", "edit"):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk__in=[pair.low_id, pair.high_id]).exists():
        raise PermissionDenied
    lock_members(pair.low_id, pair.high_id)
    pair = OptIn.objects.select_for_update().get(pk=pair.pk)
    if pair.state == OptInState.ENDED:
        raise ValidationError(_("This pair has already been ended."))
    before = pair.state
    pair.ended_by, pair.ended_at, pair.end_note = actor, timezone.now(), note.strip()[:300]
    _save(pair, before, actor=actor)
    members = Member.objects.in_bulk([pair.low_id, pair.high_id])
    for who, other in _both(pair, members):
        services._event(
            who,
            actor,
            _("The double opt-in with %(name)s was ended by a matchmaker")
            % {"name": services._label_for_team(who, other)},
            optin=pair.pk,
        )
    return pair


def _both(pair: OptIn, members: dict) -> list[tuple[Member, Member]]:
    low, high = members[pair.low_id], members[pair.high_id]
    return [(low, high), (high, low)]


def _recipients(members) -> list:
    """Each member's matchmaker once (both members may have the same one)."""
    out = []
    for m in members:
        staff = services.matchmaker_of(m)
        if staff is not None and staff not in out:
            out.append(staff)
    return out


def _became_mutual(pair: OptIn, actor) -> None:
    """Both said yes: each sees the other's name and photos in the member centre, and both
    matchmakers get the introduction to arrange (an open one of the two is reused)."""
    members = Member.objects.select_related("presales_owner", "aftersales_owner").in_bulk(
        [pair.low_id, pair.high_id]
    )
    ids = [pair.low_id, pair.high_id]
    intro = IntroductionRequest.objects.filter(
        member_id__in=ids, target_id__in=ids, status=IntroductionStatus.OPEN
    ).first()
    if intro is None:
        first = pair.first_id or pair.low_id
        intro = IntroductionRequest.objects.create(
            member_id=first,
            target_id=pair.other_id(first),
            message=_("Both said yes in the member centre: please arrange a first date."),
        )
    pair.introduction = intro
    OptIn.objects.filter(pk=pair.pk).update(introduction=intro)
    for who, other in _both(pair, members):
        services._event(
            who,
            actor,
            _("Both said yes with %(name)s: names and photos are shown to each other")
            % {"name": services._label_for_team(who, other)},
            optin=pair.pk,
            introduction=intro.pk,
        )
    low, high = members[pair.low_id], members[pair.high_id]
    for recipient in _recipients([low, high]):
        notify(
            recipient=recipient,
            text=_("%(a)s and %(b)s both said yes: please arrange a first date.")
            % {"a": member_label(recipient, low), "b": member_label(recipient, high)},
            link=reverse("matching:introductions") + "?status=open",
        )


def _no_longer_mutual(pair: OptIn, actor) -> None:
    """A yes was withdrawn or the pair ended: the reveal is hidden again; the introduction
    still open for it is withdrawn and both matchmakers are told (a date already booked is
    theirs to cancel)."""
    members = Member.objects.select_related("presales_owner", "aftersales_owner").in_bulk(
        [pair.low_id, pair.high_id]
    )
    if pair.introduction_id:
        IntroductionRequest.objects.filter(
            pk=pair.introduction_id, status=IntroductionStatus.OPEN
        ).update(
            status=IntroductionStatus.WITHDRAWN,
            closed_by=actor,
            closed_at=timezone.now(),
            close_note=_("The double opt-in no longer holds")[:300],
        )
    if pair.state == OptInState.ENDED:
        return  # `end` writes its own lines
    low, high = members[pair.low_id], members[pair.high_id]
    for who, other in _both(pair, members):
        services._event(
            who,
            actor,
            _("The mutual yes with %(name)s was withdrawn: names and photos are hidden again")
            % {"name": services._label_for_team(who, other)},
            optin=pair.pk,
        )
    for recipient in _recipients([low, high]):
        notify(
            recipient=recipient,
            text=_("The mutual yes of %(a)s and %(b)s was withdrawn.")
            % {"a": member_label(recipient, low), "b": member_label(recipient, high)},
            link=reverse("matching:introductions"),
        )
