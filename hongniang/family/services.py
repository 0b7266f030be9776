"""Family profiles: a relative's account and session, their drafts, the invitation sent to the
child, the child's approval or refusal, and the child's switch that lets the relative see their
introductions.

Rules kept here:
- A draft is a member hidden from matching (`is_hidden`) until the child approves: nothing that
  offers or shows members (engine, public site, search, sitemap, recommendations) sees it.
- The answer to a relative never tells whether the child (or the relative's own mobile) is on
  file already: a child's mobile or ID number already registered drafts nothing, the relative
  is answered as for any draft and the member's matchmakers are told instead.
- The invitation is a random token in a link: only its hash is kept, it expires after
  INVITE_DAYS, is used once (approving or declining spends it) and a new one replaces the old;
  at most INVITES_PER_DAY are sent for a draft.
- Declined, the draft's member is deleted with its audit rows (the child did not consent to be
  processed by the agency); the family profile keeps that it was declined and when, nothing of
  the child. The relative is told without reasons.
- Never answered: a nightly job deletes a pending draft the same way once its last invitation
  expired `SiteSettings.family_draft_days` days ago (`purge_expired`); the relative is told as
  on a decline, and may register the child again.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from hongniang.frontdesk import throttle
from hongniang.frontdesk.models import FrontDeskSettings, MemberAccount, Registration
from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members import services as member_services
from hongniang.members.models import EventKind, MatePreference, Member, MemberEvent, age_on
from hongniang.members.presenter import member_label
from hongniang.messaging.services import notify
from hongniang.messaging.sms import get_sms_backend
from hongniang.siteconfig.models import SiteSettings

from .models import DraftState, FamilyProfile, Relationship, RelativeAccount

INVITE_DAYS = 7
INVITES_PER_DAY = throttle.Limit("family-invite", 3, 86400)
LOGIN_FAILURES_PER_ACCOUNT = throttle.Limit("relative-login", 5, 900)
LOGIN_FAILURES_PER_ADDRESS = throttle.Limit("relative-login-ip", 30, 3600)

SESSION_KEY = "family.relative"
HASH_KEY = "family.hash"


# --- the relative's account and session --------------------------------------------------------


class LoginLocked(Exception):
    """Too many failed logins for this account or from this address."""


def _session_hash(account: RelativeAccount) -> str:
    # Changes with the password: a new password ends the other sessions.
    return salted_hmac("hongniang.family.session", account.password).hexdigest()


def relative_login(request, account: RelativeAccount) -> None:
    """The relative's session: its own keys, beside (never instead of) a member's or staff's."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = account.pk
    request.session[HASH_KEY] = _session_hash(account)
    RelativeAccount.objects.filter(pk=account.pk).update(last_login=timezone.now())


def relative_logout(request) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(HASH_KEY, None)


def current_relative(request) -> RelativeAccount | None:
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return None
    account = RelativeAccount.objects.filter(pk=pk, is_active=True).first()
    if account is None or not constant_time_compare(
        request.session.get(HASH_KEY, ""), _session_hash(account)
    ):
        relative_logout(request)
        return None
    return account


_DUMMY = None


def _dummy_hash() -> str:
    # An unknown mobile spends the same hashing time as a known one (no enumeration by timing).
    global _DUMMY  # noqa: PLW0603 - computed once per process
    if _DUMMY is None:
        _DUMMY = make_password("not a relative")
    return _DUMMY


def relative_authenticate(request, mobile: str, password: str) -> RelativeAccount | None:
    """The account when mobile and password match; None otherwise (the same for an unknown
    mobile). Raises LoginLocked after repeated failures for the account or the address."""
    address = throttle.client_address(request)
    try:
        mobile = pd.normalize_mobile(mobile)
    except ValidationError:
        mobile = ""
    key = pd.lookup_hash(mobile) if mobile else "?"
    if throttle.exceeded(LOGIN_FAILURES_PER_ACCOUNT, key) or throttle.exceeded(
        LOGIN_FAILURES_PER_ADDRESS, address
    ):
        raise LoginLocked
    account = (
        RelativeAccount.objects.filter(mobile_hash=pd.lookup_hash(mobile), is_active=True).first()
        if mobile
        else None
    )
    if account is not None and account.check_password(password or ""):
        return account
    if account is None:
        check_password(password or "", _dummy_hash())
    throttle.hit(LOGIN_FAILURES_PER_ACCOUNT, key)
    throttle.hit(LOGIN_FAILURES_PER_ADDRESS, address)
    return None


# --- drafting ----------------------------------------------------------------------------------


def old_enough(member: Member, today=None) -> bool:
    """The legal marriage age the matching rules use (system settings: men 22, women 20)."""
    if member.birthday is None:
        return False
    site = SiteSettings.load()
    minimum = site.match_min_age_male if member.sex == c.Sex.MALE else site.match_min_age_female
    return age_on(member.birthday, today or timezone.localdate()) >= minimum


def minimum_age_error(member: Member) -> ValidationError:
    site = SiteSettings.load()
    minimum = site.match_min_age_male if member.sex == c.Sex.MALE else site.match_min_age_female
    return ValidationError(
        {
            "birthday": _(
                "A family profile is for an adult child: at least %(age)s years old, the legal "
                "marriage age."
            )
            % {"age": minimum}
        }
    )


def _new_username() -> str:
    # Not the mobile or a name: usernames are shown unmasked. The child may choose another.
    while True:
        name = f"f{secrets.token_hex(5)}"
        if not Member.objects.filter(username=name).exists():
            return name


def relative_register(
    *,
    name: str,
    mobile: str,
    password: str,
    relationship: str,
    member: Member,
    preference: MatePreference,
    child_mobile: str,
    id_number: str = "",
    site_url: str = "",
) -> FamilyProfile | None:
    """The public form: the relative's account and the child's draft, then the invitation.

    A mobile that already has a relative's account: with its password, the draft joins that
    account; otherwise nothing is kept and its holder is told by SMS (the visitor is answered
    the same either way). Returns the draft, or None when nothing was kept."""
    mobile = pd.normalize_mobile(mobile)
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": _("Choose the relationship.")})
    if not old_enough(member):
        raise minimum_age_error(member)
    existing = RelativeAccount.objects.filter(mobile_hash=pd.lookup_hash(mobile)).first()
    if existing is not None and not existing.check_password(password):
        _tell_holder(mobile)
        return None
    with transaction.atomic():
        relative = existing
        if relative is None:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from exc
            relative = RelativeAccount(
                name=name.strip()[:30],
                mobile_encrypted=pd.encrypt(mobile),
                mobile_hash=pd.lookup_hash(mobile),
                mobile_masked=pd.mask_mobile(mobile),
            )
            relative.set_password(password)
            relative.full_clean()
            relative.save()
        profile = draft_create(
            relative=relative,
            relationship=relationship,
            member=member,
            preference=preference,
            mobile=child_mobile,
            id_number=id_number,
        )
    invitation_send(profile, site_url=site_url)
    return profile


def _tell_holder(mobile: str) -> None:
    agency = SiteSettings.load().crm_name
    text = _(
        "Someone used this mobile to register a relative's profile with us. If it was you, "
        "log in to the relatives' centre and add it there."
    )
    get_sms_backend().send(mobile, f"【{agency}】{text}" if agency else text)


@transaction.atomic
def draft_create(
    *,
    relative: RelativeAccount,
    relationship: str,
    member: Member,
    preference: MatePreference,
    mobile: str,
    id_number: str = "",
) -> FamilyProfile:
    """The child's profile as the relative wrote it: a member hidden from matching, in the
    website leads' pool (staff follow the relative up). A mobile or ID number already on file
    drafts nothing (the profile row says only that a draft was asked for)."""
    if not old_enough(member):
        raise minimum_age_error(member)
    profile = FamilyProfile(relative=relative, relationship=relationship)
    existing = member_services.registered_member(
        mobile=mobile, id_number=id_number, id_type=member.id_type
    )
    if existing is not None:
        profile.save()
        _tell_matchmakers(existing, profile)
        return profile
    member.username = member.username or _new_username()
    member.is_hidden = True  # not a candidate anywhere until the child approves
    member = member_services.member_register(
        member=member,
        preference=preference,
        mobile=mobile,
        id_number=id_number,
        store=FrontDeskSettings.load().default_store,
    )
    Registration.objects.create(member=member)
    profile.member = member
    profile.save()
    MemberEvent.objects.create(
        member=member,
        kind=EventKind.CREATED,
        summary=_(
            "Drafted by a relative (%(relationship)s, %(name)s %(mobile)s): awaiting the "
            "member's own confirmation, not matched or shown until then"
        )
        % {
            "relationship": profile.get_relationship_display(),
            "name": relative.name,
            "mobile": relative.mobile_masked,
        },
        data={"family_profile": profile.pk},
    )
    return profile


def _tell_matchmakers(member: Member, profile: FamilyProfile) -> None:
    link = reverse("members:detail", args=[member.pk])
    owners = {o for o in (member.presales_owner, member.aftersales_owner) if o and o.is_active}
    for owner in owners:
        notify(
            recipient=owner,
            text=_(
                "A relative (%(relationship)s) tried to register %(name)s on the website, who is "
                "already on file: please get in touch."
            )
            % {
                "relationship": profile.get_relationship_display(),
                "name": member_label(owner, member),
            },
            link=link,
        )


# --- the invitation ----------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(f"hongniang-family:{token}".encode()).hexdigest()


def invite_url(token: str, site_url: str = "") -> str:
    from django.conf import settings

    base = settings.PUBLIC_SITE_URL or site_url
    return base.rstrip("/") + reverse("family:invitation", args=[token])


def invitation_text(profile: FamilyProfile, url: str) -> str:
    agency = SiteSettings.load().crm_name
    text = _(
        "Your %(relationship)s registered a profile for you with a matchmaking agency. Please "
        "review it and say yes or no (valid %(days)s days); nothing is shown to anyone before "
        "you agree: %(url)s"
    ) % {"relationship": profile.get_relationship_display(), "days": INVITE_DAYS, "url": url}
    return f"【{agency}】{text}" if agency else text


def invitation_send(profile: FamilyProfile, *, site_url: str = "") -> bool:
    """A new invitation (the previous link stops working). Counts against the day's limit
    even when there is nobody to send it to, so that the relative's answer is the same."""
    if throttle.hit(INVITES_PER_DAY, str(profile.pk)):
        raise ValidationError(
            _("An invitation can be sent %(n)s times a day: please try again tomorrow.")
            % {"n": INVITES_PER_DAY.count}
        )
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        profile = FamilyProfile.objects.select_for_update().get(pk=profile.pk)
        if profile.state != DraftState.PENDING:
            raise ValidationError(_("This profile has been answered already."))
        profile.token_hash = token_hash(token)
        profile.token_expires_at = now + timedelta(days=INVITE_DAYS)
        profile.invited_at = now
        profile.invitations += 1
        profile.save(update_fields=["token_hash", "token_expires_at", "invited_at", "invitations"])
    if profile.member_id is None:
        return False  # already on file: nobody is invited
    member = profile.member
    mobile = pd.decrypt(member.mobile_encrypted)
    sent = (
        bool(mobile)
        and get_sms_backend().send(mobile, invitation_text(profile, invite_url(token, site_url))).ok
    )
    MemberEvent.objects.create(
        member=member,
        kind=EventKind.MESSAGE,
        summary=(
            _("Invitation to confirm the relative's draft sent by SMS")
            if sent
            else _("The invitation to confirm the relative's draft could not be sent")
        ),
        data={"family_profile": profile.pk, "sms": sent},
    )
    return sent


def invitation_resend(*, relative: RelativeAccount, pk: int, site_url: str = "") -> None:
    profile = FamilyProfile.objects.filter(relative=relative, pk=pk).first()
    if profile is None:
        raise PermissionDenied
    invitation_send(profile, site_url=site_url)


def invitation_get(token: str) -> FamilyProfile | None:
    """The draft a valid invitation opens: pending, not expired, not used."""
    if not token or len(token) > 64:
        return None
    return (
        FamilyProfile.objects.select_related("member", "relative")
        .filter(
            token_hash=token_hash(token),
            state=DraftState.PENDING,
            member__isnull=False,
            token_expires_at__gt=timezone.now(),
        )
        .first()
    )


# --- the child's answer ------------------------------------------------------------------------


def _locked_profile(profile: FamilyProfile) -> FamilyProfile:
    """The row, locked, still pending with the same token (a second tab answering loses)."""
    locked = (
        FamilyProfile.objects.select_for_update()
        .filter(pk=profile.pk, state=DraftState.PENDING, token_hash=profile.token_hash)
        .exclude(token_hash="")
        .first()
    )
    if locked is None:
        raise ValidationError(_("This invitation has been used or has expired."))
    return locked


@transaction.atomic
def approve(
    *,
    profile: FamilyProfile,
    member: Member,
    preference: MatePreference,
    id_number: str | None,
    password: str,
) -> MemberAccount:
    """The child's yes: their corrections saved, their own password, visible to matching from
    now on, their consent recorded with its time. Returns the new member account."""
    locked = _locked_profile(profile)
    if member.pk != locked.member_id:
        raise PermissionDenied
    if not old_enough(member):
        raise minimum_age_error(member)
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    stored = Member.objects.get(pk=member.pk)
    member_services.apply_personal_data(member, mobile=None, id_number=id_number)
    member.is_hidden = False
    member.full_clean()
    changed = [f for f in member_services.changed_fields(stored, member) if f != "is_hidden"]
    member._change_reason = _("Confirmed by the member")
    member.save()
    preference.member = member
    preference.full_clean()
    before = MatePreference.objects.filter(member_id=member.pk).first()
    pref_changed = member_services.changed_fields(before, preference)
    if pref_changed:
        preference.save()
        changed += [f"preference.{name}" for name in pref_changed]
    # Staff may have opened an account meanwhile: the member's own password replaces its
    # one-time one.
    account = MemberAccount.objects.filter(member=member).first() or MemberAccount(member=member)
    account.set_password(password)
    account.must_change_password = False
    account.temporary_until = None
    account.save()
    now = timezone.now()
    locked.state = DraftState.APPROVED
    locked.decided_at = now
    locked.token_hash = ""
    locked.save(update_fields=["state", "decided_at", "token_hash"])
    if changed:
        MemberEvent.objects.create(
            member=member,
            kind=EventKind.UPDATED,
            summary=_("Corrected by the member when confirming the relative's draft"),
            data={"fields": changed, "by": "member"},
        )
    MemberEvent.objects.create(
        member=member,
        kind=EventKind.ACCOUNT,
        summary=_(
            "The member confirmed the profile their relative drafted and agreed to be a member "
            "(consent given %(when)s); member account opened"
        )
        % {"when": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
        data={
            "step": "family_approved",
            "family_profile": locked.pk,
            "consent_at": now.isoformat(),
        },
    )
    return account


def decline(*, profile: FamilyProfile) -> None:
    """The child's no: the draft is withdrawn and the child's personal data deleted (member
    row, its preferences, timeline and audit rows); the relative is told politely, no reason."""
    with transaction.atomic():
        locked = _locked_profile(profile)
        member_id = _withdraw(locked, DraftState.DECLINED)
        kept = not _erase_member(member_id)
    if kept:
        _tell_staff_to_erase(member_id)
    _tell_relative_declined(locked.relative)


def _withdraw(locked: FamilyProfile, state: str) -> int:
    """The draft withdrawn (declined or expired): the invitation spent, the member let go.
    Returns the member's key, to erase."""
    member_id = locked.member_id
    locked.state = state
    locked.decided_at = timezone.now()
    locked.token_hash = ""
    locked.member = None
    locked.save(update_fields=["state", "decided_at", "token_hash", "member"])
    return member_id


def expired_drafts(*, now=None):
    """Pending drafts whose last invitation expired more than the agency's N days ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=SiteSettings.load().family_draft_days)
    return FamilyProfile.objects.filter(
        state=DraftState.PENDING, member__isnull=False, token_expires_at__lt=cutoff
    )


def purge_expired(*, now=None, progress=None) -> int:
    """Delete every draft nobody confirmed in time as a decline does (the child's personal
    data erased, the relative told politely), each in its own transaction; returns how many.
    A draft whose invitation was sent again meanwhile is left alone."""
    ids = list(expired_drafts(now=now).order_by("pk").values_list("pk", flat=True))
    done = 0
    for n, pk in enumerate(ids, 1):
        with transaction.atomic():
            locked = expired_drafts(now=now).select_for_update().filter(pk=pk).first()
            if locked is None:
                continue  # answered or invited again since the list was read
            member_id = _withdraw(locked, DraftState.EXPIRED)
            kept = not _erase_member(member_id)
        if kept:
            _tell_staff_to_erase(member_id, expired=True)
        _tell_relative_declined(locked.relative, expired=True)
        done += 1
        if progress is not None:
            progress(n, len(ids))
    return done


def _erase_member(member_id: int) -> bool:
    """Delete the draft's member and its history rows; False when other records (a contract
    staff entered meanwhile) protect it: it stays hidden and staff are told to erase it."""
    try:
        with transaction.atomic():
            Member.objects.filter(pk=member_id).delete()
            Member.history.filter(id=member_id).delete()
            MatePreference.history.filter(member_id=member_id).delete()
            MemberAccount.history.filter(member_id=member_id).delete()
    except ProtectedError:
        return False
    return True


def _tell_staff_to_erase(member_id: int, *, expired: bool = False) -> None:
    member = Member.objects.select_related("presales_owner", "aftersales_owner").get(pk=member_id)
    text = (
        _(
            "%(name)s never confirmed the profile a relative drafted: please erase their "
            "personal data (other records keep the member from being deleted)."
        )
        if expired
        else _(
            "%(name)s declined the profile a relative drafted: please erase their personal "
            "data (other records keep the member from being deleted)."
        )
    )
    for owner in {o for o in (member.presales_owner, member.aftersales_owner) if o and o.is_active}:
        notify(
            recipient=owner,
            text=text % {"name": member_label(owner, member)},
            link=reverse("members:detail", args=[member.pk]),
        )


def _tell_relative_declined(relative: RelativeAccount, *, expired: bool = False) -> None:
    agency = SiteSettings.load().crm_name
    if expired:
        text = _(
            "The profile you registered for your relative has been withdrawn: they did not "
            "confirm it in time. You are welcome to register them again. Thank you for your trust."
        )
    else:
        text = _(
            "The profile you registered for your relative has been withdrawn: they would rather "
            "not use our service for now. Thank you for your trust."
        )
    mobile = pd.decrypt(relative.mobile_encrypted)
    if mobile:
        get_sms_backend().send(mobile, f"【{agency}】{text}" if agency else text)


# --- the child's switch ------------------------------------------------------------------------


@transaction.atomic
def share_introductions(*, member: Member, share: bool, actor=None) -> FamilyProfile:
    """The child lets their relative see their introductions, or takes it back."""
    profile = (
        FamilyProfile.objects.select_for_update()
        .filter(member=member, state=DraftState.APPROVED)
        .first()
    )
    if profile is None:
        raise PermissionDenied
    if profile.share_introductions != share:
        profile.share_introductions = share
        profile.save(update_fields=["share_introductions"])
        MemberEvent.objects.create(
            member=member,
            actor=actor,
            kind=EventKind.ACCOUNT,
            summary=(
                _("The member lets their relative see their introductions")
                if share
                else _("The member no longer lets their relative see their introductions")
            ),
            data={"step": "family_share", "share": share, "family_profile": profile.pk},
        )
    return profile
