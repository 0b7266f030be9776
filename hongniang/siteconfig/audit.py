"""The audit trail page: change history of the tracked models, newest first, with field diffs.

Each tracked model keeps its own history table (django-simple-history); this module merges them
into one list. Later modules register their models in AUDITED.
"""

from dataclasses import dataclass
from datetime import datetime
from heapq import merge

from django.apps import apps
from django.utils.translation import gettext_lazy as _

AUDITED: dict[str, str] = {
    "staff": "staff.Staff",
    "role": "staff.Role",
    "store": "staff.Store",
    "lockout": "staff.LockoutRelease",
    "settings": "siteconfig.SiteSettings",
    "site_image": "siteconfig.SiteImage",
    "member": "members.Member",
    "preference": "members.MatePreference",
    "recommendation": "matching.Recommendation",
    "appointment": "matching.Appointment",
}
CHANGE_LABELS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


@dataclass
class AuditEntry:
    kind: str
    record: object

    @property
    def when(self) -> datetime:
        return self.record.history_date

    @property
    def model_label(self) -> str:
        return self.record.instance_type._meta.verbose_name

    @property
    def change_label(self):
        return CHANGE_LABELS.get(self.record.history_type, "")

    def changes(self) -> list[tuple[str, str, str]]:
        """(field label, old, new) for an update; computed only for the rows on screen."""
        prev = self.record.prev_record if self.record.history_type == "~" else None
        if prev is None:
            return []
        delta = self.record.diff_against(prev)
        model = self.record.instance_type
        rows = []
        for change in delta.changes:
            field = model._meta.get_field(change.field)
            rows.append((str(field.verbose_name), _display(change.old), _display(change.new)))
        return rows


def _display(value) -> str:
    if value in (None, ""):
        return "—"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def audit_entries(*, kind: str = "", actor_id: int | None = None, limit: int = 2000):
    """Newest-first merged history; `limit` caps each table so the page stays fast."""
    streams = []
    for key, label in AUDITED.items():
        if kind and key != kind:
            continue
        history = apps.get_model(label).history.select_related("history_user")
        if actor_id:
            history = history.filter(history_user_id=actor_id)
        rows = history.order_by("-history_date")[:limit]
        streams.append([AuditEntry(key, r) for r in rows])
    return list(merge(*streams, key=lambda e: e.when, reverse=True))
