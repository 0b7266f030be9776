"""Members to and from Excel (.xlsx): the column map, the import template, reading, validating and
importing rows, and the export of a filtered member list.

One column map (:data:`COLUMNS`) serves all four, so a file exported from the list can be read back
and the template always matches what the importer understands. A column is named by the key its
value has in the form data: a :class:`~hongniang.members.forms.MemberForm` field name, or a
:class:`~hongniang.members.forms.PreferenceForm` field with the form's ``pref-`` prefix. How a cell
is read or written follows from the form field (choice, multiple choice, region, date, number).

Importing (checking rows, writing them in bulk, as background jobs) lives in
``members.importing``; this module keeps the column map, the template, the cell reader of the
template's values and the export.
"""

import contextlib
import io
import logging
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from itertools import islice, product
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.forms import MemberForm, PreferenceForm
from hongniang.members.models import MatePreference, Member, RevealLog
from hongniang.members.reference import ethnic_groups
from hongniang.members.regions import Region, region_labels
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
MAX_COLUMNS = 200
PREVIEW_ROWS = 200
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
STALE_UPLOAD_SECONDS = 24 * 3600

# Several values in one cell (personality, hobbies, acceptable marital statuses).
_MULTI_SPLIT = re.compile(r"[、,，;；/|\s]+")
# Separators people put between province, city and county.
_REGION_SEPARATORS = re.compile(r"[\s/\\,，、\-—>·.]+")
_DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
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


def _model_defaults(model, prefix: str = "") -> dict:
    """Form data for the form fields of ``model`` that have a model default (importance, ...)."""
    data = {}
    for f in model._meta.get_fields():
        if getattr(f, "editable", False) and f.concrete and f.has_default():
            default = f.get_default()
            data[f"{prefix}{f.name}"] = (
                default if isinstance(default, list | bool) else str(default)
            )
    return data


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _norm(text) -> str:
    return re.sub(r"\s+", "", str(text)).lower()


class _ChoiceIndex:
    """Text in a cell → stored value: the stored value itself or the label in any language."""

    def __init__(self, forms_: _Forms):
        self._maps: dict[str, dict[str, str]] = {}
        self._forms = forms_

    def _map(self, key: str) -> dict[str, str]:
        if key not in self._maps:
            mapping: dict[str, str] = {}
            pairs = self._forms.choices(key)
            for lang in _languages():
                with translation.override(lang):
                    for value, label in pairs:
                        mapping.setdefault(_norm(label), value)
            # Ethnic group names are plain strings in one language: accept both, and 汉 for 汉族.
            if key == "ethnicity":
                for group in ethnic_groups():
                    for name in (group.name, group.name_en, group.name.removesuffix("族")):
                        mapping.setdefault(_norm(name), group.code)
            for value, _label in pairs:
                mapping[_norm(value)] = value
            self._maps[key] = mapping
        return self._maps[key]

    def get(self, key: str, text: str) -> str | None:
        return self._map(key).get(_norm(text))


class RegionIndex:
    """Region names and codes → 6-digit codes, from the region table (one query).

    Accepts the path from the province down with full or short names and any separators
    ("广东 广州 天河区", "广东省广州市天河区", "北京 东城区", "北京市 市辖区 东城区"), a path
    without its upper levels when that is unique ("广州 天河区", "天河区"), a city or a province,
    and any existing 6-digit code. A name that fits several unrelated regions ("鼓楼区") is
    ambiguous; one that fits a region and its own subdivision ("北京": the province and its
    placeholder city, "吉林": the province and 吉林市) means the larger one.
    """

    def __init__(self):
        regions = {r.code: r for r in Region.objects.all()}
        self.levels = {code: r.level for code, r in regions.items()}
        self.parents = {code: r.parent_id for code, r in regions.items()}
        candidates: dict[str, set[str]] = defaultdict(set)
        for region in regions.values():
            path, node = [], region
            while node is not None:
                path.append(node)
                node = regions.get(node.parent_id) if node.parent_id else None
            path.reverse()
            for start in range(len(path)):
                for key in self._name_keys(path[start:]):
                    candidates[key].add(region.code)
        self._by_name = {key: self._pick(codes) for key, codes in candidates.items() if key}

    @staticmethod
    def _name_keys(path: list[Region]) -> set[str]:
        variants = []
        for r in path:
            if r.is_placeholder:
                variants.append({"", r.name})
            else:
                variants.append({r.name, r.short_name})
        return {"".join(parts) for parts in product(*variants)}

    def _ancestors(self, code: str) -> set[str]:
        found = set()
        while code := self.parents.get(code) or "":
            found.add(code)
        return found

    def _pick(self, codes: set[str]) -> str | None:
        """The one region meant by a name, or None when the name is ambiguous."""
        if len(codes) == 1:
            return next(iter(codes))
        top = min(codes, key=lambda code: self.levels[code])
        if all(top in self._ancestors(code) for code in codes - {top}):
            return top
        return None

    def resolve(self, text: str) -> tuple[str | None, str]:
        """``(code, "")`` or ``(None, "unknown" | "ambiguous")``."""
        text = str(text).strip()
        if re.fullmatch(r"\d{6}", text):
            return (text, "") if text in self.levels else (None, "unknown")
        key = _REGION_SEPARATORS.sub("", text)
        if key not in self._by_name:
            return None, "unknown"
        code = self._by_name[key]
        return (code, "") if code else (None, "ambiguous")

    def misplaced(self, text: str) -> tuple[str, str] | None:
        """For a path whose parts exist but do not nest ("广东 成都"): (the part, the region it
        was said to be in)."""
        parts = [p for p in _REGION_SEPARATORS.split(str(text).strip()) if p]
        codes = [self._by_name.get(p) for p in parts]
        if len(parts) < 2 or not all(codes):
            return None
        for (outer, outer_code), (inner, inner_code) in zip(
            zip(parts, codes, strict=True), zip(parts[1:], codes[1:], strict=True), strict=False
        ):
            if outer_code not in self._ancestors(inner_code):
                return inner, outer
        return None

    def at_most(self, code: str, level: int) -> str:
        """The code itself, or its ancestor at ``level`` (a county given as hukou → its city)."""
        while code and self.levels.get(code, 0) > level:
            code = self.parents.get(code) or ""
        return code


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


class SheetRows(list):
    """The member rows of a sheet: ``[{"_row": 2, key: cell value, ...}]``, blank rows skipped.

    ``ignored`` lists the headers that matched no column.
    """

    def __init__(self, rows=(), ignored=()):
        super().__init__(rows)
        self.ignored = list(ignored)


ROW = "_row"


def check_file(name: str, size: int) -> None:
    """Refuse anything but an .xlsx of at most MAX_FILE_MB, before reading it."""
    if not str(name).lower().endswith(".xlsx"):
        raise ValidationError(
            _(
                "Only .xlsx files can be imported. In Excel, save the file as "
                "“Excel Workbook (*.xlsx)” and upload it again."
            ),
            code="not_xlsx",
        )
    if size > MAX_FILE_MB * 1024 * 1024:
        raise ValidationError(
            _("The file is larger than %(mb)s MB. Split it into smaller files.")
            % {"mb": MAX_FILE_MB},
            code="too_large",
        )


def _header_index() -> dict[str, str]:
    index = {}
    for lang in _languages():
        with translation.override(lang):
            for header, key in COLUMNS:
                index.setdefault(_norm(header), key)
    for _header, key in COLUMNS:
        index.setdefault(_norm(key), key)
    return index


def _cell_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_rows(file) -> SheetRows:
    """The member rows of the first sheet of an .xlsx (a path or an uploaded file).

    Raises ValidationError with a message for the user when the file is not an .xlsx, is larger
    than MAX_FILE_MB, cannot be read, lacks a required column or holds more than MAX_ROWS rows.
    """
    if isinstance(file, str | Path):
        path = Path(file)
        check_file(path.name, path.stat().st_size)
        source = path
    else:
        size = getattr(file, "size", None)
        if size is None:
            file.seek(0, io.SEEK_END)
            size = file.tell()
        check_file(getattr(file, "name", "") or "", size)
        file.seek(0)
        source = file
    unreadable = ValidationError(
        _("The file could not be read as an Excel workbook. Is it damaged or password-protected?"),
        code="unreadable",
    )
    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is not usable
        raise unreadable from exc
    try:
        return _read_sheet(wb.worksheets[0])
    except ValidationError:
        raise
    except Exception as exc:
        raise unreadable from exc
    finally:
        wb.close()


def _read_sheet(ws) -> SheetRows:
    rows_iter = ws.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    header_row = next(rows_iter, None) or ()
    index = _header_index()
    positions: dict[int, str] = {}
    ignored = []
    for pos, cell in enumerate(header_row):
        if _cell_blank(cell):
            continue
        key = index.get(_norm(str(cell).strip().strip("*＊")))
        if key is None:
            ignored.append(str(cell).strip())
        elif key in positions.values():
            raise ValidationError(
                _("The column “%(column)s” appears more than once.") % {"column": str(cell)},
                code="duplicate_column",
            )
        else:
            positions[pos] = key
    missing = [str(HEADERS[k]) for k in _Forms().required() if k not in positions.values()]
    if missing:
        raise ValidationError(
            _(
                "The first row must hold the column headers of the template. "
                "These required columns are missing: %(columns)s."
            )
            % {"columns": _MULTI_JOIN.join(missing)},
            code="missing_columns",
        )
    rows = []
    for number, values in enumerate(rows_iter, start=2):
        if all(_cell_blank(v) for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationError(
                _("The file has more than %(max)s member rows. Split it into smaller files.")
                % {"max": MAX_ROWS},
                code="too_many_rows",
            )
        row = {ROW: number}
        for pos, key in positions.items():
            row[key] = values[pos] if pos < len(values) else None
        rows.append(row)
    if not rows:
        raise ValidationError(_("The file holds no member rows."), code="empty")
    return SheetRows(rows, ignored)


# --- Validating -------------------------------------------------------------------------------


@dataclass
class RowError:
    column: str  # the header as shown to the user, "" for the row as a whole
    message: str


@dataclass
class RowResult:
    row: int  # the row number in the sheet (the header is row 1)
    data: dict  # form data built from the cells
    errors: list[RowError] = field(default_factory=list)
    member: Member | None = None  # unsaved, from the validated forms
    preference: MatePreference | None = None
    mobile: str = ""  # normalized
    id_number: str = ""
    region_label: str = ""
    auto_username: bool = False  # made from the mobile: its errors repeat the mobile's
    unconverted: set = field(default_factory=set, repr=False)  # cells that could not be read

    @property
    def valid(self) -> bool:
        return not self.errors

    @cached_property
    def mobile_masked(self) -> str:
        return pd.mask_mobile(self.mobile) if self.mobile else ""

    @cached_property
    def id_number_masked(self) -> str:
        return pd.mask_id_number(self.id_number) if self.id_number else ""

    def error(self, key: str | None, message) -> None:
        header = str(HEADERS[key]) if key in HEADERS else ""
        text = str(message)
        if not any(e.column == header and e.message == text for e in self.errors):
            self.errors.append(RowError(header, text))


def _text(value) -> str:
    """A cell as text: 170.0 → "170", 13800138000 → "13800138000"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _username_for(mobile: str) -> str:
    """A username for a member imported without one: stable from the mobile (the preview shows
    the one that will be saved) yet without it, since usernames are shown unmasked."""
    if not mobile:
        return ""
    with contextlib.suppress(ValidationError):  # an invalid mobile is reported on its own
        mobile = pd.normalize_mobile(mobile)
    return f"m{pd.lookup_hash(mobile)[:10]}"


class _RowConverter:
    """Cells of one row → form data, with conversion errors on the RowResult."""

    def __init__(self, f: _Forms):
        self.forms = f
        self.choices = _ChoiceIndex(f)
        self.regions = RegionIndex()
        # Empty cells of fields with a model default (siblings 0, ID type resident ID, the
        # preferences' importance) take the default, as a new member's form would show it.
        self.defaults = {
            key: value
            for key, value in {
                **_model_defaults(Member),
                **_model_defaults(MatePreference, PREF),
            }.items()
            if key in f.member.fields or key.removeprefix(PREF) in f.preference.fields
        }

    def convert(self, row: dict) -> RowResult:
        result = RowResult(row=row[ROW], data={})
        data = result.data
        for _header, key in COLUMNS:
            raw = row.get(key)
            if _cell_blank(raw):
                continue
            converter = getattr(self, f"_{self.forms.kind(key)}")
            value = converter(result, key, raw)
            if value is None:
                result.unconverted.add(key)
            else:
                data[key] = value
        for key, default in self.defaults.items():
            data.setdefault(key, default)
        if not data.get("username"):
            data["username"] = _username_for(data.get("mobile", ""))
            result.auto_username = True
        return result

    def _text(self, result, key, raw):
        if key == "id_number" and isinstance(raw, int | float) and abs(raw) >= 1e15:
            result.error(
                key,
                _(
                    "Excel stored this ID number as a number and lost its last digits: format "
                    "the column as text and enter the number again."
                ),
            )
            return None
        return _text(raw)

    def _int(self, result, key, raw):
        return _text(raw)

    def _date(self, result, key, raw):
        if isinstance(raw, datetime):
            return raw.date().isoformat()
        if isinstance(raw, date):
            return raw.isoformat()
        match = _DATE_TEXT.match(_text(raw))
        if match:
            try:
                return date(*(int(g) for g in match.groups())).isoformat()
            except ValueError:
                pass
        result.error(key, _("Enter the date as YYYY-MM-DD, e.g. 1990-05-20."))
        return None

    def _not_allowed(self, result, key, text):
        result.error(
            key,
            _("“%(value)s” is not an allowed value; see the sheet “%(sheet)s”.")
            % {"value": text, "sheet": _sheet_title_notes()},
        )

    def _choice(self, result, key, raw):
        text = _text(raw)
        value = self.choices.get(key, text)
        if value is None:
            self._not_allowed(result, key, text)
        return value

    def _multi(self, result, key, raw):
        values = []
        for part in _MULTI_SPLIT.split(_text(raw)):
            if not part:
                continue
            value = self.choices.get(key, part)
            if value is None:
                self._not_allowed(result, key, part)
            elif value not in values:
                values.append(value)
        return values

    def _region(self, result, key, raw):
        text = _text(raw)
        code, problem = self.regions.resolve(text)
        if code is None:
            if problem == "ambiguous":
                message = _(
                    "More than one region is called “%(value)s”: add the province and city, "
                    "or enter the 6-digit code."
                )
            elif outside := self.regions.misplaced(text):
                result.error(
                    key,
                    _("“%(part)s” is not in “%(whole)s”.")
                    % {"part": outside[0], "whole": outside[1]},
                )
                return None
            else:
                message = _(
                    "Unknown region “%(value)s”: enter the full name from the province down, "
                    "e.g. “广东 广州 天河区”, or a 6-digit region code."
                )
            result.error(key, message % {"value": text})
            return None
        return self.regions.at_most(code, self.forms.field(key).max_level)


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

EXPORT_CHUNK = 500


def _chunks(iterable, size):
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def export_workbook(queryset, viewer, *, full: bool = False, progress=None) -> bytes:
    """The members of ``queryset`` (already scoped and filtered) in the columns of the template,
    written row by row (openpyxl write-only mode: memory does not grow with the list).

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

    # Rows are read as plain values (no model instances: a third of the time at 100,000 rows),
    # one database column per export column.
    def source(key):
        if key in PERSONAL:
            return f"{key}_encrypted" if reveal else f"{key}_masked"
        return f"preference__{key[len(PREF) :]}" if key.startswith(PREF) else key

    sources = {key: source(key) for _h, key in COLUMNS}

    def cell(row, key):
        value = row[sources[key]]
        if key in PERSONAL:
            return pd.decrypt(value) if reveal and value else value
        kind = kinds[key]
        if value in (None, "", []):
            return None
        if kind == Kind.CHOICE:
            return labels[key].get(str(value), str(value))
        if kind == Kind.MULTI:
            return _MULTI_JOIN.join(labels[key].get(str(v), str(v)) for v in value)
        if kind == Kind.REGION:
            return region_cache.get(value, value)
        return value

    # No transaction around the loop: it would hold the database's write lock for the whole
    # export. A failure half-way leaves reveal logs for rows never delivered, which errs on the
    # safe side for an audit trail.
    qs = queryset.values("pk", *dict.fromkeys(sources.values()))
    written = 0
    widths = [22 if key in PERSONAL or kinds[key] == Kind.REGION else 12 for _h, key in COLUMNS]
    buffer = io.BytesIO()
    with SheetWriter(buffer, _sheet_title_rows(), widths=widths) as sheet:
        sheet.header([str(header) for header, _k in COLUMNS])
        for batch in _chunks(qs.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
            codes = {m[k] for m in batch for k in ("region", "hukou_region")}
            region_cache.update(region_labels(codes - region_cache.keys()))
            for member in batch:
                sheet.row([cell(member, key) for _h, key in COLUMNS])
            if reveal:
                RevealLog.objects.bulk_create(
                    [RevealLog(member_id=m["pk"], field="export", staff=viewer) for m in batch]
                )
            written += len(batch)
            if progress is not None:
                progress(written)
    return buffer.getvalue()
