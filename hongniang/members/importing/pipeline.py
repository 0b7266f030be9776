"""Checking the rows of an import: every problem of a row at once, without a form per row.

A row goes through four checks, each reporting all it finds:

1. the normaliser turns its cells into values (choice codes, numbers, dates, region codes);
2. each value is checked by its field: the member form's field (choices, lengths, types) and the
   model field's validators (``members/validators.py``: plausible birthday and sizes, usernames,
   QQ) — the rules the member form applies, taken from the same fields;
3. personal data: mobile and ID number normalised and checked together with sex and birthday
   (``services.check_personal_data``, which the member form's service uses too);
4. duplicates, for the whole file at once: within the file, and against the database by keyed
   hash (a few queries per 2,000 rows, never one per row).

A required field that is missing or invalid rejects the row; an invalid optional cell is left
out of the row, with a warning naming the cell. Members under the legal minimum age are refused.
A row matching an existing member is "existing": with the clerk's choice it updates that member
(only one the importer may see and edit) or is skipped; a member of another team is never named.

Nothing here writes; ``writer`` does, in one short transaction.
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from django import forms
from django.core import validators as validators_
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from hongniang.members import choices as c
from hongniang.members import excel, services
from hongniang.members import personal_data as pd
from hongniang.members.importing import mapping as mapping_rules
from hongniang.members.importing.mapping import guess_mapping
from hongniang.members.importing.normalise import PSEUDO_TARGETS, RowNormaliser
from hongniang.members.importing.sources import open_source
from hongniang.members.models import Member
from hongniang.members.regions import Region
from hongniang.members.validators import RANGE_INVERTED, inverted_ranges, validate_birthday
from hongniang.members.widgets import RegionField
from hongniang.staff.permissions import can

PREF = excel.PREF
BATCH = 2000  # rows per database look-up (well under SQLite's limit of variables)
SAMPLES = 20  # rows of each kind shown in the preview


class Status:
    NEW = "new"  # a member to add
    EXISTING = "existing"  # matches a member the importer may update
    REJECTED = "rejected"


class Mode:
    """What to do with a row that matches an existing member (the clerk's choice)."""

    SKIP = "skip"
    UPDATE = "update"
    ALL = (SKIP, UPDATE)


@dataclass
class Issue:
    key: str  # the field ("mobile", "pref-age_min"), "" for the row as a whole
    message: str


@dataclass
class RowOutcome:
    row: int  # the row number in the file
    cells: list  # the row as read, aligned with the file's headers (for the download)
    values: dict = field(default_factory=dict)  # member field → checked value
    pref: dict = field(default_factory=dict)  # preference field (no prefix) → checked value
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    mobile: str = ""  # normalised
    id_number: str = ""
    mobile_hash: str = ""
    id_hash: str = ""
    username_given: bool = False
    target: int | None = None  # the existing member the row matches (visible and editable)

    @property
    def status(self) -> str:
        if self.errors:
            return Status.REJECTED
        return Status.EXISTING if self.target else Status.NEW

    def error(self, key: str, message) -> None:
        self.errors.append(Issue(key, str(message)))

    def warn(self, key: str, message) -> None:
        self.warnings.append(Issue(key, str(message)))


def _blank(value) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _shown(value) -> str:
    """A value as quoted in a message."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quoted(value, exc: ValidationError) -> str:
    return _("“%(value)s”: %(problem)s") % {
        "value": _shown(value)[:60],
        "problem": " ".join(exc.messages),
    }


_MISSING = object()


class FieldRules:
    """The rules of each importable field, taken once from the member and preference forms and
    models: required or not, the form field's cleaning and the model field's validators."""

    def __init__(self):
        forms_ = excel._Forms()
        self.required = set(forms_.required())
        self.fields = {key: forms_.field(key) for _h, key in excel.COLUMNS}
        self.model_fields = {
            key: model_field
            for key in self.fields
            if (model_field := excel._model_field(key)) is not None  # None: form-only fields
        }
        # Region fields are checked against the table loaded once (the form field asks the
        # database for each value).
        self.region_levels = dict(Region.objects.values_list("code", "level"))
        self._cache: dict = {}
        self.plain_text_limits = {
            key: limit for key in self.fields if (limit := self._plain_text_limit(key))
        }

    def _plain_text_limit(self, key: str) -> int | None:
        """The longest text accepted, for a plain text field: a form ``CharField`` (stripping)
        whose only rules, in form and model, are a maximum length and no NUL character. Its
        unique values (names, mobiles) are then accepted with a length check instead of the
        field's cleaning — which accepts the very same texts; anything else goes that way."""
        form_field = self.fields[key]
        model_field = self.model_fields.get(key)
        validators = list(form_field.validators) + list(getattr(model_field, "validators", []))
        if type(form_field) is not forms.CharField or not form_field.strip:
            return None
        simple = (validators_.MaxLengthValidator, validators_.ProhibitNullCharactersValidator)
        if any(type(v) not in simple for v in validators):
            return None
        limits = [v.limit_value for v in validators if type(v) is validators_.MaxLengthValidator]
        limits += [n for n in (form_field.max_length,) if n is not None]
        return min(limits) if limits else None

    def clean(self, key: str, value):
        """The checked value, or ValidationError. Remembered per (field, value)."""
        limit = self.plain_text_limits.get(key)
        if (
            limit is not None
            and type(value) is str
            and 0 < len(value) <= limit
            and "\x00" not in value
            and value == value.strip()
        ):
            return value  # what the field's cleaning returns for it
        cache = self._cache.get(key)
        if cache is None:
            cache = self._cache[key] = {}
        try:
            cached = cache.get(value, _MISSING)
        except TypeError:  # a list: not remembered
            return self._clean(key, value)
        if cached is _MISSING:
            try:
                cached = self._clean(key, value)
            except ValidationError as exc:
                cached = exc
            cache[value] = cached
        if isinstance(cached, ValidationError):
            raise cached
        return cached

    def _clean(self, key: str, value):
        form_field = self.fields[key]
        if isinstance(form_field, RegionField):
            level = self.region_levels.get(str(value))
            if level is None or level > form_field.max_level:
                raise ValidationError(form_field.error_messages["invalid_region"])
            return str(value)
        value = form_field.clean(value)
        model_field = self.model_fields.get(key)
        if model_field is not None and not _blank(value):
            model_field.run_validators(value)
        return value


class Checker:
    """Checks the rows of one file for ``actor``; ``check`` gives one RowOutcome per row."""

    def __init__(self, actor, *, normaliser=None, rules: FieldRules | None = None):
        if not can(actor, "members", "add"):
            raise PermissionDenied
        self.actor = actor
        self.may_update = can(actor, "members", "edit")
        self.rules = rules or FieldRules()
        self.normaliser = normaliser or RowNormaliser()
        self.id_type_default = c.IdType.RESIDENT_ID

    # --- one row ---

    def _problem(self, out: RowOutcome, key: str, message) -> None:
        """A required field's problem rejects the row; an optional one is a warning (the value
        is left out). A pseudo field's cell (a province column, a full address, an age range)
        counts as the field it gives."""
        target = PSEUDO_TARGETS.get(key, key)
        if target in self.rules.required or target not in self.rules.fields:
            out.error(key, message)
        else:
            out.warn(key, message)

    def check_row(self, number: int, cells: dict, original: list) -> RowOutcome:
        out = RowOutcome(row=number, cells=original)
        normalised = self.normaliser.normalise(cells)
        bad = set()
        for problem in normalised.problems:
            self._problem(out, problem.key, problem.message)
            bad.add(problem.key)
        values = {}
        for key, value in normalised.values.items():
            if key in bad or key not in self.rules.fields or _blank(value):
                continue
            try:
                values[key] = self.rules.clean(key, value)
            except ValidationError as exc:
                if "too_young" in _codes(exc):
                    out.error(key, _quoted(value, exc))  # the legal minimum age: never imported
                else:
                    self._problem(out, key, _quoted(value, exc))
                bad.add(key)
        for key in self.rules.required:
            if key not in values and key not in bad:
                out.error(key, _("This field is required."))
        self._preferences(out, values)
        self._personal_data(out, values)
        for key, value in values.items():
            if not key.startswith(PREF) and key not in ("mobile", "id_number"):
                out.values[key] = value
        return out

    def _preferences(self, out: RowOutcome, values: dict) -> None:
        pref = {k[len(PREF) :]: v for k, v in values.items() if k.startswith(PREF)}
        for name in inverted_ranges(pref):
            out.warn(f"{PREF}{name}", RANGE_INVERTED)
            pref.pop(name, None)
            pref.pop(name.replace("_max", "_min"), None)
        out.pref = pref

    def _personal_data(self, out: RowOutcome, values: dict) -> None:
        checked = services.check_personal_data(
            mobile=str(values.get("mobile") or ""),
            id_number=str(values.get("id_number") or ""),
            id_type=values.get("id_type") or self.id_type_default,
            sex=values.get("sex") or "",
            birthday=values.get("birthday"),
        )
        for key, messages in checked.errors.items():
            raw = values.get(key)
            for message in messages:
                self._problem(
                    out, key, _("“%(value)s”: %(problem)s") % {"value": raw, "problem": message}
                )
        out.mobile = checked.mobile
        if "id_number" in checked.errors:
            return
        if checked.id_number and checked.birthday and not values.get("birthday"):
            # The birthday comes from the ID number: it must be plausible, and of age.
            try:
                validate_birthday(checked.birthday)
            except ValidationError as exc:
                message = _("The ID number gives the birthday %(date)s: %(problem)s") % {
                    "date": checked.birthday.isoformat(),
                    "problem": " ".join(exc.messages),
                }
                if exc.code == "too_young":
                    out.error("id_number", message)
                else:
                    out.warn("id_number", message)
                return
            values["birthday"] = checked.birthday
        out.id_number = checked.id_number

    # --- the whole file ---

    def check(
        self,
        rows: Iterable[tuple[int, dict, list]],
        *,
        total: int | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        database: bool = True,
    ) -> list[RowOutcome]:
        """``rows``: ``(row number, {field key: raw cell}, original cells)``. Without
        ``database``, the look-up of registered members is left to ``match_database``."""
        outcomes = []
        for done, (number, cells, original) in enumerate(rows, start=1):
            outcomes.append(self.check_row(number, cells, original))
            if progress and done % 500 == 0:
                progress(done, total)
        self._hash(outcomes)
        _flag_duplicates_in_file(outcomes)
        if database:
            self.match_database(outcomes)
        if progress:
            progress(len(outcomes), total)
        return outcomes

    def _hash(self, outcomes: list[RowOutcome]) -> None:
        mobile_hashes = pd.lookup_hashes([o.mobile for o in outcomes])
        id_hashes = pd.lookup_hashes([o.id_number for o in outcomes])
        for o, mobile_hash, id_hash in zip(outcomes, mobile_hashes, id_hashes, strict=True):
            o.mobile_hash, o.id_hash = mobile_hash, id_hash
            if o.values.get("username"):
                o.username_given = True
            elif mobile_hash:
                # Stable from the mobile (the preview shows the one that will be saved) yet
                # without it, since usernames are shown unmasked.
                o.values["username"] = f"m{mobile_hash[:10]}"

    def match_database(self, outcomes: list[RowOutcome]) -> None:
        """Rows whose mobile, ID number or username is already registered."""
        by_mobile = registered("mobile_hash", {o.mobile_hash for o in outcomes})
        by_id = registered("id_number_hash", {o.id_hash for o in outcomes})
        by_username = registered("username", {o.values.get("username") for o in outcomes})
        matched = set(by_mobile.values()) | set(by_id.values())
        editable = set()
        if matched and self.may_update:
            editable = _existing_pks(Member.objects.visible_to(self.actor), matched)
        for o in outcomes:
            mobile_pk = by_mobile.get(o.mobile_hash)
            id_pk = by_id.get(o.id_hash)
            found = {pk for pk in (mobile_pk, id_pk) if pk}
            if not found:
                if o.username_given and by_username.get(o.values.get("username")):
                    o.error("username", _("This username is already taken."))
                continue
            if len(found) > 1:
                o.error(
                    "",
                    _("The mobile and the ID number belong to two different registered members."),
                )
                continue
            (pk,) = found
            if pk not in editable:
                # Another team's member (or no right to edit): said, never named.
                if mobile_pk:
                    o.error("mobile", _("This mobile number is already registered."))
                if id_pk:
                    o.error("id_number", _("This ID number is already registered."))
                continue
            o.target = pk
            username_pk = by_username.get(o.values.get("username"))
            if username_pk and username_pk != pk:
                o.values.pop("username")  # a username is never changed by an import


def _codes(exc: ValidationError) -> set:
    return {getattr(e, "code", None) for e in exc.error_list}


def _chunks(values, size=BATCH):
    it = iter(values)
    while batch := list(islice(it, size)):
        yield batch


def registered(column: str, values: set) -> dict:
    """``{value: member pk}`` for the values of the member column ``column`` (a keyed hash, a
    username) already stored: one query for all the values, whatever their number — an array
    (PostgreSQL) or a JSON list (SQLite) of values matched through the column's index. The ORM's
    ``__in`` would take a query per 2,000 values and compile each value in Python."""
    values = sorted(v for v in values if v)
    if not values:
        return {}
    qn = connection.ops.quote_name
    table = qn(Member._meta.db_table)
    col, pk = qn(Member._meta.get_field(column).column), qn(Member._meta.pk.column)
    # "NOT (col = '')": the condition of the hashes' unique partial indexes (their only index),
    # stated so that both databases use them; the values are never empty.
    select = f"SELECT {col}, {pk} FROM {table} WHERE NOT ({col} = '') AND {col} "  # noqa: S608
    if connection.vendor == "postgresql":
        sql, params = select + "= ANY(%s)", [values]
    elif connection.vendor == "sqlite":
        sql = select + "IN (SELECT value FROM json_each(%s))"  # noqa: S608
        params = [json.dumps(values)]
    else:  # other databases: the ORM, in batches
        found = {}
        for batch in _chunks(values):
            found.update(
                Member.objects.filter(**{f"{column}__in": batch}).values_list(column, "pk")
            )
        return found
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _existing_pks(qs, pks: set) -> set:
    found = set()
    for batch in _chunks(sorted(pks)):
        found.update(qs.filter(pk__in=batch).values_list("pk", flat=True))
    return found


def _flag_duplicates_in_file(outcomes: list[RowOutcome]) -> None:
    """A mobile, ID number or given username on several rows rejects each of them."""
    keys = (
        ("mobile", lambda o: o.mobile_hash),
        ("id_number", lambda o: o.id_hash),
        ("username", lambda o: o.values.get("username") if o.username_given else ""),
    )
    for key, value_of in keys:
        seen: dict[str, list[RowOutcome]] = defaultdict(list)
        for o in outcomes:
            if value := value_of(o):
                seen[value].append(o)
        for group in seen.values():
            if len(group) < 2:
                continue
            for o in group:
                others = "、".join(str(other.row) for other in group if other is not o)
                o.error(
                    key,
                    _("The %(column)s is the same as on row(s) %(rows)s of this file.")
                    % {"column": excel.HEADERS[key], "rows": others},
                )


# --- Reading ----------------------------------------------------------------------------------


def mapped_rows(source, mapping: list[str | None]):
    """``(row number, {field key: raw cell}, original cells)`` for each row of ``source``, the
    cells named by ``mapping`` (one field key or None per column); the template's example row
    is left out."""
    examples = set(getattr(source, "example_row_numbers", ()) or ())
    for number, values in source.iter_rows():
        if number in examples:
            continue
        cells = {}
        for key, value in zip(mapping, values, strict=False):
            if key and not _blank(value) and key not in cells:
                cells[key] = value
        yield number, cells, list(values)


missing_required = mapping_rules.missing_required


def template_mapping(headers: list[str]) -> list[str | None]:
    """The field of each column guessed from its header alone (the template's headers, in any
    of the site's languages, and their synonyms)."""
    return guess_mapping(headers, [])


def is_template_file(source) -> bool:
    """Whether every header of the file is one of the template's own (in any language) and the
    required fields are all there: such a file needs no mapping screen."""
    index = excel._header_index()
    own = [index.get(excel._norm(str(h).strip().strip("*＊"))) for h in source.headers if h]
    return bool(own) and all(own) and not missing_required(own)


def default_mapping(source) -> list[str | None]:
    """The mapping used when the clerk has chosen none: guessed from headers and values."""
    return guess_mapping(source.headers, source.sample_rows())


def open_upload(path, *, file_name: str = "", sheet: str | None = None):
    """The reader of an uploaded file (``sources.open_source``)."""
    return open_source(path, sheet=sheet, file_name=file_name)
