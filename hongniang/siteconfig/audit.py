"""The audit trail page: change history of the tracked models, newest first, with field diffs.

Each tracked model keeps its own history table (django-simple-history); this module merges them
into one list. Later modules register their models in AUDITED.

The number of queries does not grow with the page size or the data: one query per history table
fetches the page's rows together with the earlier rows of the same records (to diff against), and
the values shown on the page (people, stores, roles, members behind foreign keys) are looked up
in one query per related model.

Pages follow a cursor (the version at a page's edge), not a page number: each table is read from
the cursor through its index on (history_date, history_id), so the work of a page does not grow
with the history or the depth. (Numbered pages read the newest 2,000 versions of every table for
each page, to count and slice them: ~8,000 rows at 100,000 members.)
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property
from heapq import merge

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import ExpressionWrapper, F, Func, Subquery, Value
from django.db.models.sql.constants import MULTI
from django.utils import formats, timezone
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
    "impersonation": "portal.Impersonation",
    "member_account": "frontdesk.MemberAccount",
}
RANKS = {key: rank for rank, key in enumerate(AUDITED)}
# Versions read per table beyond the page's size: saves that changed nothing tracked are read
# and dropped, and a table with more than this many in a row ends a page early.
LIMIT_SLACK = 20
CHANGE_LABELS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
# Fields never shown in the trail (bookkeeping, not a person's decision).
HIDDEN_FIELDS = {"updated_at", "created_at"}
MAX_TEXT = 80


def _list_choices() -> dict[tuple[str, str], dict]:
    """Labels for list values kept in JSON fields (their model field has no choices)."""
    from hongniang.matching.models import DeclineReason
    from hongniang.members import choices as c
    from hongniang.staff.permissions import Action, Module

    grants = {f"{m.value}.{a.value}": f"{m.label}·{a.label}" for m in Module for a in Action}
    return {
        ("staff.role", "grants"): grants,
        ("members.member", "hobbies"): dict(c.Hobby.choices),
        ("members.member", "personality"): dict(c.Personality.choices),
        ("members.matepreference", "children"): dict(c.ChildrenStatus.choices),
        ("members.matepreference", "marital"): dict(c.MaritalStatus.choices),
        ("matching.recommendation", "decline_reasons"): dict(DeclineReason.choices),
    }


class AuditEntry:
    """One version of a record in the trail, with the version before it (if any).

    Built from the history table's rows as the database returns them: the trail reads a few
    thousand rows to merge and page them, and converting each value to Python (timestamps parsed,
    JSON decoded) cost most of the page's time. Rows are compared and ordered as they come; the
    values (`values`, `when`) and instances (`record`, `previous`) are made only for the rows on
    screen."""

    def __init__(self, kind: str, history_model, raw: tuple, previous: tuple | None, convert):
        self.kind = kind
        self.history_model = history_model
        self.raw = raw
        self.raw_previous = previous
        self._convert = convert
        # (field label, old, new) as shown; filled for the rows on screen by `describe`.
        self.rows: list[tuple[str, str, str]] = []
        # Names of the tracked fields that differ from the previous version of the record.
        self.changed_fields: list[str] = []
        self.label = ""

    @cached_property
    def values(self) -> tuple:
        return self._convert(self.raw)

    @cached_property
    def previous_values(self) -> tuple | None:
        return None if self.raw_previous is None else self._convert(self.raw_previous)

    def _get(self, attname):
        return self.values[_columns(self.history_model)[1][attname]]

    @property
    def when(self) -> datetime:
        return self._get("history_date")

    @property
    def history_id(self) -> int:
        return self._get("history_id")

    @cached_property
    def record(self):
        return _instance(self.history_model, self.values)

    @cached_property
    def previous(self):
        if self.previous_values is None:
            return None
        return _instance(self.history_model, self.previous_values)

    @property
    def model_label(self) -> str:
        return self.history_model.instance_type._meta.verbose_name

    @property
    def change_label(self):
        return CHANGE_LABELS.get(self._get("history_type"), "")

    def changes(self) -> list[tuple[str, str, str]]:
        return self.rows


@cache
def _columns(history_model) -> tuple[list[str], dict[str, int]]:
    """The history table's columns (attnames) and each one's position in a row tuple."""
    names = [f.attname for f in history_model._meta.concrete_fields]
    return names, {name: i for i, name in enumerate(names)}


def _instance(history_model, values: tuple):
    return history_model.from_db(DEFAULT_DB_ALIAS, _columns(history_model)[0], values)


def _tracked(history_model) -> list[models.Field]:
    model = history_model.instance_type
    names = {f.name for f in history_model.tracked_fields if f.editable}
    return [
        model._meta.get_field(n)
        for n in sorted(names)
        if n not in HIDDEN_FIELDS and not n.endswith("_encrypted")
    ]


def _raw_rows(qs) -> tuple[list[tuple], object]:
    """The query's rows as the database driver returns them, and a function that converts one
    row to Python values the way the ORM would (Django's compiler, used as `values_list` does)."""
    compiler = qs.query.get_compiler(DEFAULT_DB_ALIAS)
    rows = [row for chunk in compiler.execute_sql(MULTI) for row in chunk]
    fields = [s[0] for s in compiler.select[: compiler.col_count]]
    converters = compiler.get_converters(fields)

    def convert(row: tuple) -> tuple:
        if not converters:
            return tuple(row)
        return tuple(next(iter(compiler.apply_converters([list(row)], converters))))

    return rows, convert


class _RowCompare(Func):
    """`(a, b) < (x, y)`: a row comparison, which PostgreSQL and SQLite (≥ 3.15) both answer
    as one range of an index on (a, b) (the OR of its terms is read as two ranges)."""

    output_field = models.BooleanField()

    def __init__(self, columns, op, values):
        self.op = op
        super().__init__(*columns, *values)

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, part_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(part_params)
        half = len(parts) // 2
        left, right = ", ".join(parts[:half]), ", ".join(parts[half:])
        return f"({left}) {self.op} ({right})", params


@dataclass(frozen=True)
class Cursor:
    """A place in the merged trail: the version's time and history id, and the rank of its
    table in AUDITED (versions of two tables may share a time and an id)."""

    when: datetime
    history_id: int
    rank: int

    def key(self) -> tuple:
        return (self.when, self.history_id, self.rank)

    def token(self) -> str:
        stamp = self.when.astimezone(UTC)
        micros = (stamp - EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.history_id}.{self.rank}"

    @classmethod
    def parse(cls, token: str | None) -> "Cursor | None":
        """The cursor of a link, or None for anything else (a hand-edited address)."""
        try:
            micros, hid, rank = (int(part) for part in (token or "").split("."))
            when = EPOCH + timedelta(microseconds=micros)
        except (ValueError, OverflowError):
            return None
        if not 0 <= rank < len(AUDITED) or not 0 <= hid < 2**63:  # SQLite's integers
            return None
        return cls(when, hid, rank)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _side_q(cursor: Cursor, rank: int, older: bool) -> _RowCompare:
    """This table's versions strictly older (or newer) than the cursor in the merged order
    (time, history id, table rank)."""
    # A tie on (time, id) is broken by the rank: the later table comes first (newest first).
    strict = rank >= cursor.rank if older else rank <= cursor.rank
    op = ("<" if older else ">") + ("" if strict else "=")
    return _RowCompare(
        [F("history_date"), F("history_id")],
        op,
        [
            Value(cursor.when, output_field=models.DateTimeField()),
            Value(cursor.history_id, output_field=models.IntegerField()),
        ],
    )


def _entries_for(
    key: str, *, actor_id: int | None, limit: int, cursor: Cursor | None, older: bool
) -> tuple[list[tuple], tuple | None]:
    """Up to `limit` versions of one history table next to the cursor (newest first; oldest
    first on the newer side), each with its previous version, in one query.

    Returns the entries (merged key, kind, row, previous row, changed fields, converter) and,
    when `limit` versions were read, the table's edge: (merged key, Cursor) of the last one
    (the table may have more beyond it); None when the table has no more on that side."""
    rank = RANKS[key]
    history = apps.get_model(AUDITED[key]).history
    side = Value(True) if cursor is None else _side_q(cursor, rank, older)
    newest = history.all()
    if actor_id:
        newest = newest.filter(history_user_id=actor_id)
    if cursor is not None:
        newest = newest.filter(side)
    order = ("-history_date", "-history_id") if older else ("history_date", "history_id")
    newest = newest.order_by(*order)[:limit]
    # Every version of the records among these rows: their predecessors are in there. Each row
    # says whether it is on the cursor's side, as the database compared it.
    names, at = _columns(history.model)
    rows, convert = _raw_rows(
        history.filter(id__in=Subquery(newest.values("id")))
        .annotate(on_side=ExpressionWrapper(side, output_field=models.BooleanField()))
        .order_by("id", "history_date", "history_id")
        .values_list(*names, "on_side")
    )
    tracked = [at[f.attname] for f in _tracked(history.model)]
    tracked_names = [f.name for f in _tracked(history.model)]
    pk, kind, user = at["id"], at["history_type"], at["history_user_id"]
    when, hid, on_side = at["history_date"], at["history_id"], len(names)
    read, found, previous = [], [], {}
    for row in rows:
        prev = previous.get(row[pk])
        previous[row[pk]] = row
        if not row[on_side] or (actor_id and row[user] != actor_id):
            continue  # a predecessor only (or another person's change)
        # Raw values (a driver's datetime, SQLite's text) order like the converted ones.
        mark = (row[when], row[hid], rank)
        read.append((mark, row))
        changed = ()
        if row[kind] == "~" and prev is not None:
            # Stored values compare as their Python values do (the same column, written by
            # the same code).
            changed = [
                name for name, i in zip(tracked_names, tracked, strict=True) if row[i] != prev[i]
            ]
            if not changed:
                continue  # a save that changed nothing tracked (e.g. a login): says nothing
        found.append((mark, key, row, prev, changed, convert))
    # The query's own rows are the first `limit` on the cursor's side in its order; versions
    # beyond them came as predecessors of later versions.
    read.sort(key=_first, reverse=older)
    edge = None
    if len(read) >= limit:
        mark, row = read[limit - 1]
        values = convert(row)
        edge = (mark, Cursor(values[when], values[hid], rank))
        found = [f for f in found if (f[0] >= mark if older else f[0] <= mark)]
    found.sort(key=_first, reverse=older)
    return found, edge


def _first(found: tuple):
    return found[0]


@dataclass
class TrailPage:
    """One page of the trail, newest first, with the cursors of the pages either side."""

    object_list: list
    newer: str | None = None
    older: str | None = None


def _entry(found: tuple) -> AuditEntry:
    _key, kind, row, prev, changed, convert = found
    entry = AuditEntry(kind, apps.get_model(AUDITED[kind]).history.model, row, prev, convert)
    entry.changed_fields = list(changed)
    return entry


def _token(entry: AuditEntry) -> str:
    return Cursor(entry.when, entry.history_id, RANKS[entry.kind]).token()


def audit_page(
    *,
    kind: str = "",
    actor_id: int | None = None,
    size: int = 20,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> TrailPage:
    """A page of the merged history, newest first: the `size` versions just older than
    `before` (none: the newest), or with `after` the `size` just newer than it.

    Each table reads a few more than `size` versions next to the cursor through its index on
    (history_date, history_id), so a deep page costs what the first does, whatever the size
    of the history."""
    older = after is None
    cursor = before if older else after
    limit = size + LIMIT_SLACK
    read = {
        key: _entries_for(key, actor_id=actor_id, limit=limit, cursor=cursor, older=older)
        for key in AUDITED
        if not kind or key == kind
    }
    for extra in range(MAX_EXTRA_READS + 1):
        merged = list(merge(*(found for found, _edge in read.values()), key=_first, reverse=older))
        # A table whose versions read were all used may have more beyond the last one: the
        # page cannot go past the nearest such edge.
        edges = [(edge, key) for key, (_found, edge) in read.items() if edge is not None]
        if not edges:
            horizon = None
            break
        pick = max if older else min
        (horizon, key) = pick(edges, key=lambda edge_key: edge_key[0][0])
        merged = [f for f in merged if (f[0] >= horizon[0] if older else f[0] <= horizon[0])]
        if len(merged) >= size or extra == MAX_EXTRA_READS:
            break
        # Rarely (a run of saves that changed nothing): that table reads on from its edge.
        found, _edge = read[key]
        more, edge = _entries_for(
            key, actor_id=actor_id, limit=limit, cursor=horizon[1], older=older
        )
        read[key] = (found + more, edge)
    shown = [_entry(f) for f in merged[:size]]
    if len(merged) > size or (horizon is not None and len(merged) == size):
        beyond = _token(shown[-1])
    elif horizon is not None:
        beyond = horizon[1].token()
    else:
        beyond = None  # nothing more on that side
    if older:
        near = _token(shown[0]) if shown and cursor is not None else None
        return TrailPage(shown, newer=near, older=beyond)
    if beyond is None:  # back at the newest: the first page, full
        return audit_page(kind=kind, actor_id=actor_id, size=size)
    shown.reverse()
    return TrailPage(shown, newer=beyond, older=_token(shown[-1]) if shown else cursor.token())


# Further reads of one table when a page came out short (each one query).
MAX_EXTRA_READS = 3


def describe(entries: list[AuditEntry], viewer) -> None:
    """Fill in what the rows on screen show: labels, choice names, related records by name."""
    from hongniang.members.models import Member

    wanted: dict[type, set] = defaultdict(set)
    for entry in entries:
        model = entry.record.instance_type
        if model is Member:
            wanted[Member].add(entry.record.id)
        for name in _relations(model):
            fk = model._meta.get_field(name)
            for version in (entry.record, entry.previous):
                if version is not None and getattr(version, fk.attname) is not None:
                    wanted[fk.related_model].add(getattr(version, fk.attname))
    names = _names(wanted, viewer)
    _attach_users(entries)
    lists = _list_choices()
    for entry in entries:
        model = entry.record.instance_type
        entry.label = _record_label(entry.record, model, names)
        entry.rows = []
        for name in entry.changed_fields:
            f = model._meta.get_field(name)
            key = (model._meta.label_lower, name)
            entry.rows.append(
                (
                    str(f.verbose_name),
                    _display(f, entry.previous, names, lists.get(key)),
                    _display(f, entry.record, names, lists.get(key)),
                )
            )


def _attach_users(entries: list[AuditEntry]) -> None:
    """Who made each change, in one query for the rows on screen."""
    ids = {e.record.history_user_id for e in entries} - {None}
    if not ids:
        return
    users = entries[0].record._meta.get_field("history_user").related_model
    by_pk = users._base_manager.in_bulk(ids)
    for entry in entries:
        if entry.record.history_user_id is not None:
            entry.record.history_user = by_pk.get(entry.record.history_user_id)


def _relations(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if _is_fk(f)]


def _is_fk(f) -> bool:
    return f.is_relation and (f.many_to_one or f.one_to_one)


def _names(wanted: dict[type, set], viewer) -> dict[tuple[type, object], str]:
    from hongniang.members.models import Member
    from hongniang.members.presenter import present_many

    names = {}
    for model, pks in wanted.items():
        objects = list(model._base_manager.filter(pk__in=pks))
        if model is Member:
            # Members by the presenter, like everywhere else.
            shown = [(view.pk, view.label) for view in present_many(viewer, objects)]
        else:
            shown = [(o.pk, str(o)) for o in objects]
        names.update({(model, pk): label for pk, label in shown})
    return names


def _record_label(record, model, names) -> str:
    member_fk = next(
        (
            f
            for f in model._meta.concrete_fields
            if _is_fk(f) and f.related_model._meta.label_lower == "members.member"
        ),
        None,
    )
    if model._meta.label_lower == "members.member":
        from hongniang.members.models import Member

        return names.get((Member, record.id)) or f"#{record.id}"
    if member_fk is not None:
        # e.g. a member's preferences or a recommendation: name the member, not an id.
        who = names.get((member_fk.related_model, getattr(record, member_fk.attname)))
        return f"{who or '#' + str(getattr(record, member_fk.attname))} (#{record.id})"
    # Not `record.instance`: simple-history loads the excluded fields (passwords) from the
    # live row for that, one query per row. The tracked fields are all __str__ needs.
    values = {
        f.attname: getattr(record, f.attname)
        for f in model._meta.concrete_fields
        if hasattr(record, f.attname)
    }
    return _short(str(model(**values)))


def _display(f, version, names, list_labels) -> str:
    if version is None:
        return "—"
    value = getattr(version, f.attname)
    if value in (None, "", [], {}):
        return "—"
    if f.is_relation:
        return names.get((f.related_model, value), f"#{value}")
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.BooleanField):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, date):
        return formats.date_format(value, "Y-m-d")
    if isinstance(value, list):
        labels = list_labels or {}
        return _short("、".join(str(labels.get(v, v)) for v in value))
    if isinstance(f, models.FileField):
        return _short(str(value).rsplit("/", 1)[-1])
    return _short(str(value))


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "…"
