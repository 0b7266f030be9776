"""A member's change history as people read it: who changed which field from what to what.

Built from the field history (django-simple-history) of the member and of their mate
preferences. Consecutive history rows are compared in Python, and every label is looked up in
one query per kind (staff, stores, regions), so the card costs the same few queries whether it
shows one change or twenty.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.members.models import MatePreference, Member
from hongniang.members.reference import ethnic_group_name
from hongniang.members.regions import region_labels
from hongniang.staff.models import Staff, Store

# Columns that change with every save or only mirror another one (the masks are shown).
HIDDEN = {"id", "member", "updated_at", "mobile_hash", "id_number_hash"}
REGION_FIELDS = {"region", "hukou_region"}
KIND_LABELS = {
    "+": gettext_lazy("created"),
    "~": gettext_lazy("changed"),
    "-": gettext_lazy("deleted"),
}
MAX_TEXT = 80


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    kind: str  # "+", "~", "-"
    part: str  # "" for the profile, "preference" for the mate preferences
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, ""))


def member_history(member: Member, *, limit: int = 20) -> list[HistoryEntry]:
    """The newest ``limit`` changes of the member and their preferences, newest first; saves
    that changed nothing are left out."""
    raw = _diffs(member.history.all(), Member, "", limit) + _diffs(
        MatePreference.history.filter(member_id=member.pk), MatePreference, "preference", limit
    )
    raw.sort(key=lambda item: item[0].history_date, reverse=True)
    raw = raw[:limit]
    labels = _Labels([pairs for _row, _part, pairs in raw])
    entries = []
    for row, part, pairs in raw:
        user = row.history_user
        entries.append(
            HistoryEntry(
                when=row.history_date,
                who=user.name if user else _("system"),
                kind=row.history_type,
                part=part,
                changes=[
                    FieldChange(
                        capfirst(str(f.verbose_name)), labels.show(f, old), labels.show(f, new)
                    )
                    for f, old, new in pairs
                ],
            )
        )
    return entries


def _diffs(history, model, part: str, limit: int) -> list:
    """[(history row, part, [(model field, old, new)])]; one query, one row more than shown so
    that the oldest shown change has something to be compared with."""
    rows = list(
        history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    recorded = {f.attname for f in history.model._meta.concrete_fields}
    fields = [
        f for f in model._meta.concrete_fields if f.name not in HIDDEN and f.attname in recorded
    ]
    found = []
    for i, row in enumerate(rows[:limit]):
        older = rows[i + 1] if i + 1 < len(rows) else None
        if row.history_type != "~":
            found.append((row, part, []))
            continue
        if older is None:
            continue  # its predecessor is not recorded (e.g. bulk-loaded rows)
        pairs = [
            (f, getattr(older, f.attname), getattr(row, f.attname))
            for f in fields
            if getattr(older, f.attname) != getattr(row, f.attname)
        ]
        if pairs:
            found.append((row, part, pairs))
    return found


class _Labels:
    """Readable values for the changed fields, with one query per kind of reference."""

    def __init__(self, changes: list[list]):
        regions, staff, stores = set(), set(), set()
        for pairs in changes:
            for f, old, new in pairs:
                target = {"Staff": staff, "Store": stores}.get(
                    getattr(f.related_model, "__name__", "")
                )
                if target is not None:
                    target.update(v for v in (old, new) if v)
                elif f.name in REGION_FIELDS:
                    regions.update(v for v in (old, new) if v)
        self.regions = region_labels(regions) if regions else {}
        self.staff = dict(Staff.objects.filter(pk__in=staff).values_list("pk", "name"))
        self.stores = dict(Store.objects.filter(pk__in=stores).values_list("pk", "name"))

    def show(self, f: models.Field, value) -> str:
        if value in (None, "", []):
            return "—"
        related = getattr(f.related_model, "__name__", "")
        if related == "Staff":
            return self.staff.get(value, str(value))
        if related == "Store":
            return self.stores.get(value, str(value))
        if f.name in REGION_FIELDS:
            return self.regions.get(value, value)
        if f.name == "ethnicity":
            return ethnic_group_name(value) or value
        multi = getattr(f.model, "MULTI_SELECTS", {}).get(f.name)
        if multi is not None:
            labels = dict(multi.choices)
            return "、".join(str(labels.get(v, v)) for v in value)
        if f.flatchoices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, datetime):
            return date_format(timezone.localtime(value), "Y-m-d H:i")
        if isinstance(value, date):
            return value.isoformat()
        text = str(value)
        return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
