"""Writes on staff, roles and stores. Each checks the actor's permission and visibility itself,
so a view cannot forget to; each runs in one transaction."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from hongniang.staff.models import Role, Staff, StaffStatus, Store
from hongniang.staff.permissions import Action, Module, can
from hongniang.staff.visibility import DataScope, user_scope

SCOPE_ORDER = [DataScope.SELF, DataScope.SUBTREE, DataScope.STORE, DataScope.ALL]


def assignable_roles(actor):
    """Roles the actor may hand out: never more permissions or a wider scope than their own."""
    roles = Role.objects.all()
    if actor.is_superuser:
        return roles
    own = actor.role.grant_set if actor.role else frozenset()
    limit = SCOPE_ORDER.index(user_scope(actor))
    allowed = [
        r.pk for r in roles if r.grant_set <= own and SCOPE_ORDER.index(r.data_scope) <= limit
    ]
    return roles.filter(pk__in=allowed)


def _require(actor, action: str, module: str = Module.STAFF):
    if not can(actor, module, action):
        raise PermissionDenied


def _check_placement(actor, staff: Staff):
    """A manager may only place people inside their own team."""
    if staff.supervisor_id is None:
        if user_scope(actor) != DataScope.ALL:
            raise ValidationError({"supervisor": _("Choose a supervisor from your team.")})
    elif not Staff.objects.visible_to(actor).filter(pk=staff.supervisor_id).exists():
        raise ValidationError({"supervisor": _("You can only choose a supervisor from your team.")})
    if staff.role_id and not assignable_roles(actor).filter(pk=staff.role_id).exists():
        raise ValidationError({"role": _("You cannot give a role with more rights than your own.")})


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
    if not Staff.objects.visible_to(actor).filter(pk=staff.pk).exists():
        raise PermissionDenied
    if staff.pk == actor.pk:
        # Nobody moves themselves in the tree or changes their own role.
        original = Staff.objects.get(pk=staff.pk)
        if (staff.supervisor_id, staff.role_id) != (original.supervisor_id, original.role_id):
            raise ValidationError(_("You cannot change your own supervisor or role."))
    else:
        _check_placement(actor, staff)
    if password:
        staff.set_password(password)
    if security_password:
        staff.set_security_password(security_password)
    staff.full_clean(exclude=["password"])
    staff.save()
    return staff


def _check_sensitive(actor, target: Staff, security_password: str):
    if not actor.has_security_password:
        raise ValidationError(_("Set your security password on the My account page first."))
    if not actor.check_security_password(security_password or ""):
        raise ValidationError(_("The security password is wrong."))
    if target.pk == actor.pk:
        raise ValidationError(_("You cannot do this to your own account."))
    if not Staff.objects.visible_to(actor).filter(pk=target.pk).exists():
        raise PermissionDenied


@transaction.atomic
def staff_set_status(*, actor, staff: Staff, status: str, security_password: str) -> Staff:
    _require(actor, Action.EDIT)
    _check_sensitive(actor, staff, security_password)
    staff.status = status
    staff.save(update_fields=["status", "updated_at"])
    if status == StaffStatus.LOCKED:
        from axes.utils import reset

        reset(username=staff.username)
    return staff


@transaction.atomic
def staff_delete(*, actor, staff: Staff, security_password: str) -> None:
    _require(actor, Action.DELETE)
    _check_sensitive(actor, staff, security_password)
    if staff.subordinates.exists():
        raise ValidationError(_("This person still supervises others; move their team first."))
    try:
        staff.delete()
    except ProtectedError as exc:
        raise ValidationError(
            _("This account still owns records; reallocate them or lock the account instead.")
        ) from exc


@transaction.atomic
def role_save(*, actor, role: Role) -> Role:
    _require(actor, Action.EDIT if role.pk else Action.ADD)
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def role_delete(*, actor, role: Role) -> None:
    _require(actor, Action.DELETE)
    if role.users.exists():
        raise ValidationError(
            _("%(count)s staff still hold this role; give them another role first.")
            % {"count": role.users.count()}
        )
    role.delete()


@transaction.atomic
def store_save(*, actor, store: Store) -> Store:
    _require(actor, Action.EDIT if store.pk else Action.ADD)
    store.full_clean()
    store.save()
    return store


@transaction.atomic
def store_delete(*, actor, store: Store) -> None:
    _require(actor, Action.DELETE)
    if store.staff.exists():
        raise ValidationError(_("Staff still belong to this store; move them first."))
    try:
        store.delete()
    except ProtectedError as exc:
        raise ValidationError(_("Records still belong to this store.")) from exc
