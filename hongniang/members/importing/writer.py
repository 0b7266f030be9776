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
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members import services
from hongniang.members.importing.pipeline import (
    Mode,
    RowOutcome,
    Status,
    _chunks,
    _existing,
)
from hongniang.members.models import (
    Allocation,
    AllocationKind,
    EventKind,
    MatePreference,
    Member,
    MemberEvent,
    order_multi_selects,
)
from hongniang.members.signals import members_bulk_changed

INSERT_BATCH = 500


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0  # existing members changed by their row
    unchanged: int = 0  # existing members whose row changed nothing
    skipped: int = 0  # rows of existing members, skipped by the clerk's choice
    turned_away: list[RowOutcome] = field(default_factory=list)  # registered meanwhile
    member_ids: list[int] = field(default_factory=list)


@dataclass
class _Update:
    outcome: RowOutcome
    member: Member
    fields: list[str]
    preference: MatePreference | None
    pref_fields: list[str]


@dataclass
class Prepared:
    new: list[tuple[RowOutcome, Member]]
    updates: list[_Update]
    unchanged: int
    skipped: int


def prepare(outcomes: list[RowOutcome], actor, *, mode: str) -> Prepared:
    """The rows to insert and the updates to make, computed outside any transaction."""
    now = timezone.now()
    new = [o for o in outcomes if o.status == Status.NEW]
    mobiles = pd.encrypt_many([o.mobile for o in new])
    ids = pd.encrypt_many([o.id_number for o in new])
    members = []
    for o, mobile_encrypted, id_encrypted in zip(new, mobiles, ids, strict=True):
        member = Member(
            **o.values,
            mobile_encrypted=mobile_encrypted,
            mobile_hash=o.mobile_hash,
            mobile_masked=pd.mask_mobile(o.mobile) if o.mobile else "",
            id_number_encrypted=id_encrypted,
            id_number_hash=o.id_hash,
            id_number_masked=pd.mask_id_number(o.id_number) if o.id_number else "",
            source=c.Source.IMPORT,
            created_by=actor,
            store_id=actor.store_id,
            registered_at=now,
            presales_owner=actor,
            allocated_at=now,
        )
        order_multi_selects(member)
        members.append((o, member))
    existing = [o for o in outcomes if o.status == Status.EXISTING]
    if mode != Mode.UPDATE:
        return Prepared(members, [], 0, len(existing))
    updates, unchanged = _prepare_updates(existing, now)
    return Prepared(members, updates, unchanged, 0)


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
    with commit():
        new = _turn_away_registered_meanwhile(prepared.new, result)
        members = [m for _o, m in new]
        Member.objects.bulk_create(members, batch_size=INSERT_BATCH)
        reason = _("Imported from %(file)s") % {"file": file_name[:100]}
        Member.history.bulk_history_create(
            members, batch_size=INSERT_BATCH, default_user=actor, default_change_reason=reason
        )
        prefs = [MatePreference(member_id=m.pk, **o.pref) for o, m in new]
        for p in prefs:
            order_multi_selects(p)
        MatePreference.objects.bulk_create(prefs, batch_size=INSERT_BATCH)
        MatePreference.history.bulk_history_create(
            prefs, batch_size=INSERT_BATCH, default_user=actor, default_change_reason=reason
        )
        Allocation.objects.bulk_create(
            [
                Allocation(
                    member_id=m.pk,
                    kind=AllocationKind.PRESALES,
                    to_staff=actor,
                    by=actor,
                    remark=_("Entered by this matchmaker"),
                )
                for m in members
            ],
            batch_size=INSERT_BATCH,
        )
        MemberEvent.objects.bulk_create(
            [
                MemberEvent(
                    member_id=m.pk,
                    actor=actor,
                    kind=EventKind.IMPORTED,
                    summary=(_("Imported from Excel, row %(row)s") % {"row": o.row})[:300],
                    data={"row": o.row, "file": file_name[:200], "job": job_id},
                )
                for o, m in new
            ],
            batch_size=INSERT_BATCH,
        )
        result.created = len(members)
        _write_updates(prepared.updates, actor, reason, job_id)
        result.updated = len(prepared.updates)
        result.member_ids = [m.pk for m in members] + [u.member.pk for u in prepared.updates]
        members_bulk_changed.send(sender=Member, member_ids=result.member_ids)
        if on_written is not None:
            on_written(result)
    return result


def _turn_away_registered_meanwhile(new, result: WriteResult):
    """Leave out the rows whose mobile, ID number or username another writer has registered
    since the check (the unique constraints would otherwise fail the whole import)."""
    taken_mobiles = _existing(Member.objects, "mobile_hash", {m.mobile_hash for _o, m in new})
    taken_ids = _existing(Member.objects, "id_number_hash", {m.id_number_hash for _o, m in new})
    taken_names = _existing(Member.objects, "username", {m.username for _o, m in new})
    if not (taken_mobiles or taken_ids or taken_names):
        return new
    kept = []
    for o, m in new:
        if m.mobile_hash in taken_mobiles:
            o.error("mobile", _("This mobile number is already registered."))
        if m.id_number_hash in taken_ids:
            o.error("id_number", _("This ID number is already registered."))
        if m.username in taken_names:
            o.error("username", _("This username is already taken."))
        if o.errors:
            result.turned_away.append(o)
        else:
            kept.append((o, m))
    return kept


def _write_updates(updates: list[_Update], actor, reason: str, job_id: str) -> None:
    if not updates:
        return
    changed = [u for u in updates if u.fields]
    if changed:
        names = sorted({name for u in changed for name in u.fields} | {"updated_at"})
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
