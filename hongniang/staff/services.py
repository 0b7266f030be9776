"""Writes on staff, roles and stores. Each checks the actor's permission and visibility itself,
so a view cannot forget to; each runs in one transaction.

Rights are never widened by their holder. A user's rights are their role's grants plus its data
scope (a superuser holds everything). Nobody but a superuser:
- edits or deletes the role they hold, or a role with a grant or scope they lack, nor saves a
  role whose new grants or scope exceed their own. So the administrator role (every grant, scope
  "all") is edited only by a superuser or by the holder of another role with every right;
- edits, locks or deletes the account of someone whose role exceeds their own rights, or gives
  anyone a role that does;
- with a data scope narrower than "all": creates or deletes stores, edits a store other than
  their own, or hands out store-wide reach in a store other than their own (whoever can set a
  person's password can act as them).
"""

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, ProtectedError, Q
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hongniang.staff.models import LockoutKind, LockoutRelease, Role, Staff, StaffStatus, Store
from hongniang.staff.permissions import ALL_GRANTS, Action, Module, can
from hongniang.staff.visibility import DataScope, user_scope, visible_staff_q

SCOPE_ORDER = [DataScope.SELF, DataScope.SUBTREE, DataScope.STORE, DataScope.ALL]


def _rights_of(user) -> tuple[frozenset[str], int]:
    if user.is_superuser:
        return frozenset(ALL_GRANTS), SCOPE_ORDER.index(DataScope.ALL)
    grants = frozenset(user.role.grants) if user.role else frozenset()
    return grants, SCOPE_ORDER.index(user_scope(user))


def _within_rights(actor, grants, scope: str) -> bool:
    """True when grants and scope add nothing to what the actor holds."""
    own, limit = _rights_of(actor)
    return frozenset(grants) <= own and SCOPE_ORDER.index(scope) <= limit


def _role_rights(role: Role | None) -> tuple[list[str], str]:
    return (role.grants, role.data_scope) if role else ([], DataScope.SELF)


def assignable_roles(actor):
    """Roles the actor may hand out: never more permissions or a wider scope than their own."""
    roles = Role.objects.all()
    if actor.is_superuser:
        return roles
    allowed = [r.pk for r in roles if _within_rights(actor, r.grants, r.data_scope)]
    return roles.filter(pk__in=allowed)


def may_manage_role(actor, role: Role) -> bool:
    """May the actor edit or delete this role as it is stored (the role list asks too)?"""
    if not can(actor, Module.STAFF, Action.EDIT):
        return False
    if actor.is_superuser:
        return True
    if role.pk is not None and role.pk == actor.role_id:
        return False
    if (
        role.pk is not None
        and user_scope(actor) != DataScope.ALL
        and role.users.exclude(visible_staff_q(actor) & Q(store_id=actor.store_id)).exists()
    ):
        # A role's rights reach every holder: a role also held outside the actor's own people in
        # their own store is not theirs to change (a store-wide scope given to a holder in another
        # store would reach a store the actor cannot see; a peer's team is the peer's).
        return False
    return _within_rights(actor, role.grants, role.data_scope)


def may_manage_staff(actor, target: Staff) -> bool:
    """May the actor edit, lock or delete this account as it is stored? Visibility is checked
    separately; this refuses accounts whose role reaches beyond the actor's own rights."""
    if actor.is_superuser:
        return True
    if target.is_superuser:
        return False
    if target.pk == actor.pk:
        return True
    return _within_rights(actor, *_role_rights(target.role))


def may_edit_store(actor, store: Store) -> bool:
    if not can(actor, Module.STAFF, Action.EDIT):
        return False
    if user_scope(actor) == DataScope.ALL:
        return True
    return store.pk is not None and store.pk == actor.store_id


def may_create_or_delete_stores(actor, action: str) -> bool:
    return can(actor, Module.STAFF, action) and user_scope(actor) == DataScope.ALL


def _require(actor, action: str, module: str = Module.STAFF):
    if not can(actor, module, action):
        raise PermissionDenied


def _check_placement(actor, staff: Staff):
    """A manager may only place people inside their own team, with no more rights or reach
    than their own."""
    if staff.supervisor_id is None:
        if user_scope(actor) != DataScope.ALL:
            raise ValidationError({"supervisor": _("Choose a supervisor from your team.")})
    elif not Staff.objects.visible_to(actor).filter(pk=staff.supervisor_id).exists():
        raise ValidationError({"supervisor": _("You can only choose a supervisor from your team.")})
    if staff.is_superuser and not actor.is_superuser:
        raise PermissionDenied
    if staff.role_id and not assignable_roles(actor).filter(pk=staff.role_id).exists():
        raise ValidationError({"role": _("You cannot give a role with more rights than your own.")})
    _check_store_reach(actor, staff)


def _check_store_reach(actor, staff: Staff):
    if user_scope(actor) == DataScope.ALL or staff.store_id == actor.store_id:
        return
    role = Role.objects.filter(pk=staff.role_id).first() if staff.role_id else None
    if role is not None and role.data_scope == DataScope.STORE:
        raise ValidationError(
            {"store": _("A store-wide role can only be given in your own store.")}
        )


@transaction.atomic
def staff_create(*, actor, staff: Staff, password: str, security_password: str = "") -> Staff:
    _require(actor, Action.ADD)
    _check_placement(actor, staff)
    staff.set_password(password)
    staff.set_security_password(security_password)
    staff.full_clean(exclude=["password"])
    staff.save()
    return staff


@transaction.atomic
def staff_update(*, actor, staff: Staff, password: str = "", security_password: str = "") -> Staff:
    _require(actor, Action.EDIT)
    original = Staff.objects.visible_to(actor).select_related("role").filter(pk=staff.pk).first()
    if original is None or not may_manage_staff(actor, original):
        raise PermissionDenied
    if staff.pk == actor.pk and not actor.is_superuser:
        # Nobody moves themselves in the tree, changes their own role, or (below scope "all")
        # their own store, which would change what a store-wide role sees.
        fixed = ["supervisor_id", "role_id"]
        if user_scope(actor) != DataScope.ALL:
            fixed.append("store_id")
        if any(getattr(staff, f) != getattr(original, f) for f in fixed):
            raise ValidationError(_("You cannot change your own supervisor, role or store."))
    elif staff.pk != actor.pk:
        _check_placement(actor, staff)
    if password:
        staff.set_password(password)
    if security_password:
        staff.set_security_password(security_password)
    staff.full_clean(exclude=["password"])
    staff.save()
    return staff


def _lock_message(until, now) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return ngettext(
        "Too many wrong security passwords: locked until %(time)s (%(minutes)d minute).",
        "Too many wrong security passwords: locked until %(time)s (%(minutes)d minutes).",
        minutes,
    ) % {"time": time_format(timezone.localtime(until), "H:i"), "minutes": minutes}


def verify_security_password(user, raw: str) -> None:
    """Raise ValidationError unless `raw` is the user's security password.

    Attempts are limited like login: AXES_FAILURE_LIMIT wrong ones in a row lock the security
    password for AXES_COOLOFF_TIME, during which even the right one is refused; a success resets
    the count. Call it before opening the transaction of the guarded action: a failure raises,
    and a rollback would forget it.
    """
    if not user.has_security_password:
        raise ValidationError(_("Set your security password on the My account page first."))
    now = timezone.now()
    rows = Staff.objects.filter(pk=user.pk)
    failures, locked_until = rows.values_list("security_failures", "security_locked_until").get()
    if locked_until and locked_until > now:
        raise ValidationError(_lock_message(locked_until, now))
    if user.security_password_matches(raw or ""):
        if failures or locked_until:
            rows.update(security_failures=0, security_locked_until=None)
        return
    # F() keeps concurrent wrong attempts from overwriting each other's count.
    rows.update(security_failures=F("security_failures") + 1)
    failures = rows.values_list("security_failures", flat=True).get()
    left = settings.AXES_FAILURE_LIMIT - failures
    if left <= 0:
        until = now + settings.AXES_COOLOFF_TIME
        rows.update(security_failures=0, security_locked_until=until)
        raise ValidationError(_lock_message(until, now))
    raise ValidationError(
        ngettext(
            "The security password is wrong; %(left)d try left.",
            "The security password is wrong; %(left)d tries left.",
            left,
        )
        % {"left": left}
    )


def lockout_clear(*, actor, kind: str, pk: int | None) -> LockoutRelease:
    """Lift a login lock-out (django-axes) or a security-password lock; the lift is recorded
    with who did it, so the audit trail shows it."""
    if not may_see_lockouts(actor):
        raise PermissionDenied
    gone = ValidationError(_("This lock-out has already ended."))
    with transaction.atomic():
        if kind == LockoutKind.LOGIN:
            attempt = AccessAttempt.objects.filter(pk=pk).first() if pk else None
            if attempt is None:
                raise gone
            AxesProxyHandler.reset_attempts(
                ip_address=attempt.ip_address, username=attempt.username
            )
            release = LockoutRelease(
                kind=kind,
                username=attempt.username or "",
                ip_address=attempt.ip_address,
                failures=attempt.failures_since_start,
            )
        elif kind == LockoutKind.SECURITY:
            locked = (
                Staff.objects.filter(pk=pk, security_locked_until__isnull=False) if pk else None
            )
            person = locked.first() if locked is not None else None
            if person is None:
                raise gone
            locked.update(security_failures=0, security_locked_until=None)
            release = LockoutRelease(kind=kind, username=person.username)
        else:
            raise ValidationError(_("Unknown kind of lock."))
        release.released_by = actor
        release._history_user = actor  # the audit trail names the actor even outside a request
        release.save()
    return release


def may_see_lockouts(actor) -> bool:
    """Login lock-outs concern every account: administrators only (staff.edit, scope "all")."""
    return can(actor, Module.STAFF, Action.EDIT) and user_scope(actor) == DataScope.ALL


def _check_target(actor, target: Staff):
    if target.pk == actor.pk:
        raise ValidationError(_("You cannot do this to your own account."))
    stored = Staff.objects.visible_to(actor).select_related("role").filter(pk=target.pk).first()
    if stored is None or not may_manage_staff(actor, stored):
        raise PermissionDenied


def staff_set_status(*, actor, staff: Staff, status: str, security_password: str) -> Staff:
    _require(actor, Action.EDIT)
    verify_security_password(actor, security_password)
    with transaction.atomic():
        _check_target(actor, staff)
        staff.status = status
        staff.save(update_fields=["status", "updated_at"])
        if status == StaffStatus.LOCKED:
            from axes.utils import reset

            reset(username=staff.username)
    return staff


def staff_delete(*, actor, staff: Staff, security_password: str) -> None:
    _require(actor, Action.DELETE)
    verify_security_password(actor, security_password)
    with transaction.atomic():
        _check_target(actor, staff)
        if staff.subordinates.exists():
            raise ValidationError(_("This person still supervises others; move their team first."))
        try:
            staff.delete()
        except ProtectedError as exc:
            raise ValidationError(
                _("This account still owns records; reallocate them or lock the account instead.")
            ) from exc


def _check_role_rights(actor, role: Role):
    """Refuse to touch a role as stored, or to store one, beyond the actor's rights."""
    if role.pk is not None:
        stored = Role.objects.filter(pk=role.pk).first()
        if stored is None or not may_manage_role(actor, stored):
            raise PermissionDenied
    if not actor.is_superuser and not _within_rights(actor, role.grants, role.data_scope):
        raise ValidationError(
            _("A role cannot have a permission or data scope that you do not have yourself.")
        )


@transaction.atomic
def role_save(*, actor, role: Role) -> Role:
    _require(actor, Action.EDIT if role.pk else Action.ADD)
    _check_role_rights(actor, role)
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def role_delete(*, actor, role: Role) -> None:
    _require(actor, Action.DELETE)
    _check_role_rights(actor, role)
    if role.users.exists():
        raise ValidationError(
            _("%(count)s staff still hold this role; give them another role first.")
            % {"count": role.users.count()}
        )
    role.delete()


@transaction.atomic
def store_save(*, actor, store: Store) -> Store:
    if store.pk is None:
        allowed = may_create_or_delete_stores(actor, Action.ADD)
    else:
        stored = Store.objects.filter(pk=store.pk).first()
        allowed = stored is not None and may_edit_store(actor, stored)
    if not allowed:
        raise PermissionDenied
    store.full_clean()
    store.save()
    return store


@transaction.atomic
def store_delete(*, actor, store: Store) -> None:
    if not may_create_or_delete_stores(actor, Action.DELETE):
        raise PermissionDenied
    if store.staff.exists():
        raise ValidationError(_("Staff still belong to this store; move them first."))
    try:
        store.delete()
    except ProtectedError as exc:
        raise ValidationError(_("Records still belong to this store.")) from exc
