"""One row's mapped cells → member field values, as agencies write them.

``RowNormaliser().normalise({key: raw cell})`` returns the values ready for the model (choice
codes, ints, dates, region codes, lists for multiple choices; ``pref-`` keys for the mate
preferences), the problems (each quoting the refused cell in plain words) and extras the model has
no field for (a child flag from "离异带孩", the street of an address). It does not decide whether a
problem rejects the row: a missing or invalid required field does, an optional one is dropped
with a warning — that is the pipeline's rule.

The vocabulary is data (``members/data/import_synonyms.toml``, see ``synonyms``): choice synonyms,
units, the words for "any" and "not filled in".
"""

import copy
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from hongniang.members import choices as c
from hongniang.members.excel import COLUMNS, HEADERS, PREF, Kind, _Forms
from hongniang.members.importing import synonyms
from hongniang.members.importing.addresses import RegionResolver
from hongniang.members.importing.hygiene import clean_text
from hongniang.members.importing.sources import cell_text
from hongniang.members.reference import ethnic_groups

# Pseudo fields: parts of the location in columns of their own, a full address, and a mate
# preference range in one cell ("25-35").
REGION_PARTS = ("region_province", "region_city", "region_county")
ADDRESS = "address_full"
RANGES = {f"{PREF}age_range": "age", f"{PREF}height_range": "height"}
PSEUDO_KEYS = (*REGION_PARTS, ADDRESS, *RANGES)
# The field a pseudo field's cell gives (whether its problem rejects the row is that field's).
PSEUDO_TARGETS = {
    **dict.fromkeys((*REGION_PARTS, ADDRESS), "region"),
    **{key: f"{PREF}{name}_min" for key, name in RANGES.items()},
}

MULTILINE = {"about"}
_MULTI_SPLIT = re.compile(r"[、,，;；/|\s]+")
_EXCEL_EPOCH = date(1899, 12, 30)
_TIME_PART = re.compile(r"[ T]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_NUMBER = r"(\d+(?:\.\d+)?)"
_MEASURE = re.compile(rf"^{_NUMBER}\s*([^\d\s]*)$")
_COUNT_WORDS = re.compile(r"(岁|个|人|名|位|周岁)$")
_RANGE = re.compile(rf"^{_NUMBER}\s*([^\d\s\-~—–至到]*)\s*[-~—–至到]+\s*{_NUMBER}\s*(.*)$")
_AMOUNT = re.compile(rf"^{_NUMBER}\s*(.*)$")
# Words around an income that say nothing about the amount.
_INCOME_NOISE = re.compile(
    r"(人民币|税前|税后|左右|大概|约|年薪|月薪|年收入|月收入|/年|/月|每年|每月|rmb|¥|￥)"
)
_BELOW = re.compile(r"(以下|以内|之内|不到|<|＜)$")
_ABOVE = re.compile(r"(以上|及以上|多|\+|>|＞)$")
_CHINESE_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_CHINESE_DIGITS |= {"八": 8, "九": 9, "十": 10, "无": 0, "没有": 0}
_ID_NUMBER_DIGITS_LOST = 1e15
_MEMO_SIZE = 200_000  # distinct cells remembered per file


@dataclass(frozen=True)
class Problem:
    key: str  # the field (or pseudo field) whose cell is refused
    raw_text: str  # the cell as the clerk typed it
    message: str  # in the active language, quoting the cell


@dataclass
class Normalised:
    values: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    extras: dict = field(default_factory=dict)

    def problem(self, key: str, raw, message: str) -> None:
        self.problems.append(Problem(key, cell_text(raw), str(message)))


def _key(text) -> str:
    return synonyms.word_key(text)


def quote(text: str, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Dates -------------------------------------------------------------------------------------


def parse_date(raw) -> date | None:
    """A date from a date cell, an Excel day number (33361), 19900503 (number or text),
    1990-05-03, 1990/5/3, 1990.5.3, 1990年5月3日, or any of these with a time after it."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return _from_number(int(raw))  # an Excel date-time: the day is the whole part
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    text = _TIME_PART.sub("", text).strip()
    if text.isdigit():
        return _from_number(int(text)) if len(text) in (5, 8) else None
    match = _DATE_PARTS.match(text)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _from_number(number: int) -> date | None:
    if 10_000_101 <= number <= 99_991_231:  # yyyymmdd
        try:
            return date(number // 10000, number // 100 % 100, number % 100)
        except ValueError:
            return None
    if 367 <= number <= 2_958_465:  # an Excel day number (1901-01-01 … 9999-12-31)
        return _EXCEL_EPOCH + timedelta(days=number)
    return None


# --- Numbers with units ------------------------------------------------------------------------


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_measure(raw, kind: str) -> int | None:
    """A whole number in the stored unit: ``kind`` "length" (cm: 175, 175cm, 1.75米, 1.75m),
    "weight" (kg: 60, 60kg, 60公斤, 120斤) or "count" (2, 2个, 28岁, 两个, 无)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        number, unit = Decimal(str(raw)), ""
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
        if kind == "count":
            text = _COUNT_WORDS.sub("", text).strip()
            if text in _CHINESE_DIGITS:
                return _CHINESE_DIGITS[text]
        match = _MEASURE.match(text)
        if not match:
            return None
        number, unit = _decimal(match.group(1)), match.group(2)
        if number is None:
            return None
    if kind == "count":
        return _round(number) if not unit and number == int(number) else None
    factors = synonyms.units(kind)
    if unit:
        if unit not in factors:
            return None
        number *= Decimal(str(factors[unit]))
    elif kind == "length" and number < 3:  # 1.75 is metres
        number *= 100
    return _round(number)


def parse_amount(raw) -> tuple[Decimal, str] | None:
    """An income in yuan and how it bounds the band: (amount, "" | "below").

    Accepts 8000, 8千, 1.5万, 15k, "1万-2万元" (a range: its lower end), "5000以下"."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return Decimal(str(raw)), ""
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower().replace(",", "")
    text = _INCOME_NOISE.sub("", text).strip()
    bound = ""
    if _BELOW.search(text):
        text, bound = _BELOW.sub("", text).strip(), "below"
    else:
        text = _ABOVE.sub("", text).strip()
    factors = synonyms.units("money")
    range_match = _RANGE.match(text)
    if range_match:
        low, low_unit, _high, high_unit = range_match.groups()
        unit = low_unit or high_unit  # "1-2万": the unit of both
        number = _decimal(low)
    else:
        match = _AMOUNT.match(text)
        if not match:
            return None
        number, unit = _decimal(match.group(1)), match.group(2)
    if number is None:
        return None
    unit = unit.strip()
    if unit and unit not in factors:
        return None
    return number * Decimal(str(factors.get(unit, 1))), bound


# --- Choices -----------------------------------------------------------------------------------


class ChoiceIndex:
    """Cell text → stored value of a choice field: the stored value, its label in any of the
    site's languages, or a synonym from the data file."""

    def __init__(self, forms_: _Forms):
        self._forms = forms_
        self._maps: dict[str, dict[str, object]] = {}

    def values(self, key: str) -> dict[str, object]:
        """``{value as text: value}`` (ints for ordered choices)."""
        return {str(v): v for v, _label in self._forms.field(key).choices if v not in ("", None)}

    def _map(self, key: str) -> dict[str, object]:
        if key in self._maps:
            return self._maps[key]
        values = self.values(key)
        mapping: dict[str, object] = {}
        for text, value in synonyms.choice_synonyms(key).items():
            if text and str(value) in values:  # a synonym for a value this field offers
                mapping.setdefault(text, values[str(value)])
        labels = [(v, label) for v, label in self._forms.field(key).choices if v not in ("", None)]
        for lang, _name in settings.LANGUAGES:
            with translation.override(lang):
                for value, label in labels:
                    mapping.setdefault(_key(label), value)
        if key == "ethnicity":  # names in both languages, and 汉 for 汉族
            for group in ethnic_groups():
                for name in (group.name, group.name_en, group.name.removesuffix("族")):
                    mapping.setdefault(_key(name), group.code)
        for text, value in values.items():
            mapping[_key(text)] = value
        self._maps[key] = mapping
        return mapping

    def get(self, key: str, text) -> object | None:
        return self._map(key).get(_key(text))

    def labels(self, key: str) -> list[str]:
        return [str(label) for v, label in self._forms.field(key).choices if v not in ("", None)]


# --- The row -----------------------------------------------------------------------------------


class RowNormaliser:
    """Normalises the rows of one import (it keeps the lookups it builds, so make one per file)."""

    def __init__(self):
        self.forms = _Forms()
        self.kinds = {key: self.forms.kind(key) for _h, key in COLUMNS}
        self.choices = ChoiceIndex(self.forms)
        self._regions: RegionResolver | None = None
        self._memo: dict = {}
        self._blank_memo: dict = {}
        # Columns of text whose cells are mostly unique (names, mobiles, addresses): not worth
        # remembering.
        self._unique_keys = {key for key, kind in self.kinds.items() if kind == Kind.TEXT}
        self._unique_keys.add(ADDRESS)
        self.empty_words = synonyms.word_set("empty")
        self.any_words = synonyms.word_set("no_preference")
        # Words about children in a marital-status cell, longest first, with what they say.
        said = synonyms.data()["children"]
        self.children_words = sorted(
            ((_key(word), children) for children, words in said.items() for word in words),
            key=lambda item: -len(item[0]),
        )

    @property
    def regions(self) -> RegionResolver:
        if self._regions is None:
            self._regions = RegionResolver()
        return self._regions

    def _blank(self, key: str, raw) -> bool:
        """An empty cell, or one saying "not filled in" ("-", "不详") that is not a value of the
        field (不详 is a blood type). Remembered per cell of the columns whose cells repeat."""
        if raw is None:
            return True
        if not isinstance(raw, str):
            return False
        if key in self._unique_keys:
            return self._blank_text(key, raw)
        memo_key = (key, raw)
        found = self._blank_memo.get(memo_key)
        if found is None:
            found = self._blank_text(key, raw)
            if len(self._blank_memo) < _MEMO_SIZE:
                self._blank_memo[memo_key] = found
        return found

    def _blank_text(self, key: str, raw: str) -> bool:
        word = _key(raw)
        if not word:
            return True
        if word not in self.empty_words:
            return False
        kind = self.kinds.get(key)
        return not (kind in (Kind.CHOICE, Kind.MULTI) and self.choices.get(key, raw) is not None)

    def normalise(self, cells: dict) -> "Normalised":
        result = Normalised()
        given = {k: v for k, v in cells.items() if not self._blank(k, v)}
        for key, raw in given.items():
            kind = self.kinds.get(key)
            if kind is None:
                continue  # pseudo fields, below
            if key.startswith(PREF) and self._means_any(raw):
                result.values[key] = [] if kind == Kind.MULTI else None
                continue
            value = self._cell(result, key, kind, raw)
            if value is not None:
                result.values[key] = value
        self._ranges(result, given)
        self._location(result, given)
        self._children_from_marital(result, given)
        if "address" in result.extras:
            result.values["address"] = result.extras["address"][:200]
        if (
            "monthly_income" in result.values
            and "annual_income" not in given
            and "monthly_amount" in result.extras
        ):
            amount = result.extras.pop("monthly_amount") * 12
            result.values["annual_income"] = int(c.AnnualIncome.for_amount(amount))
        result.extras.pop("monthly_amount", None)
        return result

    def _cell(self, result, key, kind, raw):
        """One cell's value. Choice, number, date and region cells repeat across a file (a
        hundred thousand rows hold a few thousand distinct ones), so each distinct cell is
        worked out once: its value, problems and extras are replayed from the memo."""
        if kind == Kind.TEXT:
            return self._text(result, key, raw)
        memo_key = (key, type(raw), raw)
        memo = self._memo.get(memo_key)
        if memo is None:
            scratch = Normalised()
            value = getattr(self, f"_{kind}")(scratch, key, raw)
            memo = (value, tuple(scratch.problems), tuple(scratch.extras.items()))
            if len(self._memo) < _MEMO_SIZE:
                self._memo[memo_key] = memo
        value, problems, extras = memo
        result.problems.extend(problems)
        for name, extra in extras:
            result.extras.setdefault(name, extra)
        return copy.copy(value) if isinstance(value, list) else value

    def _means_any(self, raw) -> bool:
        return isinstance(raw, str) and _key(raw) in self.any_words

    # --- Per kind ---

    def _text(self, result, key, raw):
        if (
            key == "id_number"
            and isinstance(raw, int | float)
            and not isinstance(raw, bool)
            and abs(raw) >= _ID_NUMBER_DIGITS_LOST
        ):
            result.problem(
                key,
                raw,
                _(
                    "Excel stored this ID number as a number and lost its last digits: "
                    "format the column as text and enter the number again."
                ),
            )
            return None
        text = clean_text(cell_text(raw), multiline=key in MULTILINE)
        return text or None

    def _int(self, result, key, raw):
        base = key.removeprefix(PREF)
        kind = "length" if base.startswith("height") else "weight" if base == "weight" else "count"
        value = parse_measure(raw, kind)
        if value is None:
            examples = {
                "length": "175、175cm、1.75米",
                "weight": "60、60kg、120斤",
                "count": "0、1、2",
            }[kind]
            result.problem(
                key,
                raw,
                _("“%(value)s” is not a number we can read; write it like %(examples)s.")
                % {"value": quote(cell_text(raw)), "examples": examples},
            )
        return value

    def _date(self, result, key, raw):
        value = parse_date(raw)
        if value is None:
            result.problem(
                key,
                raw,
                _("“%(value)s” is not a date; write it like 1990-05-03 or 1990年5月3日.")
                % {"value": quote(cell_text(raw))},
            )
        return value

    def _choice(self, result, key, raw):
        text = clean_text(cell_text(raw))
        value = self.choices.get(key, text)
        if value is None and key == "marital_status":
            value = self._marital_with_children(text)
        if value is None and key in ("annual_income", "monthly_income"):
            value = self._income(result, key, raw)
        if value is None and key == "children" and _key(text) in {"有", "有孩", "有孩子", "是"}:
            result.extras["has_children"] = True
            labels = dict(self.choices.values(key))
            result.problem(
                key,
                raw,
                _(
                    "“%(value)s” does not say whether the children live with the member; "
                    "write “%(with_me)s” or “%(not_with_me)s”."
                )
                % {
                    "value": quote(text),
                    "with_me": self._label(key, labels[c.ChildrenStatus.LIVES_WITH_ME]),
                    "not_with_me": self._label(key, labels[c.ChildrenStatus.NOT_WITH_ME]),
                },
            )
            return None
        if value is None:
            self._not_allowed(result, key, raw, text)
        elif key == "marital_status":
            result.extras["marital_children"] = self._children_said(text)
        return value

    def _label(self, key, value) -> str:
        for v, label in self.forms.field(key).choices:
            if v == value:
                return str(label)
        return str(value)

    def _not_allowed(self, result, key, raw, text):
        header = str(HEADERS.get(key, key))
        if key == "ethnicity":
            message = _("“%(value)s” is not an ethnic group we know (%(column)s).") % {
                "value": quote(text),
                "column": header,
            }
        elif key in ("annual_income", "monthly_income"):
            message = _(
                "“%(value)s” is not an amount or a band of %(column)s; write an amount such as "
                "8000 or 1万-2万元, or one of: %(allowed)s."
            ) % {
                "value": quote(text),
                "column": header,
                "allowed": "、".join(self.choices.labels(key)),
            }
        else:
            message = _("“%(value)s” is not a value of %(column)s; use one of: %(allowed)s.") % {
                "value": quote(text),
                "column": header,
                "allowed": "、".join(self.choices.labels(key)),
            }
        result.problem(key, raw, message)

    def _children_said(self, text) -> str | None:
        """What a marital-status cell says about children: "with_me", "has_children", "none"."""
        key = _key(text)
        return next((said for word, said in self.children_words if word in key), None)

    def _marital_with_children(self, text):
        """ "离异带孩", "离异无孩": the status without the words about children."""
        key = _key(text)
        for word, _said in self.children_words:
            if word in key:
                stripped = key.replace(word, "").strip("，,、()（）")
                value = self.choices.get("marital_status", stripped)
                if value is not None:
                    return value
        return None

    def _children_from_marital(self, result, given) -> None:
        """ "离异带孩" fills 小孩情况 (the child lives with the member) when the file has no such
        cell; "离异有孩" says there are children but not where: a problem on 小孩情况."""
        said = result.extras.pop("marital_children", None)
        if said is None:
            return
        result.extras["has_children"] = said != "none"
        if "children" in given:
            return
        if said == "has_children":
            raw = given["marital_status"]
            result.problem(
                "children",
                raw,
                _(
                    "“%(value)s” says the member has children but not whether they live with "
                    "the member; fill in %(column)s."
                )
                % {"value": quote(cell_text(raw)), "column": HEADERS["children"]},
            )
        else:
            result.values["children"] = (
                c.ChildrenStatus.LIVES_WITH_ME if said == "with_me" else c.ChildrenStatus.NONE
            )

    def _income(self, result, key, raw):
        parsed = parse_amount(raw)
        if parsed is None:
            return None
        amount, bound = parsed
        annual = key == "annual_income"
        if annual and amount < 1000:  # "15" in a 年收入 column means 15万
            amount *= 10000
        if bound == "below":
            amount = max(Decimal(0), amount - 1)
        if not annual:
            result.extras["monthly_amount"] = amount
            return int(c.MonthlyIncome.for_amount(amount))
        return int(c.AnnualIncome.for_amount(amount))

    def _multi(self, result, key, raw):
        values = []
        for part in _MULTI_SPLIT.split(clean_text(cell_text(raw))):
            if not part:
                continue
            value = self.choices.get(key, part)
            if value is None:
                self._not_allowed(result, key, raw, part)
            elif value not in values:
                values.append(value)
        return values or None

    def _region(self, result, key, raw):
        text = clean_text(cell_text(raw))
        resolved = self.regions.resolve(text, address=key == "region")
        if resolved.code is None:
            self._region_problem(result, key, raw, text, resolved)
            return None
        if resolved.rest and key == "region":
            result.extras.setdefault("address", resolved.rest)
        return self.regions.at_most(resolved.code, self.forms.field(key).max_level)

    def _region_problem(self, result, key, raw, text, resolved) -> None:
        if resolved.problem == "ambiguous":
            message = _(
                "More than one region is called “%(value)s”: add the province and city, or "
                "enter the 6-digit code."
            ) % {"value": quote(resolved.names[0])}
        elif resolved.problem == "misplaced":
            message = _("“%(part)s” is not in “%(whole)s”.") % {
                "part": resolved.names[0],
                "whole": resolved.names[1],
            }
        else:
            message = _(
                "Unknown region “%(value)s”: write it from the province down, e.g. “广东 广州 "
                "天河区”, or as a 6-digit region code."
            ) % {"value": quote(text)}
        result.problem(key, raw, message)

    # --- Pseudo fields ---

    def _ranges(self, result, given) -> None:
        """ "25-35", "25岁以上", "35以下" in one cell → the preference's lower and upper bound."""
        for key, name in RANGES.items():
            if key not in given:
                continue
            raw = given[key]
            lo_key, hi_key = f"{PREF}{name}_min", f"{PREF}{name}_max"
            if self._means_any(raw):
                result.values.setdefault(lo_key, None)
                result.values.setdefault(hi_key, None)
                continue
            kind = "length" if name == "height" else "count"
            text = unicodedata.normalize("NFKC", cell_text(raw)).strip().lower()
            text = re.sub(r"(岁|周岁)", "", text)
            low = high = None
            match = _RANGE.match(text)
            if match:
                a, unit_a, b, unit_b = match.groups()
                low = parse_measure(a + (unit_a or unit_b), kind)
                high = parse_measure(b + (unit_b or unit_a), kind)
            elif _ABOVE.search(text):
                low = parse_measure(_ABOVE.sub("", text).strip(), kind)
            elif _BELOW.search(text):
                high = parse_measure(_BELOW.sub("", text).strip(), kind)
            if low is None and high is None:
                result.problem(
                    key,
                    raw,
                    _("“%(value)s” is not a range we can read; write it like 25-35.")
                    % {"value": quote(cell_text(raw))},
                )
                continue
            if low is not None:
                result.values.setdefault(lo_key, low)
            if high is not None:
                result.values.setdefault(hi_key, high)

    def _location(self, result, given) -> None:
        """Province, city and county in columns of their own, or a full address."""
        parts = [(k, clean_text(cell_text(given[k]))) for k in REGION_PARTS if k in given]
        if parts and "region" not in given:
            text = " ".join(t for _k, t in parts)
            key = parts[-1][0]
            resolved = self.regions.resolve(text)
            if resolved.code is None:
                self._region_problem(result, key, text, text, resolved)
            else:
                result.values["region"] = resolved.code
        # A full address, in its own column or in the street-address field: the region it
        # starts with (unless the file gives the region otherwise) and the street after it.
        for key in (ADDRESS, "address"):
            if key not in given:
                continue
            text = clean_text(cell_text(given[key]))
            resolved = self.regions.resolve(text, address=True)
            if resolved.code is not None:
                if "region" not in result.values and "region" not in given and not parts:
                    result.values["region"] = resolved.code
                result.extras["address"] = resolved.rest
            else:
                result.extras["address"] = text
                if key == ADDRESS and "region" not in given and not parts:
                    self._region_problem(result, ADDRESS, text, text, resolved)
            break
