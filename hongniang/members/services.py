"""Writes on members. Each service checks permission and visibility itself, runs in one
transaction and leaves an event on the member's timeline."""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.members import choices as c
from hongniang.members import journey
from hongniang.members import personal_data as pd
from hongniang.members.models import (
    Allocation,
    AllocationKind,
    AllocationStatus,
    EventKind,
    MatePreference,
    Member,
    MemberEvent,
    MemberPhoto,
    RevealField,
    RevealLog,
    order_multi_selects,
)
from hongniang.staff.models import Staff
from hongniang.staff.permissions import can
from hongniang.staff.services import verify_security_password


def _require(actor, action: str):
    if not can(actor, "members", action):
        raise PermissionDenied


def mobile_in_use(mobile: str, *, exclude_pk: int | None = None) -> bool:
    qs = Member.objects.filter(pd.hash_match("mobile_hash", pd.lookup_hash(mobile)))
    return qs.exclude(pk=exclude_pk).exists() if exclude_pk else qs.exists()


def id_number_in_use(number: str, *, exclude_pk: int | None = None) -> bool:
    qs = Member.objects.filter(pd.hash_match("id_number_hash", pd.lookup_hash(number)))
    return qs.exclude(pk=exclude_pk).exists() if exclude_pk else qs.exists()


def registered_member(*, mobile: str, id_number: str = "", id_type: str = "") -> Member | None:
    """The member already holding this mobile or ID number (either), if any."""
    checked = check_personal_data(
        mobile=mobile, id_number=id_number, id_type=id_type, sex="", birthday=None
    )
    q = Q(pk__in=[])
    if checked.mobile:
        q |= pd.hash_match("mobile_hash", pd.lookup_hash(checked.mobile))
    if checked.id_number:
        q |= pd.hash_match("id_number_hash", pd.lookup_hash(checked.id_number))
    return Member.objects.filter(q).select_related("presales_owner", "aftersales_owner").first()


LIVE_CHECKS_PER_MINUTE = 30


def _minute() -> int:
    return int(time.time() // 60)


def live_check_limited(user) -> bool:
    """Count one live check (mobile / ID number in use?) for the user in the current minute;
    True once the user has used up LIVE_CHECKS_PER_MINUTE (a fixed window in the cache)."""
    key = f"members:live-check:{user.pk}:{_minute()}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > LIVE_CHECKS_PER_MINUTE


@dataclass
class PersonalData:
    """Mobile and ID number of a profile, normalised and checked without the database."""

    mobile: str = ""  # normalised; "" when missing or invalid
    id_number: str = ""  # normalised (a resident ID: 18 characters, X upper-case)
    birthday: date | None = None  # from a resident ID, when the profile has none
    errors: dict[str, list[str]] = field(default_factory=dict)  # field name → messages


def check_personal_data(
    *, mobile: str, id_number: str, id_type: str, sex: str, birthday: date | None
) -> PersonalData:
    """Format, check digit and agreement with sex and birthday: every problem at once. The
    member form (through :func:`apply_personal_data`) and the import both decide with this."""
    result = PersonalData(birthday=birthday)
    if mobile:
        try:
            result.mobile = pd.normalize_mobile(mobile)
        except ValidationError as exc:
            result.errors["mobile"] = exc.messages
    if not id_number:
        return result
    if id_type != c.IdType.RESIDENT_ID:
        result.id_number = id_number.strip().upper()
        return result
    try:
        number = pd.normalize_resident_id(id_number)
    except ValidationError as exc:
        result.errors["id_number"] = exc.messages
        return result
    result.id_number = number
    born, id_sex = pd.resident_id_facts(number)
    if birthday and birthday != born:
        result.errors["id_number"] = [
            _("The ID number gives the birthday %(date)s, the profile says otherwise.")
            % {"date": born.isoformat()}
        ]
    elif sex and sex != id_sex:
        result.errors["id_number"] = [_("The ID number does not match the sex chosen.")]
    else:
        result.birthday = birthday or born
    return result


def apply_personal_data(member: Member, *, mobile: str | None, id_number: str | None) -> None:
    """Validate, check uniqueness, then store encrypted + hashed + masked. Raises ValidationError.

    A resident ID must agree with the birthday and sex on the profile; an empty birthday is
    filled from it.
    """
    checked = check_personal_data(
        mobile=mobile or "",
        id_number=id_number or "",
        id_type=member.id_type,
        sex=member.sex,
        birthday=member.birthday,
    )
    errors = {}
    if mobile is not None:
        if mobile == "":
            member.mobile_encrypted = member.mobile_hash = member.mobile_masked = ""
        elif "mobile" in checked.errors:
            errors["mobile"] = checked.errors["mobile"]
        elif mobile_in_use(checked.mobile, exclude_pk=member.pk):
            errors["mobile"] = [_("This mobile number is already registered.")]
        else:
            member.mobile_encrypted = pd.encrypt(checked.mobile)
            member.mobile_hash = pd.lookup_hash(checked.mobile)
            member.mobile_masked = pd.mask_mobile(checked.mobile)
    if id_number is not None:
        if id_number == "":
            member.id_number_encrypted = member.id_number_hash = member.id_number_masked = ""
        elif checked.id_number and id_number_in_use(checked.id_number, exclude_pk=member.pk):
            # Already registered says more than a disagreement with this profile.
            errors["id_number"] = [_("This ID number is already registered.")]
        elif "id_number" in checked.errors:
            errors["id_number"] = checked.errors["id_number"]
        else:
            member.birthday = checked.birthday
            _store_id(member, checked.id_number)
    if errors:
        raise ValidationError(errors)


def _store_id(member: Member, number: str) -> None:
    member.id_number_encrypted = pd.encrypt(number)
    member.id_number_hash = pd.lookup_hash(number)
    member.id_number_masked = pd.mask_id_number(number)


def _event(member, actor, kind, summary="", **data):
    MemberEvent.objects.create(
        member=member, actor=actor, kind=kind, summary=summary[:300], data=data
    )


def _check_store(actor: Staff, member: Member, *, previous: int | None) -> None:
    """A member goes only to a store the actor may use (all for the scope "all", else their
    own); a member's store left as it was is not the actor's choice."""
    from hongniang.members.selectors import stores_for

    if member.store_id in (None, previous):
        return
    if not stores_for(actor).filter(pk=member.store_id).exists():
        raise ValidationError({"store": _("You cannot put members in this store.")})


@transaction.atomic
def member_create(
    *,
    actor: Staff,
    member: Member,
    preference: MatePreference | None = None,
    mobile: str = "",
    id_number: str = "",
    source: str = c.Source.STAFF_ENTRY,
    to_pool: bool = False,
) -> Member:
    """A matchmaker enters a member, who then belongs to them (whitepaper 2.4.1) or, with
    `to_pool` (a front-desk consultation turned member), waits in the 未成交待分配 pool."""
    _require(actor, "add")
    now = timezone.now()
    member.source = source
    member.created_by = actor
    member.store = member.store or actor.store
    member.registered_at = member.registered_at or now
    _check_store(actor, member, previous=None)
    self_assigned = member.presales_owner_id is None and not to_pool
    if self_assigned:
        member.presales_owner = actor
        member.allocated_at = now
    apply_personal_data(member, mobile=mobile, id_number=id_number)
    member.full_clean()
    member.save()
    preference = preference or MatePreference()
    preference.member = member
    preference.full_clean()
    preference.save()
    if self_assigned:
        Allocation.objects.create(
            member=member,
            kind=AllocationKind.PRESALES,
            to_staff=actor,
            by=actor,
            remark=_("Entered by this matchmaker"),
        )
    _event(member, actor, EventKind.CREATED, _("Member entered by %(name)s") % {"name": actor.name})
    return member


@transaction.atomic
def member_register(
    *,
    member: Member,
    preference: MatePreference | None = None,
    mobile: str,
    id_number: str = "",
    owner: Staff | None = None,
    store=None,
) -> Member:
    """A visitor registers on the public form (whitepaper 2.4.4); no staff member acts.

    Without `owner` the member waits in the 未成交待分配 pool of `store`. With one (the
    matchmaker whose code brought the visitor) the member is theirs at once, in their store,
    and they are told by a notice.
    """
    now = timezone.now()
    member.source = c.Source.REGISTRATION
    member.registered_at = now
    member.presales_owner = owner
    member.store = owner.store if owner else store
    member.allocated_at = now if owner else None
    apply_personal_data(member, mobile=mobile, id_number=id_number)
    member.full_clean()
    member.save()
    preference = preference or MatePreference()
    preference.member = member
    preference.full_clean()
    preference.save()
    summary = _("Registered on the website")
    if owner:
        Allocation.objects.create(
            member=member,
            kind=AllocationKind.PRESALES,
            to_staff=owner,
            by=None,
            remark=_("Registered through this matchmaker's link"),
            # The matchmaker accepts the lead like any allocation (or it goes to the pool).
            status=AllocationStatus.PENDING,
        )
        summary = _("Registered on the website through %(name)s's link") % {"name": owner.name}
        _notify_allocated(actor=None, to=owner, members=[member])
    _event(member, None, EventKind.CREATED, summary, referrer=owner.pk if owner else None)
    return member


# Columns that change without the record changing: the timestamp, and ciphertexts (a new random
# IV each time; their keyed hash tells whether the value changed).
# Derived columns (the birthday keys follow the birthday) are not changes of their own.
_NOT_COMPARED = {
    "updated_at",
    "mobile_encrypted",
    "id_number_encrypted",
    "birthday_md",
    "lunar_birthday_md",
}


def changed_fields(before, after) -> list[str]:
    """Names of the stored fields whose value differs between two versions of a row."""
    if before is None:
        return [f.name for f in after._meta.concrete_fields if f.name not in _NOT_COMPARED]
    order_multi_selects(after)
    return [
        f.name
        for f in after._meta.concrete_fields
        if f.name not in _NOT_COMPARED and getattr(before, f.attname) != getattr(after, f.attname)
    ]


@transaction.atomic
def member_update(
    *,
    actor: Staff,
    member: Member,
    preference: MatePreference | None = None,
    mobile: str | None = None,
    id_number: str | None = None,
) -> Member:
    """Save what changed; a form saved unchanged writes nothing (no history row, no event)."""
    _require(actor, "edit")
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    stored = Member.objects.get(pk=member.pk)
    _check_store(actor, member, previous=stored.store_id)
    apply_personal_data(member, mobile=mobile, id_number=id_number)
    member.full_clean()
    changed = changed_fields(stored, member)
    if changed:
        member.save()
    if preference is not None:
        preference.member = member
        preference.full_clean()
        stored = MatePreference.objects.filter(member_id=member.pk).first()
        pref_changed = changed_fields(stored, preference)
        if pref_changed:
            preference.save()
            changed += [f"preference.{name}" for name in pref_changed]
    if changed:
        _event(member, actor, EventKind.UPDATED, fields=changed)
    return member


def allocation_kind_for(member: Member) -> str:
    """Signed members go to after-sales; everyone else to pre-sales."""
    return (
        AllocationKind.AFTERSALES
        if member.sales_stage == c.SalesStage.SIGNED
        else AllocationKind.PRESALES
    )


@transaction.atomic
def members_allocate(
    *,
    actor: Staff,
    members: Iterable[Member],
    to: Staff,
    remark: str = "",
) -> int:
    """Allocate (or reallocate) members to a matchmaker of the actor's visible team.

    The members must be in the actor's pools or visible to them, and ``to``'s role must fit each
    member (pre-sales or after-sales); all or nothing. A signed member gets an after-sales
    matchmaker and keeps the pre-sales one (who made the sale); any other member, abandoned ones
    included, gets ``to`` as their one matchmaker. ``to`` is told by a notice.
    """
    from hongniang.members.selectors import allocatable_members, serves

    _require(actor, "allocate")
    if not Staff.objects.visible_to(actor).filter(pk=to.pk).exists() or not to.is_active:
        raise ValidationError({"to": _("You can only allocate to an active member of your team.")})
    members = list(members)
    if not members:
        raise ValidationError(_("Choose at least one member."))
    allowed = set(
        allocatable_members(viewer=actor)
        .filter(pk__in=[m.pk for m in members])
        .values_list("pk", flat=True)
    )
    if len(allowed) != len({m.pk for m in members}):
        raise PermissionDenied
    now = timezone.now()
    locked = list(Member.objects.select_for_update().filter(pk__in=allowed))
    for kind in {allocation_kind_for(m) for m in locked}:
        if not serves(to, kind):
            raise ValidationError(
                {
                    "to": _("%(name)s's role does not take %(kind)s members.")
                    % {"name": to.name, "kind": AllocationKind(kind).label}
                }
            )
    done = []
    for member in locked:
        kind = allocation_kind_for(member)
        field = "aftersales_owner" if kind == AllocationKind.AFTERSALES else "presales_owner"
        previous = getattr(member, f"{field}_id")
        fields = [field, "allocated_at", "updated_at"]
        if member.sales_stage == c.SalesStage.ABANDONED and member.aftersales_owner_id:
            member.aftersales_owner = None  # the new matchmaker replaces the old team entirely
            fields.append("aftersales_owner")
        elif previous == to.pk:
            continue
        setattr(member, field, to)
        member.allocated_at = now
        member.public_pool_at = None
        member.save(update_fields=[*fields, "public_pool_at"])
        if member.sales_stage == c.SalesStage.ABANDONED:
            # Taken from the 已放弃待分配 pool: the new matchmaker starts the lead over.
            journey.advance(actor=actor, member=member, step="reopen", check_visible=False)
        Allocation.objects.create(
            member=member,
            kind=kind,
            from_staff_id=previous,
            to_staff=to,
            by=actor,
            remark=remark[:300],
            # Someone else's allocation waits for the assignee to accept it.
            status=AllocationStatus.ACCEPTED if to.pk == actor.pk else AllocationStatus.PENDING,
            decided_at=now if to.pk == actor.pk else None,
        )
        _event(
            member,
            actor,
            EventKind.REALLOCATED if previous else EventKind.ALLOCATED,
            remark,
            allocation=kind,
            from_staff=previous,
            to_staff=to.pk,
        )
        done.append(member)
    if done and to.pk != actor.pk:
        _notify_allocated(actor=actor, to=to, members=done)
    return len(done)


NOTICE_NAMES = 5  # members named in an allocation notice; the rest are counted


def _notify_allocated(*, actor: Staff | None, to: Staff, members: list[Member]) -> None:
    from hongniang.members.presenter import member_label
    from hongniang.messaging.services import notify

    names = "、".join(member_label(to, m) for m in members[:NOTICE_NAMES])
    if len(members) > NOTICE_NAMES:
        names += _(" and %(n)s more") % {"n": len(members) - NOTICE_NAMES}
    link = (
        reverse("members:detail", args=[members[0].pk])
        if len(members) == 1
        else f"{reverse('members:list')}?owner={to.pk}"
    )
    if actor is None:  # a visitor registered through the matchmaker's link
        text = _("A visitor registered through your link: %(names)s") % {"names": names}
    else:
        text = _("%(actor)s allocated %(count)s member(s) to you: %(names)s") % {
            "actor": actor.name,
            "count": len(members),
            "names": names,
        }
    hint = _("Please accept or decline within %(hours)s hours.") % {
        "hours": _site().allocation_accept_hours
    }
    notify(recipient=to, text=f"{text} {hint}", link=link)


def member_reveal(*, actor: Staff, member: Member, field: str, security_password: str) -> str:
    """The full mobile or ID number, for roles that may see it, after the security password;
    every reveal is logged."""
    _require(actor, "reveal")
    # Before the transaction: a wrong password must stay counted, not be rolled back.
    verify_security_password(actor, security_password)
    with transaction.atomic():
        return _reveal(actor, member, field)


def _reveal(actor: Staff, member: Member, field: str) -> str:
    if field not in ("mobile", "id_number"):
        raise ValidationError(_("Unknown field."))
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    RevealLog.objects.create(member=member, field=field, staff=actor)
    _event(member, actor, EventKind.REVEALED, str(RevealField(field).label), field=field)
    return pd.decrypt(getattr(member, f"{field}_encrypted"))


MAX_PHOTOS = 12


def _require_visible(actor, member: Member, action: str):
    _require(actor, action)
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied


@transaction.atomic
def photo_add(*, actor: Staff, member: Member, image) -> MemberPhoto:
    """A new photo waits for review; the first one becomes the avatar."""
    _require_visible(actor, member, "edit")
    return photo_store(member=member, image=image)


def photo_store(*, member: Member, image) -> MemberPhoto:
    """Keep an uploaded (already checked) photo; it waits for review. Also the member centre's
    upload, where the member is the one logged in. Part of the caller's transaction."""
    if member.photos.count() >= MAX_PHOTOS:
        raise ValidationError(_("A member can have at most %(n)s photos.") % {"n": MAX_PHOTOS})
    photo = MemberPhoto(member=member, is_avatar=not member.photos.exists())
    photo.image.save(image.name, image, save=False)
    photo.save()
    return photo


@transaction.atomic
def photo_review(*, actor: Staff, photo: MemberPhoto, approve: bool) -> MemberPhoto:
    _require_visible(actor, photo.member, "approve")
    photo.status = c.PhotoStatus.APPROVED if approve else c.PhotoStatus.REJECTED
    photo.reviewed_by, photo.reviewed_at = actor, timezone.now()
    photo.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    _event(photo.member, actor, EventKind.PHOTO, photo.get_status_display(), photo=photo.pk)
    return photo


@transaction.atomic
def photo_set_avatar(*, actor: Staff, photo: MemberPhoto) -> None:
    _require_visible(actor, photo.member, "edit")
    photo.member.photos.exclude(pk=photo.pk).update(is_avatar=False)
    MemberPhoto.objects.filter(pk=photo.pk).update(is_avatar=True)


@transaction.atomic
def photo_delete(*, actor: Staff, photo: MemberPhoto) -> None:
    _require_visible(actor, photo.member, "edit")
    member, was_avatar = photo.member, photo.is_avatar
    photo.image.delete(save=False)
    photo.delete()
    if was_avatar and (first := member.photos.first()):
        MemberPhoto.objects.filter(pk=first.pk).update(is_avatar=True)


@transaction.atomic
def member_set_site_flags(
    *, actor: Staff, member: Member, featured: bool, hidden: bool
) -> list[str]:
    """Feature the member on the public site's home, or keep them off the public site: staff
    who may edit the member. Returns the fields changed (written to the timeline)."""
    _require_visible(actor, member, "edit")
    wanted = {"site_featured": bool(featured), "site_hidden": bool(hidden)}
    changed = [name for name, value in wanted.items() if getattr(member, name) != value]
    if changed:
        for name in changed:
            setattr(member, name, wanted[name])
        member.save(update_fields=[*changed, "updated_at"])
        _event(member, actor, EventKind.UPDATED, fields=changed)
    return changed


# --- the public pool (公海) and accepting allocations (whitepaper 1.4) -----------------------

_OPEN_STAGES = (c.SalesStage.NEW, c.SalesStage.FOLLOWING)


def _selectors():
    from hongniang.members import selectors

    return selectors


def _site():
    from hongniang.siteconfig.models import SiteSettings

    return SiteSettings.load()


def _to_public_pool(member: Member, actor, summary: str, now) -> int | None:
    previous = member.presales_owner_id
    member.presales_owner = None
    member.public_pool_at = now
    member.save(update_fields=["presales_owner", "public_pool_at", "updated_at"])
    _event(member, actor, EventKind.POOL, summary, from_staff=previous)
    return previous


@transaction.atomic
def member_release(*, actor: Staff, member: Member, reason: str = "") -> Member:
    """The owner (or someone who may allocate the member) gives an unsigned member up to the
    public pool, where the store's matchmakers may claim them."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    if member.presales_owner_id != actor.pk and not can(actor, "members", "allocate"):
        raise PermissionDenied
    if member.sales_stage not in _OPEN_STAGES or member.presales_owner_id is None:
        raise ValidationError(_("Only an unsigned member with a matchmaker can be released."))
    summary = _("Released to the public pool by %(name)s") % {"name": actor.name}
    if reason.strip():
        summary = f"{summary}: {reason.strip()}"
    _to_public_pool(member, actor, summary, timezone.now())
    return member


@transaction.atomic
def pool_claim(*, actor: Staff, members: Iterable[Member]) -> int:
    """A matchmaker takes members from the public pool, up to the agency's limit of unsigned
    members one may hold; all or nothing."""
    selectors = _selectors()
    pks = {m.pk for m in members}
    if not pks:
        raise ValidationError(_("Choose at least one member."))
    # Lock the matchmaker's row: two claims at once cannot both pass the limit.
    Staff.objects.select_for_update().filter(pk=actor.pk).first()
    claimable = list(
        selectors.public_pool_members(viewer=actor).select_for_update().filter(pk__in=pks)
    )
    if len(claimable) != len(pks):
        raise ValidationError(_("Some of these members are no longer in the public pool."))
    limit = _site().pool_claim_limit
    held = selectors.held_unsigned(actor)
    if held + len(claimable) > limit:
        raise ValidationError(
            _(
                "You may hold at most %(limit)s unsigned members; you have %(held)s, so you can "
                "claim %(left)s more."
            )
            % {"limit": limit, "held": held, "left": max(0, limit - held)}
        )
    now = timezone.now()
    for member in claimable:
        member.presales_owner = actor
        member.public_pool_at = None
        member.allocated_at = now
        member.save(
            update_fields=["presales_owner", "public_pool_at", "allocated_at", "updated_at"]
        )
        Allocation.objects.create(
            member=member,
            kind=AllocationKind.PRESALES,
            to_staff=actor,
            by=actor,
            remark=_("Claimed from the public pool"),
            decided_at=now,
        )
        _event(member, actor, EventKind.ALLOCATED, _("Claimed from the public pool"))
    return len(claimable)


def public_pool_return(*, now=None) -> int:
    """The nightly return: unsigned members their matchmaker has not followed up within the
    agency's limit (counted from the last follow-up, or from the allocation when there was none)
    go back to the public pool, with a timeline entry and a notice to the matchmaker."""
    from django.db.models import Q

    from hongniang.messaging.services import notify

    now = now or timezone.now()
    days = _site().pool_return_days
    cutoff = now - timedelta(days=days)
    due = Member.objects.filter(
        Q(followed_up_at__lt=cutoff)
        | Q(followed_up_at__isnull=True, allocated_at__lt=cutoff)
        | Q(followed_up_at__isnull=True, allocated_at__isnull=True, registered_at__lt=cutoff),
        sales_stage__in=_OPEN_STAGES,
        presales_owner__isnull=False,
    )
    # Pending allocations are answered first (they have their own deadline).
    due = due.exclude(allocations__status=AllocationStatus.PENDING)
    summary = _("Not followed up within %(days)s days: back to the public pool") % {"days": days}
    returned = 0
    lost: dict[int, int] = {}
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            member = Member.objects.select_for_update().get(pk=pk)
            previous = _to_public_pool(member, None, summary, now)
        lost[previous] = lost.get(previous, 0) + 1
        returned += 1
    for staff in Staff.objects.filter(pk__in=lost):
        notify(
            recipient=staff,
            text=_(
                "%(count)s of your members went back to the public pool (not followed up "
                "within %(days)s days)."
            )
            % {"count": lost[staff.pk], "days": days},
            link=reverse("members:public_pool"),
        )
    return returned


def _undo_allocation(allocation: Allocation, status: str, reason: str, actor, now) -> None:
    """Give the member back to where the allocation took them from (the previous matchmaker,
    or the pool) and tell the allocator."""
    from hongniang.members.presenter import member_label
    from hongniang.messaging.services import notify

    member = Member.objects.select_for_update().get(pk=allocation.member_id)
    field = "aftersales_owner" if allocation.kind == AllocationKind.AFTERSALES else "presales_owner"
    if getattr(member, f"{field}_id") == allocation.to_staff_id:
        setattr(member, f"{field}_id", allocation.from_staff_id)
        member.save(update_fields=[field, "updated_at"])
    allocation.status = status
    allocation.decided_at = now
    allocation.decline_reason = reason[:300]
    allocation.save(update_fields=["status", "decided_at", "decline_reason"])
    text = _("%(name)s did not take the member: %(reason)s") % {
        "name": allocation.to_staff.name,
        "reason": reason,
    }
    _event(member, actor, EventKind.ACCEPTANCE, text, allocation=allocation.pk, status=status)
    if allocation.by_id:
        notify(
            recipient=allocation.by,
            text=_("%(name)s did not take %(member)s: %(reason)s")
            % {
                "name": allocation.to_staff.name,
                "member": member_label(allocation.by, member),
                "reason": reason,
            },
            link=reverse("members:pools"),
        )


@transaction.atomic
def allocation_answer(
    *, actor: Staff, allocation: Allocation, accept: bool, reason: str = ""
) -> Allocation:
    """The assignee accepts an allocated member, or declines with a reason (the member goes
    back where they came from and the allocator is told)."""
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.to_staff_id != actor.pk:
        raise PermissionDenied
    if allocation.status != AllocationStatus.PENDING:
        raise ValidationError(_("This allocation has already been answered."))
    now = timezone.now()
    if accept:
        allocation.status = AllocationStatus.ACCEPTED
        allocation.decided_at = now
        allocation.save(update_fields=["status", "decided_at"])
        _event(
            allocation.member,
            actor,
            EventKind.ACCEPTANCE,
            _("Accepted by %(name)s") % {"name": actor.name},
            allocation=allocation.pk,
            status=AllocationStatus.ACCEPTED,
        )
        return allocation
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    _undo_allocation(allocation, AllocationStatus.DECLINED, reason.strip(), actor, now)
    return allocation


def allocations_expire(*, now=None) -> int:
    """Allocations not accepted within the agency's hours go back to the allocator's list."""
    now = now or timezone.now()
    hours = _site().allocation_accept_hours
    reason = _("not accepted within %(hours)s hours") % {"hours": hours}
    expired = 0
    for pk in list(
        Allocation.objects.filter(
            status=AllocationStatus.PENDING, created_at__lt=now - timedelta(hours=hours)
        ).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            allocation = (
                Allocation.objects.select_for_update(of=("self",))
                .select_related("to_staff", "by")
                .get(pk=pk)
            )
            if allocation.status != AllocationStatus.PENDING:
                continue
            _undo_allocation(allocation, AllocationStatus.EXPIRED, reason, None, now)
        expired += 1
    return expired
