"""Reads for the system-settings pages."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from hongniang.members.models import RevealLog

EXPORT_FIELD = "export"  # how a full export is logged (members.excel.export_workbook)


class AccessKind(models.TextChoices):
    REVEAL = "reveal", _("Reveal")
    EXPORT = "export", _("Full export")


# What each logged field means to a reader of the access log.
ACCESS_LABELS = {
    "mobile": _("Revealed mobile"),
    "id_number": _("Revealed ID number"),
    EXPORT_FIELD: _("Full export"),
}


def personal_data_access(
    *, staff=None, member_id=None, kind: str = "", date_from=None, date_to=None
):
    """Who saw whose full personal data and when, newest first (for administrators)."""
    logs = RevealLog.objects.select_related("staff", "member").order_by("-created_at", "-pk")
    if staff is not None:
        logs = logs.filter(staff=staff)
    if member_id:
        logs = logs.filter(member_id=member_id)
    if kind == AccessKind.EXPORT:
        logs = logs.filter(field=EXPORT_FIELD)
    elif kind == AccessKind.REVEAL:
        logs = logs.exclude(field=EXPORT_FIELD)
    # Days are the agency's days (Asia/Shanghai): __date converts to the current time zone.
    if date_from:
        logs = logs.filter(created_at__date__gte=date_from)
    if date_to:
        logs = logs.filter(created_at__date__lte=date_to)
    return logs
