from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from hongniang.staff.models import Role, Staff, Store


def staff_list(*, viewer, filters: dict | None = None):
    filters = filters or {}
    qs = Staff.objects.visible_to(viewer).select_related("role", "store", "supervisor")
    if q := filters.get("q"):
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(username__icontains=q)
            | Q(mobile__icontains=q)
            | Q(email__icontains=q)
        )
    if role := filters.get("role"):
        qs = qs.filter(role=role)
    if store := filters.get("store"):
        qs = qs.filter(store=store)
    if status := filters.get("status"):
        qs = qs.filter(status=status)
    if supervisor := filters.get("supervisor"):
        qs = qs.filter(path__startswith=supervisor.path)
    return qs


def staff_get(*, viewer, pk: int) -> Staff:
    """A staff row the viewer may see, or 404 (the same answer as for a missing one)."""
    return get_object_or_404(
        Staff.objects.visible_to(viewer).select_related("role", "store"), pk=pk
    )


def supervisor_choices(*, viewer, staff: Staff | None = None):
    """People the viewer may put someone under: their team, never the person or those below."""
    qs = Staff.objects.visible_to(viewer)
    if staff is not None and staff.pk:
        qs = qs.exclude(path__startswith=staff.path)
    return qs.order_by("path")


def role_list(q: str = ""):
    qs = Role.objects.annotate(user_count=Count("users"))
    return qs.filter(Q(name__icontains=q) | Q(description__icontains=q)) if q else qs


def store_list(q: str = ""):
    qs = Store.objects.annotate(staff_count=Count("staff"))
    return qs.filter(Q(name__icontains=q) | Q(address__icontains=q)) if q else qs


@dataclass(frozen=True)
class LoginLockout:
    pk: int
    username: str
    ip_address: str | None
    failures: int
    since: datetime  # the last failure
    until: datetime


def login_lockouts() -> list[LoginLockout]:
    """Current django-axes lock-outs. Axes stamps each failure's time on the attempt row and
    counts the cool-off from the last one (a try while locked counts too)."""
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - cool_off,
    ).order_by("-attempt_time")
    return [
        LoginLockout(
            pk=a.pk,
            username=a.username or "",
            ip_address=a.ip_address,
            failures=a.failures_since_start,
            since=a.attempt_time,
            until=a.attempt_time + cool_off,
        )
        for a in attempts
    ]


def security_lockouts():
    """Staff whose security password is locked after wrong tries."""
    return Staff.objects.filter(security_locked_until__gt=timezone.now()).order_by(
        "security_locked_until"
    )
