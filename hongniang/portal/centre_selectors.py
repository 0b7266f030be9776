"""Reads of the member centre's pages. Every read is the logged-in member's own rows (a reference
to another member's row is "not found"); other members come out through the presenter's
`present_to_member` only.

The centre names rows and other members by opaque references (`ref`: the keyed permutation of
`public_ids`, one key per kind), never by primary key: keys would tell the agency's size, and
neighbouring numbers invite walking through them."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.finance.models import Contract, ContractStatus
from hongniang.finance.selectors import ledger
from hongniang.frontdesk.models import PREFERENCES, FrontDeskSettings, member_editable_choices
from hongniang.matching import index
from hongniang.matching.models import (
    Appointment,
    DeclineReason,
    IntroductionRequest,
    OptIn,
    OptInAnswer,
    OptInState,
    Recommendation,
)
from hongniang.matching.selectors import optins_of
from hongniang.members.forms import MemberForm
from hongniang.members.models import MatePreference, Member, MemberPhoto
from hongniang.members.presenter import (
    PeerView,
    mask_contact_like,
    present_many,
    present_revealed,
    present_to_member,
)
from hongniang.members.regions import region_labels
from hongniang.messaging.models import Message
from hongniang.siteconfig.models import SiteSettings

from . import public_ids
from .centre_services import OPEN_RECOMMENDATION, explanation_lines
from .models import Interaction, InteractionKind, Reveal, Suggestion, SuggestionStatus

# The kinds of reference the centre hands out (each its own key: a card's reference is no
# appointment's).
REF_KINDS = {
    "rec": "centre-recommendation",
    "sug": "centre-suggestion",
    "appointment": "centre-appointment",
    "introduction": "centre-introduction",
    "message": "centre-message",
    "pair": "centre-optin",
    "photo": "centre-photo",
}


# Another member's reference is keyed by the viewer too: two members comparing notes cannot
# tell that a masked card of one is the named partner of the other.
PEER_KIND = "centre-member"


def ref(kind: str, pk: int) -> str:
    return public_ids.encode(REF_KINDS[kind], pk)


def peer_ref(viewer_pk: int, pk: int) -> str:
    """Member `pk` as member `viewer_pk`'s centre names them."""
    return public_ids.encode(f"{PEER_KIND}:{viewer_pk}", pk)


def peer_pk(viewer_pk: int, reference: str) -> int:
    """The member behind a reference member `viewer_pk` was given; anything else is not found."""
    pk = public_ids.decode(f"{PEER_KIND}:{viewer_pk}", reference)
    if pk is None:
        raise Http404
    return pk


def pk_of(kind: str, reference: str) -> int:
    """The row behind a reference of `kind`; anything else is "not found"."""
    pk = public_ids.decode(REF_KINDS[kind], reference) if kind in REF_KINDS else None
    if pk is None:
        raise Http404
    return pk


def peer(viewer_pk: int, other: Member) -> PeerView:
    """Another member as member `viewer_pk` sees them, named by reference."""
    return present_to_member(other, ref=peer_ref(viewer_pk, other.pk))


@dataclass
class Card:
    """A proposed partner as the member sees them: the presenter's peer view, the why in both
    directions, and what to answer."""

    kind: str  # "rec" (a matchmaker's recommendation) or "sug" (the engine's suggestion)
    ref: str
    other: PeerView
    score: int | None
    fits_mine: list[str] = field(default_factory=list)
    fits_theirs: list[str] = field(default_factory=list)
    note: str = ""  # the matchmaker's written reason
    status: str = ""
    answered: bool = False
    decline_reasons: list[str] = field(default_factory=list)
    place: str = ""  # the city they live in (never finer: the county narrows a person down)
    avatar_url: str = ""  # the approved avatar, when the agency shows them (SiteSettings)
    # The double opt-in of the pair once answered: its state and the pair page.
    optin: str = ""
    pair_ref: str = ""
    # The other member's and the viewer's keys, for this module only (templates cannot read
    # underscored names).
    _other_pk: int = 0
    _viewer_pk: int = 0


@dataclass
class PairCard:
    """A double opt-in as one side sees it: the masked card the other side's yes brought
    (answer yes / no), or, once both said yes, the revealed card (name, approved photos, the
    next step); otherwise its state ("waiting", "not this time", "ended")."""

    ref: str
    other: PeerView
    state: str
    mine: str  # my answer
    waits_for_me: bool
    from_matchmaker: bool  # "红娘为您推荐" rather than "有会员对您感兴趣"
    revealed: bool = False
    photos: list[str] = field(default_factory=list)
    appointments: list = field(default_factory=list)
    place: str = ""
    avatar_url: str = ""
    _other_pk: int = 0
    _viewer_pk: int = 0


def city_code(code: str) -> str:
    return f"{code[:4]}00" if code and len(code) == 6 else ""


def with_places(cards: list, *, avatars: bool = False) -> list:
    """Each card's city by name and, with `avatars` (a member's own pages: the photo view
    answers to the member's session) and when the agency shows them, the other member's
    approved avatar (two queries for the page, whatever its length)."""
    codes = {city_code(card.other.region) for card in cards} - {""}
    labels = region_labels(codes) if codes else {}
    avatars = _avatars({card._other_pk for card in cards}) if avatars else {}
    for card in cards:
        card.place = labels.get(city_code(card.other.region), "")
        photo = avatars.get(card._other_pk)
        if photo is not None and not card.avatar_url:
            card.avatar_url = peer_photo_url(card._viewer_pk, card._other_pk, photo)
    return cards


def _avatars(member_ids: set[int]) -> dict[int, int]:
    """{member: approved avatar photo} of these members, if the agency shows avatars."""
    if not member_ids or not SiteSettings.load().peer_avatars:
        return {}
    rows = MemberPhoto.objects.filter(
        member_id__in=member_ids, is_avatar=True, status="approved"
    ).values_list("member_id", "pk")
    return dict(rows)


def peer_photo_url(viewer_pk: int, member_pk: int, photo_pk: int) -> str:
    return reverse(
        "portal:peer_photo", args=[peer_ref(viewer_pk, member_pk), ref("photo", photo_pk)]
    )


def _explain(member_id: int, other_id: int) -> tuple[list[str], list[str]]:
    """One pair's why, from the engine (a handful per page); empty while it is not ready."""
    try:
        engine = index.get_engine()
    except index.EngineNotReady:
        return [], []
    if member_id not in engine or other_id not in engine:
        return [], []
    return explanation_lines(engine.score(member_id, other_id, explain=True))


def _rec_card(rec: Recommendation, *, explain: bool) -> Card:
    mine, theirs = _explain(rec.member_id, rec.candidate_id) if explain else ([], [])
    return Card(
        kind="rec",
        ref=ref("rec", rec.pk),
        other=peer(rec.member_id, rec.candidate),
        score=rec.score,
        fits_mine=mine,
        fits_theirs=theirs,
        # Refused at writing when it names the candidate or a way to reach them; masked here
        # too, for reasons written before that check or slipping past it.
        note=mask_contact_like(rec.reason, [rec.candidate.name]),
        status=rec.get_status_display(),
        answered=rec.status not in OPEN_RECOMMENDATION,
        decline_reasons=rec.decline_reason_labels,
        _other_pk=rec.candidate_id,
        _viewer_pk=rec.member_id,
    )


def _sug_card(s: Suggestion) -> Card:
    labels = dict(DeclineReason.choices)
    return Card(
        kind="sug",
        ref=ref("sug", s.pk),
        other=peer(s.member_id, s.candidate),
        score=s.score,
        fits_mine=list(s.fits_mine),
        fits_theirs=list(s.fits_theirs),
        status=s.get_status_display(),
        answered=s.status != SuggestionStatus.OPEN,
        decline_reasons=[str(labels.get(r, r)) for r in s.decline_reasons],
        _other_pk=s.candidate_id,
        _viewer_pk=s.member_id,
    )


def open_recommendations(member: Member) -> list[Card]:
    """The matchmakers' recommendations awaiting the member's answer (explained)."""
    recs = (
        Recommendation.objects.filter(member=member, status__in=OPEN_RECOMMENDATION)
        .select_related("candidate")
        .order_by("-created_at", "-pk")[:20]
    )
    return [_rec_card(r, explain=True) for r in recs]


def todays_suggestions(member: Member, day=None) -> list[Card]:
    day = day or timezone.localdate()
    rows = (
        Suggestion.objects.filter(member=member, day=day, status=SuggestionStatus.OPEN)
        .select_related("candidate")
        .order_by("rank", "pk")
    )
    return [_sug_card(s) for s in rows]


def answered(member: Member, limit: int = 20) -> list[Card]:
    """What the member answered lately, recommendations and suggestions together."""
    recs = (
        Recommendation.objects.filter(member=member)
        .exclude(status__in=OPEN_RECOMMENDATION)
        .select_related("candidate")
        .order_by("-answered_at", "-pk")[:limit]
    )
    sugs = (
        Suggestion.objects.filter(member=member)
        .exclude(status=SuggestionStatus.OPEN)
        .select_related("candidate")
        .order_by("-answered_at", "-pk")[:limit]
    )
    rows = [(r.answered_at, _rec_card(r, explain=False)) for r in recs]
    rows += [(s.answered_at, _sug_card(s)) for s in sugs]
    rows.sort(key=lambda r: r[0] or timezone.now(), reverse=True)
    cards = [card for _when, card in rows[:limit]]
    # Each answer's double opt-in: "waiting for TA", "both said yes", "not this time".
    pairs = optins_of([(member.pk, card._other_pk) for card in cards])
    for card in cards:
        pair = pairs.get((min(member.pk, card._other_pk), max(member.pk, card._other_pk)))
        if pair is not None:
            card.optin = _state_for(pair, member.pk)
            card.pair_ref = ref("pair", pair.pk)
    return cards


# What one side reads of the pair's state: never the other side's reasons, only "not this time".
def _state_for(pair: OptIn, member_pk: int) -> str:
    if pair.state == OptInState.OPEN and pair.answer_of(member_pk) == OptInAnswer.YES:
        return "waiting"
    return pair.state


# --- double opt-in ------------------------------------------------------------------------------


def shown_to(viewer_pk: int, other: Member, *, revealed: bool, name_form: str = "") -> PeerView:
    """Another member as this member sees them, the one way the centre names them: while the
    two are a mutual yes, as the revealed card does (the agency's name format, `name_form`:
    `SiteSettings.reveal_name`); otherwise by reference. Never a contact detail."""
    reference = peer_ref(viewer_pk, other.pk)
    if revealed:
        return present_revealed(other, ref=reference, name_form=name_form)
    return present_to_member(other, ref=reference)


def mutual_with(member: Member, other_ids) -> set[int]:
    """Of these members, the ones who are a mutual yes with this member now (one query): not
    before both said yes, nor after a yes was withdrawn or a matchmaker ended the pair."""
    ids = set(other_ids) - {member.pk}
    if not ids:
        return set()
    rows = OptIn.objects.filter(
        Q(low=member, high_id__in=ids) | Q(high=member, low_id__in=ids), state=OptInState.MUTUAL
    ).values_list("low_id", "high_id")
    return {high if low == member.pk else low for low, high in rows}


def peers_of(member: Member, others: list[Member]) -> tuple[list[PeerView], set[int]]:
    """Other members as this member sees them on a list (`shown_to`), and the keys of those
    shown by name (their showing is logged: `centre_services.reveals_logged`)."""
    revealed = mutual_with(member, {o.pk for o in others})
    name_form = SiteSettings.load().reveal_name if revealed else ""
    shown = [shown_to(member.pk, o, revealed=o.pk in revealed, name_form=name_form) for o in others]
    return shown, revealed


def _pair_card(pair: OptIn, member: Member, *, reveal: bool = False) -> PairCard:
    other = pair.high if pair.low_id == member.pk else pair.low
    revealed = reveal and pair.revealed
    shown = shown_to(
        member.pk,
        other,
        revealed=revealed,
        name_form=SiteSettings.load().reveal_name if revealed else "",
    )
    return PairCard(
        ref=ref("pair", pair.pk),
        other=shown,
        state=_state_for(pair, member.pk),
        mine=pair.answer_of(member.pk),
        waits_for_me=pair.waits_for(member.pk),
        from_matchmaker=pair.via == "rec",
        revealed=revealed,
        _other_pk=other.pk,
        _viewer_pk=member.pk,
    )


def _mine(member: Member):
    return OptIn.objects.filter(Q(low=member) | Q(high=member)).select_related("low", "high")


def open_pairs(member: Member, limit: int = 20) -> tuple[list[PairCard], list[PairCard]]:
    """(pairs where both said yes, masked cards waiting for this member's answer — the other
    side said yes first), newest first, in one query. The mutual ones are listed masked: the
    pair page reveals, and logs it."""
    waiting = Q(low=member, low_answer="", high_answer=OptInAnswer.YES) | Q(
        high=member, high_answer="", low_answer=OptInAnswer.YES
    )
    rows = (
        OptIn.objects.filter(
            (Q(low=member) | Q(high=member)) & Q(state=OptInState.MUTUAL)
            | Q(waiting, state=OptInState.OPEN)
        )
        .select_related("low", "high")
        .order_by("-updated_at", "-pk")[: 2 * limit]
    )
    mutual = [_pair_card(p, member) for p in rows if p.revealed][:limit]
    incoming = [_pair_card(p, member) for p in rows if p.waits_for(member.pk)][:limit]
    return mutual, incoming


def recommendations_page(member: Member) -> dict[str, list]:
    """The recommendations page's lists, their cards dressed (city, avatar) in one pass. A
    member whose yes waits for this one shows as the masked card only (answering it answers a
    recommendation or suggestion of the same member too)."""
    mutual, incoming = open_pairs(member)
    waiting = {card._other_pk for card in incoming}
    lists = {
        "mutual": mutual,
        "incoming": incoming,
        "recommended": [c for c in open_recommendations(member) if c._other_pk not in waiting],
        "suggestions": [c for c in todays_suggestions(member) if c._other_pk not in waiting],
        "answered": answered(member),
    }
    with_places([card for cards in lists.values() for card in cards], avatars=True)
    return lists


def pair_for(member: Member, reference: str) -> OptIn:
    """A double opt-in this member is one side of; anything else is not found."""
    return _one(_mine(member).filter(pk=pk_of("pair", reference)))


def pair_card(member: Member, pair: OptIn) -> PairCard:
    """The pair page: revealed (name, approved photos, our appointments) only while both say
    yes; the masked card or the state otherwise."""
    card = _pair_card(pair, member, reveal=True)
    if card.revealed:
        photos = MemberPhoto.objects.filter(member_id=card._other_pk, status="approved")
        card.photos = [
            peer_photo_url(member.pk, card._other_pk, pk)
            for pk in photos.values_list("pk", flat=True)
        ]
        both = [member.pk, card._other_pk]
        card.appointments = list(
            Appointment.objects.filter(member_id__in=both, partner_id__in=both)
            .exclude(status="cancelled")
            .order_by("-starts_at")[:5]
        )
    return with_places([card], avatars=True)[0]


def peer_photo(member: Member, reference: str, photo_ref: str) -> tuple[MemberPhoto, bool]:
    """(another member's approved photo, whether it is a reveal) for this member, or not found.
    Both said yes: any approved photo (a reveal). Otherwise, if the agency shows avatars, the
    approved avatar of a member on a card addressed to this member (a recommendation, a
    suggestion, a masked card)."""
    other = peer_pk(member.pk, reference)
    photo = MemberPhoto.objects.filter(
        pk=pk_of("photo", photo_ref), member_id=other, status="approved"
    ).first()
    if photo is None or other == member.pk:
        raise Http404
    low, high = min(member.pk, other), max(member.pk, other)
    pair = OptIn.objects.filter(low_id=low, high_id=high).first()
    if pair is not None and pair.revealed:
        return photo, True
    if not photo.is_avatar or not SiteSettings.load().peer_avatars:
        raise Http404
    addressed = (
        (pair is not None and pair.waits_for(member.pk))
        or Recommendation.objects.filter(member=member, candidate_id=other).exists()
        or Suggestion.objects.filter(member=member, candidate_id=other).exists()
    )
    if not addressed:
        raise Http404
    return photo, False


def recommendation_get(member: Member, pk: int) -> Recommendation:
    rec = Recommendation.objects.select_related("candidate", "member").filter(member=member, pk=pk)
    return _one(rec)


def suggestion_get(member: Member, pk: int) -> Suggestion:
    return _one(
        Suggestion.objects.select_related("candidate", "member").filter(member=member, pk=pk)
    )


def _one(qs):
    row = qs.first()
    if row is None:
        raise Http404
    return row


def card_for(member: Member, kind: str, reference: str) -> tuple[Card, object]:
    if kind == "rec":
        rec = recommendation_get(member, pk_of("rec", reference))
        return with_places([_rec_card(rec, explain=True)], avatars=True)[0], rec
    if kind == "sug":
        sug = suggestion_get(member, pk_of("sug", reference))
        return with_places([_sug_card(sug)], avatars=True)[0], sug
    raise Http404


# --- requests to meet, appointments ----------------------------------------------------------


def my_introductions(member: Member, *, reveal: bool = False):
    """The member's requests to meet, newest first: (request, the other member). `reveal`: the
    member's own page names a member who is a mutual yes with them now, as the revealed card
    does (a relative's read-only view does not: the other member said yes to the child)."""
    rows = list(IntroductionRequest.objects.filter(member=member).select_related("target")[:50])
    for r in rows:
        r.ref = ref("introduction", r.pk)
    if reveal:
        others, revealed = peers_of(member, [r.target for r in rows])
    else:
        others, revealed = [peer(member.pk, r.target) for r in rows], set()
    for r in rows:
        r.revealed = r.target_id in revealed
    return list(zip(rows, others, strict=True))


def open_introduction_targets(member: Member) -> set[str]:
    """The references of the members this member has asked to meet (an open request)."""
    ids = IntroductionRequest.objects.filter(member=member, status="open").values_list(
        "target_id", flat=True
    )
    return {peer_ref(member.pk, pk) for pk in ids}


def my_appointments(member: Member):
    rows = (
        Appointment.objects.filter(Q(member=member) | Q(partner=member))
        .select_related("member", "partner")
        .order_by("-starts_at", "-pk")[:50]
    )
    now = timezone.now()
    out = []
    others, revealed = peers_of(
        member, [a.partner if a.member_id == member.pk else a.member for a in rows]
    )
    for a, other in zip(rows, others, strict=True):
        side = "member" if a.member_id == member.pk else "partner"
        other_pk = a.partner_id if side == "member" else a.member_id
        out.append(
            {
                "appointment": a,
                "ref": ref("appointment", a.pk),
                "other": other,
                "_other_pk": other_pk,
                "revealed": other_pk in revealed,
                "feedback": getattr(a, f"{side}_feedback"),
                "may_give_feedback": a.status != "cancelled" and a.starts_at <= now,
            }
        )
    return out


def appointment_get(member: Member, reference: str) -> Appointment:
    pk = pk_of("appointment", reference)
    return _one(Appointment.objects.filter(Q(member=member) | Q(partner=member), pk=pk))


# --- messages ---------------------------------------------------------------------------------


def my_messages(member: Member, limit: int = 100) -> list[Message]:
    """The member's conversation with the agency, oldest first (a thread)."""
    rows = list(
        Message.objects.filter(Q(recipient_member=member) | Q(sender_member=member))
        .select_related("sender_staff", "recipient_staff")
        .order_by("-created_at", "-pk")[:limit]
    )
    for m in rows:
        m.ref = ref("message", m.pk)
    return list(reversed(rows))


def unread_count(member: Member) -> int:
    return Message.objects.filter(recipient_member=member, read_at__isnull=True).count()


def message_get(member: Member, pk: int) -> Message:
    return _one(Message.objects.filter(recipient_member=member, pk=pk))


# --- my service -------------------------------------------------------------------------------


def my_service(member: Member, today=None):
    """(contract in force today, else the latest in force; its plans; its ledger by month)."""
    today = today or timezone.localdate()
    in_force = Contract.objects.filter(
        member=member,
        status__in=(ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED),
    )
    contract = (
        in_force.filter(service_start__lte=today, service_end__gte=today)
        .order_by("-service_start", "-pk")
        .first()
        or in_force.order_by("-service_end", "-pk").first()
        or Contract.objects.filter(member=member).order_by("-created_at", "-pk").first()
    )
    if contract is None:
        return None, [], []
    return contract, list(contract.plans.all()), ledger(contract, today=today)


# --- my profile -------------------------------------------------------------------------------


def editable_fields() -> tuple[list[str], bool]:
    """(the profile fields members may change, whether their preferences too): the agency's
    setting, checked against the profile form."""
    chosen = FrontDeskSettings.load().member_editable_fields or []
    known = set(member_editable_choices())  # the identity fields never, whatever is stored
    fields = [n for n in chosen if n in known]
    return fields, PREFERENCES in chosen


# What the completeness score counts: the profile a matchmaker and the engine work with.
COMPLETENESS_FIELDS = (
    "region",
    "hukou_region",
    "height",
    "weight",
    "marital_status",
    "education",
    "annual_income",
    "occupation",
    "car",
    "house",
    "children",
    "personality",
    "hobbies",
    "about",
    "smoking",
    "drinking",
)


def completeness(member: Member) -> tuple[int, list[str]]:
    """(percent complete, what to add): the profile fields above, an approved photo and the
    mate preferences, each counting the same."""
    labels = {n: str(MemberForm.base_fields[n].label) for n in COMPLETENESS_FIELDS}
    missing = []
    for name in COMPLETENESS_FIELDS:
        value = getattr(member, name)
        if value in (None, "", [], ()):
            missing.append(labels[name])
    if not MemberPhoto.objects.filter(member=member, status="approved").exists():
        missing.append(_("An approved photo"))
    stated = Q(age_min__isnull=False) | Q(height_min__isnull=False) | Q(education_min__isnull=False)
    if not MatePreference.objects.filter(stated, member=member).exists():
        missing.append(_("What you are looking for"))
    total = len(COMPLETENESS_FIELDS) + 2
    return round(100 * (total - len(missing)) / total), missing


def my_photos(member: Member):
    return list(MemberPhoto.objects.filter(member=member))


def centre_activity(member: Member, days: int = 30) -> dict[str, int]:
    """What the member did in the member centre lately, by kind (the member analysis: the
    workbench's activity panel)."""
    kinds = dict(InteractionKind.choices)
    since = timezone.now() - timedelta(days=days)
    rows = (
        Interaction.objects.filter(member=member, created_at__gte=since)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by("kind")
    )
    return {str(kinds.get(kind, kind)): n for kind, n in rows}


def recent_reveals(*, viewer, member: Member, limit: int = 10) -> list[dict]:
    """The latest reveals of double opt-in seen by or of this member, for staff (the activity
    panel): when, which way, what, and the other member through the presenter for `viewer`."""
    rows = list(
        Reveal.objects.filter(Q(viewer=member) | Q(shown=member))
        .select_related("viewer", "shown", "staff")
        .order_by("-created_at", "-pk")[:limit]
    )
    others = present_many(viewer, [r.shown if r.viewer_id == member.pk else r.viewer for r in rows])
    return [
        {
            "at": r.created_at,
            "seen_by_member": r.viewer_id == member.pk,
            "other": other,
            "kind": r.get_kind_display(),
            "staff": r.staff,
        }
        for r, other in zip(rows, others, strict=True)
    ]
