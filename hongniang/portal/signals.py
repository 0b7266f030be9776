"""A staff login or logout ends any member-centre session in that browser: staff and member
sessions never cross, and an impersonation ends with the staff session (audited)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import services
from .models import ImpersonationEnd


@receiver(user_logged_out, dispatch_uid="portal.end_on_staff_logout")
def _staff_logged_out(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        services.end_impersonation(request, ImpersonationEnd.STAFF_LOGOUT)


@receiver(user_logged_in, dispatch_uid="portal.drop_member_on_staff_login")
def _staff_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        services.end_impersonation(request, ImpersonationEnd.SESSION_REPLACED)
        services.forget_member(request)
