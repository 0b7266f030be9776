"""The member centre's rules: members logging in (with the staff login's lock-out), their session,
their password, and staff logging in as a member (whitepaper 2.5.1), audited.

A member's session never touches Django's auth keys: `request.user` stays anonymous for a member
(so no workbench page opens) and stays the staff user while one browses as a member. The member
centre reads its member from two session keys of its own, checked on every request by `current`.
"""

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import user_login_failed
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from hongniang.frontdesk import throttle
from hongniang.frontdesk.models import MemberAccount
from hongniang.members import personal_data as pd
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.staff.permissions import Action, Module, can
from hongniang.staff.services import verify_security_password

from .models import Impersonation, ImpersonationEnd

ACCOUNT_KEY = "portal.account"
HASH_KEY = "portal.hash"
IMPERSONATION_KEY = "portal.impersonation"

# Staff may log in as a member with both rights (see `may_impersonate`).
IMPERSONATION_GRANTS = ((Module.AFTERSALES, Action.EDIT), (Module.MEMBERS, Action.EDIT))

# Besides django-axes' lock of one account from one address, an address that fails this often
# across accounts (password spraying) is refused for a while.
FAILURES_PER_ADDRESS = throttle.Limit("member-login-ip", 30, 3600)


class LoginRefused(Exception):
    """The password was right but the account may not log in (closed, or its one-time password
    expired): the message says why."""


class LoginLocked(Exception):
    """Too many failed logins: for this account from this address, or from this address."""

    def __init__(self, minutes: int, until):
        super().__init__(minutes)
        self.minutes, self.until = minutes, until


@dataclass(frozen=True)
class MemberSession:
    """Who the member centre shows: the account, and the impersonation when staff browse."""

    account: MemberAccount
    impersonation: Impersonation | None = None

    @property
    def member(self) -> Member:
        return self.account.member

    @property
    def impersonating(self) -> bool:
        return self.impersonation is not None


# --- login -------------------------------------------------------------------------------------


def find_account(identifier: str) -> MemberAccount | None:
    """The account of the member with this mobile or, failing that, this username."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    accounts = MemberAccount.objects.select_related("member")
    try:
        mobile = pd.normalize_mobile(identifier)
    except ValidationError:
        mobile = None
    if mobile:
        account = accounts.filter(
            pd.hash_match("member__mobile_hash", pd.lookup_hash(mobile))
        ).first()
        if account is not None:
            return account
    return accounts.filter(member__username=identifier).first()


def _lock_key(account: MemberAccount | None, identifier: str) -> str:
    """The name the lock-out counts under: one per account (mobile and username count together);
    an unknown name is counted by a hash of what was typed, so no mobile is stored in clear."""
    if account is not None:
        return f"member:{account.member.username}"
    return f"member:?{pd.lookup_hash(identifier.strip().lower())[:12]}"


def _locked(request) -> LoginLocked:
    cool_off = get_cool_off(request)
    return LoginLocked(
        minutes=max(1, round(cool_off.total_seconds() / 60)), until=timezone.now() + cool_off
    )


@cache
def _dummy_hash() -> str:
    # Hashed once: a login for an unknown account spends the same time on a hash as a known one,
    # so the answer's timing does not tell whether the account exists.
    return make_password("not a member")


def _address_paused() -> LoginLocked:
    # The address limit counts in fixed windows: the pause lasts until this one ends.
    left = FAILURES_PER_ADDRESS.seconds - time.time() % FAILURES_PER_ADDRESS.seconds
    return LoginLocked(
        minutes=max(1, math.ceil(left / 60)), until=timezone.now() + timedelta(seconds=left)
    )


def authenticate(request, identifier: str, password: str) -> MemberAccount | None:
    """The account when the password is right; None otherwise (the same for an unknown account).
    Raises LoginLocked after repeated failures, counted by django-axes like the staff login."""
    address = throttle.client_address(request)
    if throttle.exceeded(FAILURES_PER_ADDRESS, address):
        raise _address_paused()
    account = find_account(identifier)
    credentials = {"username": _lock_key(account, identifier)}
    if not AxesProxyHandler.is_allowed(request, credentials):
        # A try while locked counts, as for staff: the wait starts again.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        request.axes_locked_out = False  # this view answers, not the staff lock-out page
        raise _locked(request)
    if account is not None:
        ok = account.check_password(password or "")
    else:
        check_password(password or "", _dummy_hash())
        ok = False
    if ok:
        AxesProxyHandler.reset_attempts(ip_address=request.axes_ip_address, **credentials)
        # Told only to whoever knows the password: nothing leaks about other accounts.
        if not account.is_active:
            raise LoginRefused(_("This member account is closed: please contact your matchmaker."))
        if account.temporary_until and account.temporary_until < timezone.now():
            raise LoginRefused(
                _("This one-time password has expired: please ask your matchmaker for a new one.")
            )
        return account
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    throttle.hit(FAILURES_PER_ADDRESS, address)
    if getattr(request, "axes_locked_out", False):
        request.axes_locked_out = False
        raise _locked(request)
    return None


def _session_hash(account: MemberAccount) -> str:
    # Changes with the password: a new password ends the member's other sessions.
    return salted_hmac("hongniang.portal.session", account.password).hexdigest()


def login(request, account: MemberAccount) -> None:
    """Open the member centre for `account` in this browser. A staff login in the same browser
    ends first: one browser holds one identity (impersonation aside)."""
    from django.contrib.auth import logout as staff_logout

    if request.user.is_authenticated:
        staff_logout(request)  # flushes the session; ends any impersonation (signals)
    else:
        end_impersonation(request, ImpersonationEnd.SESSION_REPLACED)
        request.session.cycle_key()
    request.session[ACCOUNT_KEY] = account.pk
    request.session[HASH_KEY] = _session_hash(account)
    MemberAccount.objects.filter(pk=account.pk).update(last_login=timezone.now())


def logout(request) -> None:
    request.session.flush()


def forget_member(request) -> None:
    for key in (ACCOUNT_KEY, HASH_KEY, IMPERSONATION_KEY):
        request.session.pop(key, None)


def current(request) -> MemberSession | None:
    """The member this browser is logged in as (or browses as), checked afresh: a changed password
    ends a member's session; an impersonation needs the same staff user still logged in, still
    with the right to, and the member still visible to them."""
    account_pk = request.session.get(ACCOUNT_KEY)
    if account_pk is None:
        return None
    account = MemberAccount.objects.select_related("member").filter(pk=account_pk).first()
    impersonation_pk = request.session.get(IMPERSONATION_KEY)
    if account is None:
        forget_member(request)
        return None
    if impersonation_pk is None:
        stale = not constant_time_compare(request.session.get(HASH_KEY, ""), _session_hash(account))
        if stale or not account.is_active:  # a new password or a closed account ends it
            forget_member(request)
            return None
        return MemberSession(account)
    impersonation = Impersonation.objects.filter(
        pk=impersonation_pk, ended_at__isnull=True, member_id=account.member_id
    ).first()
    user = request.user
    if (
        impersonation is None
        or not user.is_authenticated
        or impersonation.staff_id != user.pk
        or not may_impersonate(user)
        or not Member.objects.visible_to(user).filter(pk=account.member_id).exists()
    ):
        end_impersonation(request, ImpersonationEnd.RIGHT_LOST)
        return None
    return MemberSession(account, impersonation)


def change_password(*, session: MemberSession, request, current_password: str, new: str) -> None:
    """The member's own new password. Never while staff browse as the member."""
    if session.impersonating:
        raise PermissionDenied
    account = session.account
    if not account.check_password(current_password or ""):
        raise ValidationError({"current_password": _("The current password is wrong.")})
    if account.check_password(new):
        raise ValidationError(
            {"new_password1": _("Choose a password different from the current one.")}
        )
    try:
        validate_password(new)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    account.set_password(new)
    account.must_change_password = False
    account.temporary_until = None
    account.save(update_fields=["password", "must_change_password", "temporary_until"])
    request.session.cycle_key()
    request.session[HASH_KEY] = _session_hash(account)


# --- logging in as a member (2.5.1) ------------------------------------------------------------


def may_impersonate(user) -> bool:
    """After-sales edit (the whitepaper lists 登录会员 among the after-sales actions, next to
    editing the profile and the service status) and members edit (what the member can do in the
    member centre, a staff user could do there in their name)."""
    return all(can(user, module, action) for module, action in IMPERSONATION_GRANTS)


def _event(member_id: int, kind: str, actor, impersonation: Impersonation, summary: str) -> None:
    MemberEvent.objects.create(
        member_id=member_id,
        kind=kind,
        actor=actor,
        summary=summary,
        data={"impersonation": impersonation.pk},
    )


def start_impersonation(*, request, actor, member: Member, security_password: str) -> Impersonation:
    """Browse the member centre as `member`: the right, the member visible to the actor, an
    account to log into, and the security password. Written to the member's timeline and, as an
    Impersonation row with its history, to the audit trail."""
    if not may_impersonate(actor):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    account = MemberAccount.objects.filter(member=member).first()
    if account is None:
        raise ValidationError(
            _(
                "%(name)s has no member account yet: open one from the member's page "
                "(Member account)."
            )
            % {"name": member.name}
        )
    # Before the transaction: a wrong password must stay counted, not be rolled back.
    verify_security_password(actor, security_password)
    end_impersonation(request, ImpersonationEnd.SESSION_REPLACED)
    with transaction.atomic():
        impersonation = Impersonation(staff=actor, member=member, ip_address=_address(request))
        impersonation._history_user = actor  # the audit trail names the staff user
        impersonation.save()
        _event(
            member.pk,
            EventKind.IMPERSONATION_START,
            actor,
            impersonation,
            _("%(staff)s browsed the member centre as this member") % {"staff": actor.name},
        )
    request.session[ACCOUNT_KEY] = account.pk
    request.session[IMPERSONATION_KEY] = impersonation.pk
    request.session.pop(HASH_KEY, None)
    return impersonation


def _address(request) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


def end_impersonation(request, reason: str) -> Impersonation | None:
    """End this browser's impersonation (if any): stamped, on the timeline, keys dropped."""
    impersonation_pk = request.session.get(IMPERSONATION_KEY)
    if impersonation_pk is None:
        return None
    forget_member(request)
    return _end(impersonation_pk, reason)


def _end(impersonation_pk: int, reason: str, when=None) -> Impersonation | None:
    with transaction.atomic():
        impersonation = (
            Impersonation.objects.select_for_update()
            .select_related("staff")
            .filter(pk=impersonation_pk, ended_at__isnull=True)
            .first()
        )
        if impersonation is None:
            return None
        impersonation.ended_at = when or timezone.now()
        impersonation.end_reason = reason
        impersonation._history_user = impersonation.staff
        impersonation.save(update_fields=["ended_at", "end_reason"])
        _event(
            impersonation.member_id,
            EventKind.IMPERSONATION_END,
            impersonation.staff,
            impersonation,
            str(ImpersonationEnd(reason).label),
        )
    return impersonation


def close_expired_impersonations(now=None) -> int:
    """Impersonations whose staff session can no longer be alive (older than the session's
    lifetime: the browser was closed without logging out) are ended, stamped with that time, so
    that every row in the audit trail has an end."""
    now = now or timezone.now()
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    stale = Impersonation.objects.filter(ended_at__isnull=True, started_at__lt=now - lifetime)
    closed = 0
    for pk, started_at in stale.values_list("pk", "started_at"):
        if _end(pk, ImpersonationEnd.EXPIRED, when=started_at + lifetime) is not None:
            closed += 1
    return closed
