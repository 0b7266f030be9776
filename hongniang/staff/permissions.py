"""Module actions (whitepaper 2.2.1): one place answers "may this user do X in module Y?".

A role stores its grants as "module.action" strings. Views use `require_perm`, templates and
services call `can`. Record visibility is a separate question, answered by `visible_to`.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Module(models.TextChoices):
    MEMBERS = "members", _("Members")
    PRESALES = "presales", _("Pre-sales")
    AFTERSALES = "aftersales", _("After-sales")
    MATCHING = "matching", _("Matching")
    FINANCE = "finance", _("Finance")
    STAFF = "staff", _("Staff")
    SETTINGS = "settings", _("Settings")
    REPORTS = "reports", _("Reports")


class Action(models.TextChoices):
    VIEW = "view", _("View")
    ADD = "add", _("Add")
    EDIT = "edit", _("Edit")
    DELETE = "delete", _("Delete")
    APPROVE = "approve", _("Approve")
    ALLOCATE = "allocate", _("Allocate")
    EXPORT = "export", _("Export")
    REVEAL = "reveal", _("Reveal personal data")


BASIC_ACTIONS = (Action.VIEW, Action.ADD, Action.EDIT, Action.DELETE, Action.APPROVE)
# Extra actions only make sense in some modules.
MODULE_ACTIONS: dict[str, tuple[str, ...]] = {
    Module.MEMBERS: (*BASIC_ACTIONS, Action.ALLOCATE, Action.EXPORT, Action.REVEAL),
    Module.PRESALES: BASIC_ACTIONS,
    Module.AFTERSALES: BASIC_ACTIONS,
    Module.MATCHING: BASIC_ACTIONS,
    Module.FINANCE: (*BASIC_ACTIONS, Action.EXPORT),
    Module.STAFF: BASIC_ACTIONS,
    Module.SETTINGS: (Action.VIEW, Action.EDIT),
    Module.REPORTS: (Action.VIEW, Action.EXPORT),
}
ALL_GRANTS: tuple[str, ...] = tuple(
    f"{module}.{action}" for module, actions in MODULE_ACTIONS.items() for action in actions
)


def can(user, module: str, action: str) -> bool:
    """True when the user's role grants `action` in `module`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    role = user.role
    return role is not None and f"{module}.{action}" in role.grant_set


def require_perm(module: str, action: str = Action.VIEW):
    """View decorator: login required, then 403 without the module action."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not can(request.user, module, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_perm = (module, action)
        return wrapped

    return decorator
