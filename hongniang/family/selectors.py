"""Reads of family profiles: a relative's own drafts only (another's answer 404), and the
child's introductions as the child sees them, through the member centre's own reads (other
members only as `PeerView`: never more than the child sees)."""

from django.http import Http404

from hongniang.members.models import MatePreference, Member

from .models import DraftState, FamilyProfile


def drafts_of(relative) -> list[FamilyProfile]:
    return list(
        FamilyProfile.objects.filter(relative=relative)
        .select_related("member")
        .only(
            "pk",
            "relationship",
            "state",
            "share_introductions",
            "token_expires_at",
            "invited_at",
            "invitations",
            "decided_at",
            "created_at",
            "relative_id",
            "member__id",
            "member__name",
        )
    )


def shared_profile(relative, pk: int) -> FamilyProfile:
    """The relative's approved draft whose child shares their introductions; 404 otherwise."""
    profile = (
        FamilyProfile.objects.select_related("member")
        .filter(
            relative=relative,
            pk=pk,
            state=DraftState.APPROVED,
            share_introductions=True,
            member__isnull=False,
        )
        .first()
    )
    if profile is None:
        raise Http404
    return profile


def introductions_of(member: Member, limit: int = 40) -> dict:
    """What the child's recommendations and requests pages show them, read-only: the
    matchmakers' recommendations (open and answered) as the member centre's cards, and their
    requests to meet. Without the engine's explanations (one engine sync per card): the
    relative's page shows who and the answer, not the why."""
    from hongniang.matching.models import Recommendation
    from hongniang.portal import centre_selectors

    recs = (
        Recommendation.objects.filter(member=member)
        .select_related("candidate")
        .order_by("-created_at", "-pk")[:limit]
    )
    cards = [centre_selectors._rec_card(r, explain=False) for r in recs]
    cards = centre_selectors.with_places(cards)
    return {
        "open_cards": [card for card in cards if not card.answered],
        "answered_cards": [card for card in cards if card.answered],
        "requests": centre_selectors.my_introductions(member),
    }


def preference_of(member: Member) -> MatePreference:
    return MatePreference.objects.filter(member=member).first() or MatePreference(member=member)


def approved_profile_of(member: Member) -> FamilyProfile | None:
    return (
        FamilyProfile.objects.select_related("relative")
        .filter(member=member, state=DraftState.APPROVED)
        .first()
    )


def profile_for_staff(member_id: int) -> FamilyProfile | None:
    return FamilyProfile.objects.select_related("relative").filter(member_id=member_id).first()
