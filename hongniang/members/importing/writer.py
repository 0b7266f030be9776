"""Writing checked import rows: everything is prepared first (model rows, ciphertexts, keyed
hashes, changed fields), then written in one short transaction with bulk inserts and updates.

No savepoint per row and no model validation per row: the pipeline has checked every value with
the fields' own rules. Inside the transaction the only checks left are those another writer
could have made stale since the preview — a mobile, ID number or username registered meanwhile
— answered with a few queries per 2,000 rows; such rows are turned away, not the import.

The engine hears of the new and changed members once, for the whole batch
(``signals.members_bulk_changed``): bulk writes send no ``post_save``.
"""

import copy
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members import services
from hongniang.members.birthdays import birthday_keys
from hongniang.members.importing.pipeline import (
    Mode,
    RowOutcome,
    Status,
    _chunks,
    registered,
)
from hongniang.members.models import (
    Allocation,
    AllocationKind,
    EventKind,
    MatePreference,
    Member,
    MemberEvent,
)
from hongniang.members.signals import members_bulk_changed
from hongniang.workbench.bulk import insert_rows

INSERT_BATCH = 500  # rows per statement of the ORM's bulk updates


def _remembered(prep):
    """A field's conversion to the database's form, remembered per value: an import repeats the
    same timestamp on every row, the same few thousand birthdays and the same lists of choices
    (JSON)."""
    memo = {}

    def convert(value):
        key = tuple(value) if type(value) is list else value
        try:
            return memo[key]
        except KeyError:
            found = memo[key] = prep(value, connection)
            return found
        except TypeError:  # a dict, or a list holding lists or dicts: not hashable
            return prep(value, connection)

    return convert


def _json_prep(field):
    """A JSON field's conversion without the generic field machinery (expressions, lookups):
    what ``JSONField.get_db_prep_save`` returns for a plain value. SQLite's is the JSON text,
    ``json.dumps(value, cls=encoder)``: one encoder serves every row."""
    adapt, encoder = connection.ops.adapt_json_value, field.encoder
    if connection.vendor == "sqlite":
        encode = (encoder or json.JSONEncoder)().encode

        def prep(value, _connection):
            return None if value is None else encode(value)

    else:

        def prep(value, _connection):
            return None if value is None else adapt(value, encoder)

    return prep


class _Table:
    """Rows of one table written with ``workbench.bulk.insert_rows`` (COPY on PostgreSQL): the
    ORM compiles each value of a bulk insert in Python (about 10 µs a value, minutes for 100,000
    members); here a row is a list of values already in the database's form, built from the
    defaults and the given fields."""

    # Field types whose Python value needs the backend's conversion (dates, JSON, …); the
    # others (text, numbers, booleans, foreign keys) go to the driver as they are.
    _CONVERTED = {"DateField", "DateTimeField", "JSONField", "DecimalField", "UUIDField"}

    def __init__(self, model, *, with_id: bool):
        self.model = model
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if with_id or not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        self.index = {}
        self.converters = []
        for i, f in enumerate(self.fields):
            self.index[f.attname] = i
            if f.name != f.attname:
                self.index.setdefault(f.name, i)
            kind = f.get_internal_type()
            self.converters.append(
                None
                if kind not in self._CONVERTED
                else _remembered(_json_prep(f) if kind == "JSONField" else f.get_db_prep_save)
            )
        self._defaults = None
        self._plans = {}

    def _prepared(self, field, value):
        converter = self.converters[self.index[field.attname]]
        return converter(value) if converter else value

    def defaults(self) -> list:
        if self._defaults is None:  # needs the connection, so not at import time
            self._defaults = [self._prepared(f, f.get_default()) for f in self.fields]
        return self._defaults

    def row(self, values: dict) -> list:
        row = list(self.defaults())
        index, converters = self.index, self.converters
        for name, value in values.items():
            i = index.get(name)
            if i is not None:
                converter = converters[i]
                row[i] = converter(value) if converter else value
        return row

    def row_from(self, source: "_Table", source_row: list, values: dict) -> list:
        """A row of this table copied from a row of ``source`` (a historical copy), field by
        field, plus ``values``."""
        plan = self._plans.get(source.model)
        if plan is None:
            plan = self._plans[source.model] = [source.index.get(f.attname) for f in self.fields]
        row = [
            default if i is None else source_row[i]
            for i, default in zip(plan, self.defaults(), strict=True)
        ]
        index, converters = self.index, self.converters
        for name, value in values.items():
            i = index[name]
            row[i] = converters[i](value) if converters[i] else value
        return row

    def insert(self, rows: list[list]) -> None:
        if rows:
            insert_rows(self.model._meta.db_table, [f.column for f in self.fields], rows)


_MEMBERS = _Table(Member, with_id=True)
# Historical rows keep the member's id in a plain column; their own key is the database's.
_MEMBER_HISTORY = _Table(Member.history.model, with_id=False)
_PREFERENCES = _Table(MatePreference, with_id=True)
_PREFERENCE_HISTORY = _Table(MatePreference.history.model, with_id=False)
_ALLOCATIONS = _Table(Allocation, with_id=False)
_EVENTS = _Table(MemberEvent, with_id=False)


def _reserve_ids(model, count: int) -> range | list[int]:
    """Primary keys for ``count`` new rows of ``model``, taken inside the write transaction.

    SQLite: the transaction holds the database's write lock, so the ids after the largest ever
    handed out (AUTOINCREMENT's ``sqlite_sequence``; a deleted member's id is never reused: its
    history keeps it) are free. PostgreSQL: the table's sequence hands them out.
    """
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)  # the model's own table name
        cursor.execute(
            f"SELECT MAX(n) FROM (SELECT MAX(id) AS n FROM {quoted} "  # noqa: S608
            "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
            [table],
        )
        last = cursor.fetchone()[0] or 0
    return range(last + 1, last + 1 + count)


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0  # existing members changed by their row
    unchanged: int = 0  # existing members whose row changed nothing
    skipped: int = 0  # rows of existing members, skipped by the clerk's choice
    turned_away: list[RowOutcome] = field(default_factory=list)  # registered meanwhile
    member_ids: list[int] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)  # the new members only


@dataclass
class _Update:
    outcome: RowOutcome
    member: Member
    fields: list[str]
    preference: MatePreference | None
    pref_fields: list[str]


@dataclass
class Prepared:
    new: list[tuple[RowOutcome, dict]]  # a new member's field values (attnames)
    updates: list[_Update]
    unchanged: int
    skipped: int
    now: object


def prepare(outcomes: list[RowOutcome], actor, *, mode: str) -> Prepared:
    """The rows to insert and the updates to make, computed outside any transaction: field
    values, ciphertexts (in one batch per column), masks."""
    now = timezone.now()
    new = [o for o in outcomes if o.status == Status.NEW]
    mobiles = pd.encrypt_many([o.mobile for o in new])
    ids = pd.encrypt_many([o.id_number for o in new])
    rows = []
    for o, mobile_encrypted, id_encrypted in zip(new, mobiles, ids, strict=True):
        values = {
            **o.values,
            "mobile_encrypted": mobile_encrypted,
            "mobile_hash": o.mobile_hash,
            "mobile_masked": pd.mask_mobile(o.mobile) if o.mobile else "",
            "id_number_encrypted": id_encrypted,
            "id_number_hash": o.id_hash,
            "id_number_masked": pd.mask_id_number(o.id_number) if o.id_number else "",
            "source": c.Source.IMPORT,
            "created_by_id": actor.pk,
            "store_id": actor.store_id,
            "registered_at": now,
            "presales_owner_id": actor.pk,
            "allocated_at": now,
            "updated_at": now,
        }
        for name, choices in Member.MULTI_SELECTS.items():
            if name in values:
                values[name] = c.in_choice_order(values[name], choices)
        # What Member.save() derives, as the rows are inserted without it.
        values["birthday_md"], values["lunar_birthday_md"] = birthday_keys(
            values.get("birthday"), values.get("lunar_birthday", False)
        )
        rows.append((o, values))
    existing = [o for o in outcomes if o.status == Status.EXISTING]
    if mode != Mode.UPDATE:
        return Prepared(rows, [], 0, len(existing), now)
    updates, unchanged = _prepare_updates(existing, now)
    return Prepared(rows, updates, unchanged, 0, now)


def _prepare_updates(existing: list[RowOutcome], now) -> tuple[list[_Update], int]:
    stored, prefs = {}, {}
    for batch in _chunks(sorted({o.target for o in existing})):
        stored.update(Member.objects.in_bulk(batch))
        prefs.update({p.member_id: p for p in MatePreference.objects.filter(member_id__in=batch)})
    updates, unchanged = [], 0
    for o in existing:
        before = stored.get(o.target)
        if before is None:  # deleted since the check
            o.error("", _("The registered member this row matches no longer exists."))
            continue
        member = copy.copy(before)
        for key, value in o.values.items():
            if key != "username":  # an import never renames a member
                setattr(member, key, value)
        if o.mobile and o.mobile_hash != before.mobile_hash:
            member.mobile_encrypted = pd.encrypt(o.mobile)
            member.mobile_hash, member.mobile_masked = o.mobile_hash, pd.mask_mobile(o.mobile)
        if o.id_number and not before.id_number_hash:
            member.id_number_encrypted = pd.encrypt(o.id_number)
            member.id_number_hash = o.id_hash
            member.id_number_masked = pd.mask_id_number(o.id_number)
        elif o.id_number and o.id_hash != before.id_number_hash:
            o.warn("id_number", _("Differs from the stored ID number, which is kept."))
        member.set_birthday_keys()
        fields = services.changed_fields(before, member)
        pref_before = prefs.get(o.target)
        preference, pref_fields = None, []
        if o.pref:
            preference = copy.copy(pref_before) if pref_before else MatePreference()
            preference.member_id = o.target
            for key, value in o.pref.items():
                setattr(preference, key, value)
            pref_fields = services.changed_fields(pref_before, preference)
            if not pref_fields:
                preference = None
        if not fields and not pref_fields:
            unchanged += 1
            continue
        member.updated_at = now
        updates.append(_Update(o, member, fields, preference, pref_fields))
    return updates, unchanged


def write(
    prepared: Prepared,
    actor,
    *,
    file_name: str = "",
    job_id: str = "",
    commit: Callable[[], AbstractContextManager] = transaction.atomic,
    on_written: Callable[[WriteResult], None] | None = None,
) -> WriteResult:
    """Write everything in one transaction (``commit``: a job's ``run.commit``, which marks the
    job succeeded in the same transaction; ``on_written`` runs last inside it). If anything
    fails, nothing is saved."""
    result = WriteResult(skipped=prepared.skipped, unchanged=prepared.unchanged)
    now = prepared.now
    reason = _("Imported from %(file)s") % {"file": file_name[:100]}
    with _large_page_cache(), commit():
        new = _turn_away_registered_meanwhile(prepared.new, result)
        member_ids = _reserve_ids(Member, len(new))
        pref_ids = _reserve_ids(MatePreference, len(new))
        members, histories, prefs, pref_histories, allocations, events = [], [], [], [], [], []
        history = {
            "history_date": now,
            "history_type": "+",
            "history_user_id": actor.pk,
            "history_change_reason": reason,
        }
        remark = _("Entered by this matchmaker")
        for (o, values), member_id, pref_id in zip(new, member_ids, pref_ids, strict=True):
            values["id"] = member_id
            member = _MEMBERS.row(values)
            members.append(member)
            histories.append(_MEMBER_HISTORY.row_from(_MEMBERS, member, history))
            pref = {**o.pref, "id": pref_id, "member_id": member_id, "updated_at": now}
            for name, choices in MatePreference.MULTI_SELECTS.items():
                if name in pref:
                    pref[name] = c.in_choice_order(pref[name], choices)
            preference = _PREFERENCES.row(pref)
            prefs.append(preference)
            pref_histories.append(_PREFERENCE_HISTORY.row_from(_PREFERENCES, preference, history))
            allocations.append(
                _ALLOCATIONS.row(
                    {
                        "member_id": member_id,
                        "kind": AllocationKind.PRESALES,
                        "to_staff_id": actor.pk,
                        "by_id": actor.pk,
                        "remark": remark,
                        "created_at": now,
                    }
                )
            )
            events.append(
                _EVENTS.row(
                    {
                        "member_id": member_id,
                        "actor_id": actor.pk,
                        "kind": EventKind.IMPORTED,
                        "summary": (_("Imported from Excel, row %(row)s") % {"row": o.row})[:300],
                        "data": {"row": o.row, "file": file_name[:200], "job": job_id},
                        "created_at": now,
                    }
                )
            )
        for table, rows in (
            (_MEMBERS, members),
            (_MEMBER_HISTORY, histories),
            (_PREFERENCES, prefs),
            (_PREFERENCE_HISTORY, pref_histories),
            (_ALLOCATIONS, allocations),
            (_EVENTS, events),
        ):
            table.insert(rows)
        result.created = len(members)
        _write_updates(prepared.updates, actor, reason, job_id)
        result.updated = len(prepared.updates)
        result.created_ids = list(member_ids)
        result.member_ids = result.created_ids + [u.member.pk for u in prepared.updates]
        members_bulk_changed.send(sender=Member, member_ids=result.member_ids)
        if on_written is not None:
            on_written(result)
    return result


WRITE_CACHE_KIB = 512 * 1024


@contextmanager
def _large_page_cache():
    """SQLite: a page cache large enough for the transaction's changed pages. 100,000 members
    change pages all over the hash and username indexes; with the connection's usual cache those
    pages are spilled to the WAL and read back again and again during the transaction. The cache
    grows only as pages are used, and is set back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _turn_away_registered_meanwhile(new, result: WriteResult):
    """Leave out the rows whose mobile, ID number or username another writer has registered
    since the check (the unique constraints would otherwise fail the whole import)."""
    taken_mobiles = registered("mobile_hash", {v["mobile_hash"] for _o, v in new})
    taken_ids = registered("id_number_hash", {v["id_number_hash"] for _o, v in new})
    taken_names = registered("username", {v.get("username") for _o, v in new})
    if not (taken_mobiles or taken_ids or taken_names):
        return new
    kept = []
    for o, v in new:
        if v["mobile_hash"] in taken_mobiles:
            o.error("mobile", _("This mobile number is already registered."))
        if v["id_number_hash"] in taken_ids:
            o.error("id_number", _("This ID number is already registered."))
        if v.get("username") in taken_names:
            o.error("username", _("This username is already taken."))
        if o.errors:
            result.turned_away.append(o)
        else:
            kept.append((o, v))
    return kept


def _write_updates(updates: list[_Update], actor, reason: str, job_id: str) -> None:
    if not updates:
        return
    changed = [u for u in updates if u.fields]
    if changed:
        names = {name for u in changed for name in u.fields} | {"updated_at"}
        if names & {"birthday", "lunar_birthday"}:
            names |= {"birthday_md", "lunar_birthday_md"}  # derived, set in _prepare_updates
        names = sorted(names)
        members = [u.member for u in changed]
        Member.objects.bulk_update(members, names, batch_size=INSERT_BATCH)
        Member.history.bulk_history_create(
            members,
            batch_size=INSERT_BATCH,
            update=True,
            default_user=actor,
            default_change_reason=reason,
        )
    prefs = [u for u in updates if u.preference is not None]
    to_create = [u.preference for u in prefs if u.preference.pk is None]
    to_update = [u.preference for u in prefs if u.preference.pk is not None]
    MatePreference.objects.bulk_create(to_create, batch_size=INSERT_BATCH)
    if to_update:
        names = sorted({name for u in prefs if u.preference.pk for name in u.pref_fields})
        MatePreference.objects.bulk_update(to_update, names, batch_size=INSERT_BATCH)
    MatePreference.history.bulk_history_create(
        to_create + to_update, batch_size=INSERT_BATCH, default_user=actor
    )
    MemberEvent.objects.bulk_create(
        [
            MemberEvent(
                member_id=u.member.pk,
                actor=actor,
                kind=EventKind.UPDATED,
                summary=(_("Updated from an import, row %(row)s") % {"row": u.outcome.row})[:300],
                data={
                    "fields": u.fields + [f"preference.{n}" for n in u.pref_fields],
                    "row": u.outcome.row,
                    "job": job_id,
                },
            )
            for u in updates
        ],
        batch_size=INSERT_BATCH,
    )
