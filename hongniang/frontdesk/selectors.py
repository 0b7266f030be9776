"""Reads of the front desk, scoped to the viewer."""

import contextlib

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from hongniang.members import personal_data as pd
from hongniang.staff.models import Staff
from hongniang.staff.permissions import can
from hongniang.staff.visibility import DataScope, user_scope

from .models import Consultation


def consultations_visible(viewer) -> QuerySet:
    """Consultations assigned to the viewer's team, plus the unassigned ones of their store for
    those who may allocate (like the member pools); everything for the scope "all"."""
    if not can(viewer, "presales", "view"):
        return Consultation.objects.none()
    if user_scope(viewer) == DataScope.ALL:
        return Consultation.objects.all()
    qs = Consultation.objects.visible_to(viewer)
    if can(viewer, "members", "allocate"):
        pool = Consultation.objects.filter(assigned_to__isnull=True, store_id=viewer.store_id)
        qs = Consultation.objects.filter(Q(pk__in=qs.values("pk")) | Q(pk__in=pool.values("pk")))
    return qs


def consultation_list(*, viewer, q: str = "", status: str = "", assigned_to=None) -> QuerySet:
    qs = consultations_visible(viewer).select_related("assigned_to", "member")
    if status:
        qs = qs.filter(status=status)
    if assigned_to is not None:
        qs = qs.filter(assigned_to=assigned_to)
    q = q.strip()
    if q:
        text = Q(name__icontains=q) | Q(message__icontains=q) | Q(result__icontains=q)
        # A mobile is looked up by its keyed hash, never by its text; anything else is text.
        with contextlib.suppress(ValidationError):
            text |= Q(mobile_hash=pd.lookup_hash(pd.normalize_mobile(q)))
        qs = qs.filter(text)
    return qs


def referral_counts(*, viewer) -> QuerySet:
    """The viewer's visible staff with how many registrations their link brought."""
    return (
        Staff.objects.visible_to(viewer)
        .annotate(registrations=Count("referred_registrations"))
        .select_related("store")
        .order_by("-registrations", "path")
    )
