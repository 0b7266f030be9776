"""Members to and from Excel (.xlsx): the column map, the import template, the uploads waiting for
an import, and the export of a filtered member list.

One column map (:data:`COLUMNS`) serves the template, the import and the export, so a file
exported from the list can be read back and the template always matches what the importer
understands. A column is named by the key its value has in the form data: a
:class:`~hongniang.members.forms.MemberForm` field name, or a
:class:`~hongniang.members.forms.PreferenceForm` field with the form's ``pref-`` prefix. How a cell
is read or written follows from the form field (choice, multiple choice, region, date, number).

Importing (checking rows, writing them in bulk, as background jobs) lives in
``members.importing``; this module keeps the column map, the template, the stored uploads and
the export.
"""

import io
import json
import logging
import re
import time
import uuid
from datetime import date
from itertools import islice
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.forms import MemberForm, PreferenceForm
from hongniang.members.models import MatePreference, Member, RevealLog
from hongniang.members.regions import region_labels
from hongniang.members.widgets import RegionField
from hongniang.staff.permissions import can
from hongniang.workbench.xlsx import SheetWriter

logger = logging.getLogger(__name__)

PREF = "pref-"  # PreferenceForm's prefix: "pref-age_min" is the form data key of age_min

# (header, form data key), in the order of the sheet. Headers are translated; reading accepts the
# header in any of the site's languages, so a template downloaded in English imports in Chinese.
COLUMNS = [
    (gettext_lazy("Username"), "username"),
    (gettext_lazy("Name"), "name"),
    (gettext_lazy("Sex"), "sex"),
    (gettext_lazy("Birthday"), "birthday"),
    (gettext_lazy("Lunar birthday"), "lunar_birthday"),
    (gettext_lazy("Mobile"), "mobile"),
    (gettext_lazy("ID type"), "id_type"),
    (gettext_lazy("ID number"), "id_number"),
    (gettext_lazy("Location"), "region"),
    (gettext_lazy("Hukou"), "hukou_region"),
    (gettext_lazy("Street address"), "address"),
    (gettext_lazy("Height (cm)"), "height"),
    (gettext_lazy("Weight (kg)"), "weight"),
    (gettext_lazy("Marital status"), "marital_status"),
    (gettext_lazy("Education"), "education"),
    (gettext_lazy("Annual income"), "annual_income"),
    (gettext_lazy("Monthly income"), "monthly_income"),
    (gettext_lazy("Occupation"), "occupation"),
    (gettext_lazy("Occupation sought"), "occupation_sought"),
    (gettext_lazy("Work status"), "work_status"),
    (gettext_lazy("Car"), "car"),
    (gettext_lazy("House"), "house"),
    (gettext_lazy("Children"), "children"),
    (gettext_lazy("Ethnicity"), "ethnicity"),
    (gettext_lazy("Blood type"), "blood_type"),
    (gettext_lazy("Religion"), "religion"),
    (gettext_lazy("Smoking"), "smoking"),
    (gettext_lazy("Drinking"), "drinking"),
    (gettext_lazy("Exercise"), "exercise"),
    (gettext_lazy("Appearance"), "appearance"),
    (gettext_lazy("Personality"), "personality"),
    (gettext_lazy("Hobbies"), "hobbies"),
    (gettext_lazy("Debts"), "debts"),
    (gettext_lazy("Family background"), "family_background"),
    (gettext_lazy("Parents' finances"), "parents_finances"),
    (gettext_lazy("Parents' work"), "parents_work"),
    (gettext_lazy("Father's occupation"), "father_occupation"),
    (gettext_lazy("Mother's occupation"), "mother_occupation"),
    (gettext_lazy("Birth order"), "birth_order"),
    (gettext_lazy("Older brothers"), "older_brothers"),
    (gettext_lazy("Older sisters"), "older_sisters"),
    (gettext_lazy("Younger brothers"), "younger_brothers"),
    (gettext_lazy("Younger sisters"), "younger_sisters"),
    (gettext_lazy("Long-distance relationship"), "long_distance"),
    (gettext_lazy("Online-dating experience"), "online_dating"),
    (gettext_lazy("Only child"), "only_child"),
    (gettext_lazy("Partner should own a home"), "partner_house"),
    (gettext_lazy("Wedding style"), "wedding_style"),
    (gettext_lazy("Live with partner's parents"), "live_with_parents"),
    (gettext_lazy("Cooking"), "cooking"),
    (gettext_lazy("Housework"), "housework"),
    (gettext_lazy("Email"), "email"),
    (gettext_lazy("WeChat"), "wechat"),
    (gettext_lazy("QQ"), "qq"),
    (gettext_lazy("Self-description"), "about"),
    (gettext_lazy("Agrees to be introduced"), "consents_to_introduction"),
    (gettext_lazy("Partner age from"), f"{PREF}age_min"),
    (gettext_lazy("Partner age to"), f"{PREF}age_max"),
    (gettext_lazy("Partner height from (cm)"), f"{PREF}height_min"),
    (gettext_lazy("Partner height to (cm)"), f"{PREF}height_max"),
    (gettext_lazy("Partner minimum education"), f"{PREF}education_min"),
    (gettext_lazy("Partner marital statuses"), f"{PREF}marital"),
]
HEADERS = dict((key, header) for header, key in COLUMNS)

# Columns whose empty cell is filled in by the importer, so they need not be in the file.
AUTO_FILLED = {"username"}  # "m" + 10 hex digits of the mobile's keyed hash
PERSONAL = ("mobile", "id_number")

# The import's limits (``importing.sources`` enforces them; the template's notes state them).
MAX_ROWS = 500_000
MAX_FILE_MB = 200
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
STALE_UPLOAD_SECONDS = 24 * 3600

# Several values in one cell (personality, hobbies, acceptable marital statuses).
# Separators people put between province, city and county.
_MULTI_JOIN = "、"


def _sheet_title_rows() -> str:
    return _("Member data")


def _sheet_title_notes() -> str:
    return _("Instructions")


def _sheet_title_lists() -> str:
    return _("Lists")


# --- Fields -----------------------------------------------------------------------------------


class Kind:
    TEXT, INTEGER, DATE, CHOICE, MULTI, REGION = "text", "int", "date", "choice", "multi", "region"


def _kind(form_field) -> str:
    if isinstance(form_field, RegionField):
        return Kind.REGION
    if isinstance(form_field, forms.MultipleChoiceField):
        return Kind.MULTI
    if isinstance(form_field, forms.ChoiceField):
        return Kind.CHOICE
    if isinstance(form_field, forms.DateField):
        return Kind.DATE
    if isinstance(form_field, forms.IntegerField):
        return Kind.INTEGER
    return Kind.TEXT


class _Forms:
    """One unbound MemberForm and PreferenceForm, for the fields, kinds and choices of columns."""

    def __init__(self):
        self.member = MemberForm()
        self.preference = PreferenceForm()

    def field(self, key: str):
        if key.startswith(PREF):
            return self.preference.fields[key[len(PREF) :]]
        return self.member.fields[key]

    def kind(self, key: str) -> str:
        return _kind(self.field(key))

    def choices(self, key: str) -> list[tuple[str, object]]:
        """``[(stored value as text, lazy label)]`` of a choice column, without the blank."""
        return [(str(v), label) for v, label in self.field(key).choices if v not in ("", None)]

    def required(self) -> list[str]:
        """Columns the file must have: required by the form, with no default to fall back to."""
        return [
            key
            for _h, key in COLUMNS
            if self.field(key).required
            and key not in AUTO_FILLED
            and _model_default(key) is _NO_DEFAULT
        ]


_NO_DEFAULT = object()


def _model_field(key: str):
    model, name = (MatePreference, key[len(PREF) :]) if key.startswith(PREF) else (Member, key)
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:  # a form-only field (mobile, id_number)
        return None


def _model_default(key: str):
    model_field = _model_field(key)
    if model_field is None or not model_field.has_default():
        return _NO_DEFAULT
    return model_field.get_default()


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _norm(text) -> str:
    return re.sub(r"\s+", "", str(text)).lower()


# --- Template ---------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFC7CE")
_OPTIONAL_FILL = PatternFill("solid", fgColor="E8F0FE")
_EXAMPLE_FONT = Font(italic=True, color="666666")


def _example_row(f: _Forms) -> dict:
    """One realistic member, in the labels of the active language."""

    def label(key, value):
        return str(dict(f.choices(key))[str(value)])

    return {
        "username": "zhangxiaomei",
        "name": "张小美",
        "sex": label("sex", c.Sex.FEMALE),
        "birthday": date(1992, 6, 15),
        "mobile": "13800138000",
        "id_type": label("id_type", c.IdType.RESIDENT_ID),
        "id_number": "440106199206150028",
        "region": "广东 广州 天河区",
        "hukou_region": "广东 广州",
        "height": 165,
        "weight": 50,
        "marital_status": label("marital_status", c.MaritalStatus.SINGLE),
        "education": label("education", c.Education.BACHELOR),
        "annual_income": label("annual_income", c.AnnualIncome.FROM_100K_TO_200K),
        "occupation": label("occupation", c.Occupation.TEACHER),
        "car": label("car", c.CarStatus.NONE),
        "house": label("house", c.HouseStatus.OWNS),
        "children": label("children", c.ChildrenStatus.NONE),
        "ethnicity": label("ethnicity", "01"),
        "smoking": label("smoking", c.Smoking.NEVER),
        "hobbies": _MULTI_JOIN.join(label("hobbies", h) for h in (c.Hobby.TRAVEL, c.Hobby.READING)),
        "about": _("Cheerful and easy-going; I like travelling and reading."),
        f"{PREF}age_min": 28,
        f"{PREF}age_max": 35,
        f"{PREF}height_min": 172,
        f"{PREF}height_max": 185,
        f"{PREF}education_min": label(f"{PREF}education_min", c.Education.BACHELOR),
        f"{PREF}marital": _MULTI_JOIN.join(
            label(f"{PREF}marital", m) for m in (c.MaritalStatus.SINGLE, c.MaritalStatus.DIVORCED)
        ),
    }


def _describe(f: _Forms, key: str) -> str:
    kind = f.kind(key)
    if key == "username":
        return _("Optional: when empty, one is made up (“m” and 10 letters or digits).")
    if key == "id_number":
        return _(
            "A resident ID must have a valid check digit and agree with the sex and birthday. "
            "Format the column as text so that Excel keeps all 18 characters."
        )
    if key == "mobile":
        return _("An 11-digit mainland mobile number, not yet registered.")
    if kind == Kind.REGION:
        return _(
            "The full name from the province down, e.g. “广东 广州 天河区”, or a 6-digit "
            "region code such as 440106."
        ) + (" " + _("Down to the city at most.") if f.field(key).max_level < 3 else "")
    if kind == Kind.DATE:
        return _("A date cell, or text written as YYYY-MM-DD, e.g. 1990-05-20.")
    if kind == Kind.INTEGER:
        return _("A whole number.")
    if kind == Kind.MULTI:
        return _("One or more of the values below, separated by “、” or commas.")
    if kind == Kind.CHOICE:
        return _("One of the values below.")
    return ""


def template_workbook() -> bytes:
    """The import template: a header row and one example row, an instructions sheet listing the
    allowed values of every choice column, and drop-downs on the choice columns."""
    f = _Forms()
    required = set(f.required())
    example = _example_row(f)
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title_rows()
    notes = wb.create_sheet(_sheet_title_notes())
    lists = wb.create_sheet(_sheet_title_lists())
    lists.sheet_state = "hidden"

    for col, (header, key) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(col)
        cell = ws.cell(row=1, column=col, value=str(header))
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if key in required else _OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[letter].width = max(12, len(str(header)) * 2 + 4)
        kind = f.kind(key)
        value = example.get(key)
        if value is not None:
            example_cell = ws.cell(row=2, column=col, value=value)
            example_cell.font = _EXAMPLE_FONT
            if kind == Kind.DATE:
                example_cell.number_format = "yyyy-mm-dd"
            elif key in PERSONAL:
                example_cell.number_format = "@"
        if key in PERSONAL:
            ws.column_dimensions[letter].number_format = "@"
            ws.column_dimensions[letter].width = 22
        elif kind == Kind.DATE:
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
        elif kind == Kind.REGION:
            ws.column_dimensions[letter].width = 24
        if kind == Kind.CHOICE:
            labels = [str(label) for _v, label in f.choices(key)]
            for row, label in enumerate(labels, start=1):
                lists.cell(row=row, column=col, value=label)
            source = f"{quote_sheetname(lists.title)}!${letter}$1:${letter}${len(labels)}"
            validation = DataValidation(
                type="list", formula1=source, allow_blank=True, errorStyle="warning"
            )
            validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "A2"

    notes.column_dimensions["A"].width = 26
    notes.column_dimensions["B"].width = 60
    notes.column_dimensions["C"].width = 90
    lines = [
        _("How to fill in this template"),
        _("The first row holds the column headers; keep them as they are. One member per row."),
        _("Row 2 is an example: replace it or delete it before importing."),
        _("Columns with a red header are required; others may be left empty or deleted."),
        _("At most %(rows)s members and %(mb)s MB per file; save as .xlsx.")
        % {"rows": MAX_ROWS, "mb": MAX_FILE_MB},
        _(
            "Choice columns take the values listed below (or their stored value). Regions take "
            "the full name from the province down, e.g. “广东 广州 天河区”, or a 6-digit code."
        ),
        _("Imported members are entered by you and assigned to you as their pre-sales matchmaker."),
    ]
    for row, text in enumerate(lines, start=1):
        notes.cell(row=row, column=1, value=text).font = _HEADER_FONT if row == 1 else Font()
    start = len(lines) + 2
    for col, title in enumerate((_("Column"), _("Required"), _("Allowed values")), start=1):
        notes.cell(row=start, column=col, value=title).font = _HEADER_FONT
    for row, (header, key) in enumerate(COLUMNS, start=start + 1):
        notes.cell(row=row, column=1, value=str(header))
        notes.cell(row=row, column=2, value=_("Yes") if key in required else "")
        allowed = _describe(f, key)
        if f.kind(key) in (Kind.CHOICE, Kind.MULTI):
            values = _MULTI_JOIN.join(str(label) for _v, label in f.choices(key))
            allowed = f"{allowed} {values}".strip()
        notes.cell(row=row, column=3, value=allowed).alignment = Alignment(wrap_text=True)

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- Reading ----------------------------------------------------------------------------------


def _header_index() -> dict[str, str]:
    """Normalised header (in any of the site's languages) or key → column key."""
    index = {}
    for lang in _languages():
        with translation.override(lang):
            for header, key in COLUMNS:
                index.setdefault(_norm(header), key)
    for _header, key in COLUMNS:
        index.setdefault(_norm(key), key)
    return index


# --- Uploads waiting for confirmation ---------------------------------------------------------


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def upload_path(token: str) -> Path:
    """Where an upload waits; only for a token of 32 hex digits (no path can be smuggled in)."""
    if not TOKEN_RE.fullmatch(token or ""):
        raise ValueError("Not an upload token.")
    return upload_dir() / f"{token}.xlsx"


def store_upload(file) -> str:
    """Save an uploaded file as MEDIA_ROOT/imports/<uuid4 hex>.xlsx; return the token. Uploads
    left unconfirmed for a day are removed on the way."""
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STALE_UPLOAD_SECONDS
    for old in folder.iterdir():  # uploads and their previews' checked rows
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:  # removed by another request meanwhile
            pass
    token = uuid.uuid4().hex
    file.seek(0)
    with upload_path(token).open("wb") as out:
        while chunk := file.read(1024 * 1024):
            out.write(chunk)
    return token


def discard_upload(token: str) -> None:
    path = upload_path(token)
    path.unlink(missing_ok=True)
    path.with_suffix(".checked").unlink(missing_ok=True)  # the preview's checked rows


# --- Export -----------------------------------------------------------------------------------

EXPORT_CHUNK = 2000  # rows per fetch of the export's cursor and per batch of reveal logs


def _export_converter(key: str, kinds: dict, labels: dict, region_cache: dict):
    """How a column's stored value becomes its cell: ``None`` when as it is (the writer skips
    empty cells), else a function remembering each distinct value's cell (a column repeats a
    few choices, lists of choices and places over 100,000 rows)."""
    if key in PERSONAL:
        return None  # masked text, or ciphertext decrypted per batch
    kind = kinds[key]
    if kind == Kind.REGION:
        return lambda value: region_cache.get(value, value) if value else None
    if kind not in (Kind.CHOICE, Kind.MULTI):
        field = _model_field(key)
        if field is not None and field.get_internal_type() == "JSONField":
            return lambda value: None if value == [] else value
        return None
    names = labels[key]
    memo = {}

    def cell(value):
        if kind == Kind.MULTI:
            return _MULTI_JOIN.join(names.get(str(v), str(v)) for v in value) or None
        return names.get(str(value), str(value))

    def convert(value):
        # A list of choices comes as its JSON text (see _json_as_text): parsed once per distinct
        # text, not 100,000 times.
        if value is None or value == "" or value == []:
            return None
        if type(value) is list:  # read as a list after all
            return cell(value)
        try:
            return memo[value]
        except KeyError:
            found = memo[value] = cell(json.loads(value) if kind == Kind.MULTI else value)
            return found

    return convert


def _json_as_text(key: str) -> bool:
    """A list-of-choices column read as the database's JSON text (a Cast), so that its cells
    are remembered by text and each distinct list is parsed once."""
    field = _model_field(key)
    return field is not None and field.get_internal_type() == "JSONField"


def _chunks(iterable, size):
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def export_workbook(queryset, viewer, *, full: bool = False, progress=None) -> bytes:
    """The members of ``queryset`` (already scoped and filtered) in the columns of the template,
    read and written in batches (the sheet is streamed: memory does not grow with the list).

    Mobiles and ID numbers are masked unless ``full`` is asked for and the viewer may reveal them
    (the view has checked the security password); then they are written in full and one RevealLog
    row per exported member records it.
    """
    if not can(viewer, "members", "export"):
        raise PermissionDenied
    f = _Forms()
    reveal = full and can(viewer, "members", "reveal")
    kinds = {key: f.kind(key) for _h, key in COLUMNS}
    labels = {
        key: {value: str(label) for value, label in f.choices(key)}
        for key, kind in kinds.items()
        if kind in (Kind.CHOICE, Kind.MULTI)
    }
    region_cache: dict[str, str] = {}

    # Rows are read as plain tuples (no model instances, no dicts), one database column per
    # export column; each column has its conversion chosen once, not per cell.
    def source(key):
        if key in PERSONAL:
            return f"{key}_encrypted" if reveal else f"{key}_masked"
        return f"preference__{key[len(PREF) :]}" if key.startswith(PREF) else key

    names = list(dict.fromkeys(source(key) for _h, key in COLUMNS))
    as_text = {
        source(key) for _h, key in COLUMNS if kinds[key] == Kind.MULTI and _json_as_text(key)
    }
    plan = [
        (names.index(source(key)) + 1, _export_converter(key, kinds, labels, region_cache))
        for _h, key in COLUMNS
    ]

    def cells(member) -> list:
        return [member[i] if convert is None else convert(member[i]) for i, convert in plan]

    decrypted = [i for i, (_h, key) in enumerate(COLUMNS) if key in PERSONAL and reveal]

    # No transaction around the loop: it would hold the database's write lock for the whole
    # export. A failure half-way leaves reveal logs for rows never delivered, which errs on the
    # safe side for an audit trail.
    qs = queryset.values_list(
        "pk", *(Cast(name, TextField()) if name in as_text else name for name in names)
    )
    region_columns = [names.index("region") + 1, names.index("hukou_region") + 1]
    written = 0
    widths = [22 if key in PERSONAL or kinds[key] == Kind.REGION else 12 for _h, key in COLUMNS]
    buffer = io.BytesIO()
    with SheetWriter(buffer, _sheet_title_rows(), widths=widths) as sheet:
        sheet.header([str(header) for header, _k in COLUMNS])
        for batch in _chunks(qs.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
            codes = {m[i] for m in batch for i in region_columns}
            region_cache.update(region_labels(codes - region_cache.keys()))
            rows = [cells(member) for member in batch]
            for i in decrypted:  # the full numbers, one key fetch per column and batch
                plain = pd.decrypt_many([row[i] for row in rows])
                for row, value in zip(rows, plain, strict=True):
                    row[i] = value
            for row in rows:
                sheet.row(row)
            if reveal:
                RevealLog.objects.bulk_create(
                    [RevealLog(member_id=m[0], field="export", staff=viewer) for m in batch]
                )
            written += len(batch)
            if progress is not None:
                progress(written)
    return buffer.getvalue()
