"""Profile → one row of small integers, and the column layout of the store.

Every attribute and preference becomes a fixed-width integer so that scoring is plain
vectorised arithmetic over column slices.  Sentinels mean "unknown" / "no preference";
they are chosen so that the arithmetic needs no masks where possible (e.g. an open range
end of 0 / 127 always passes).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

import numpy as np

from .profile import CHILDREN_STATUSES, MARITAL_STATUSES, STATUSES, Profile

# Scored criteria, in a fixed order: the bit index in the ``must`` column.
CRITERIA: Final = (
    "age",
    "height",
    "weight",
    "education",
    "income",
    "marital",
    "children",
    "car",
    "house",
    "region",
    "smoking",
    "drinking",
    "ethnicity",
    "religion",
)
CRITERION_BIT: Final = {name: 1 << i for i, name in enumerate(CRITERIA)}

SEX_CODE: Final = {"M": 0, "F": 1}
SEX_OF_CODE: Final = ("M", "F")
STATUS_CODE: Final = {name: i for i, name in enumerate(STATUSES)}
HIDDEN_STATUS: Final = STATUS_CODE["hidden"]
MARITAL_CODE: Final = {name: i for i, name in enumerate(MARITAL_STATUSES)}
MARRIED: Final = MARITAL_CODE["married"]
CHILDREN_CODE: Final = {name: i for i, name in enumerate(CHILDREN_STATUSES)}

UNKNOWN: Final = -1  # ordinal attributes
NO_LOW: Final = 0
AGE_NO_HIGH: Final = 127
BODY_NO_HIGH: Final = 999
FB_NO_LOW: Final = -32768
FB_NO_HIGH: Final = 32767

TABLE_SCALE: Final = 60
MUST_FAILS: Final = 255
LEVELS: Final = {
    "education": ("edu", (0, 1, 2, 3, 4, 5, 6, -1)),
    "income": ("income", (0, 1, 2, 3, 4, 5, 6, 7, -1)),
    "smoking": ("smoke", (0, 1, 2, -1)),
    "drinking": ("drink", (0, 1, 2, -1)),
    "marital": ("marital", (0, 1, 2, 3)),
    "children": ("children", (0, 1, 2, -1)),
    "car": ("car", (0, 1, -1)),
    "house": ("house", (0, 1, -1)),
    "religion": ("rel", (0, 1, 2, 3, 4, 5, 6, -1)),
}
CODE_GROUPS: Final = {
    "code_a": ("education", "income", "smoking", "drinking"),
    "code_b": ("marital", "children", "car", "house", "religion"),
}
TABLE_COLUMNS: Final = tuple(
    f"t_{name}_{level}" for name, (_, values) in LEVELS.items() for level in range(len(values))
)


def level_of(name: str, value: np.ndarray | int) -> np.ndarray | int:
    """Level index of an attribute value (the last level is 'unknown')."""
    _, values = LEVELS[name]
    if isinstance(value, np.ndarray):
        return np.where(value < 0, len(values) - 1, value)
    return len(values) - 1 if value < 0 else value


def level_codes(cols: Mapping[str, np.ndarray | int]) -> dict[str, np.ndarray | int]:
    """The combined level codes of every row (candidate side of the A→B look-ups): of
    column arrays, or of one row given as Python ints."""
    out: dict[str, np.ndarray | int] = {}
    for code_name, group in CODE_GROUPS.items():
        code: np.ndarray | int = 0
        for name in group:
            attr, values = LEVELS[name]
            value = cols[attr]
            if isinstance(value, np.ndarray):
                value = value.astype(np.int64)
            code = code * len(values) + level_of(name, value)
        out[code_name] = code.astype(np.uint16) if isinstance(code, np.ndarray) else int(code)
    return out


# (name, dtype) in row order of ``encode``.
PROFILE_COLUMNS: Final = (
    ("sex", np.int8),
    ("birth", np.int32),  # yyyymmdd: age = (today_key - birth) // 10000, exactly
    ("status", np.int8),
    ("height", np.int16),  # 0 unknown
    ("weight", np.int16),  # 0 unknown
    ("edu", np.int8),  # -1 unknown
    ("income", np.int8),  # -1 unknown
    ("marital", np.int8),
    ("children", np.int8),  # -1 unknown
    ("house", np.int8),  # 1 yes, 0 no, -1 unknown
    ("car", np.int8),
    ("prov", np.int8),  # first two digits of the GB/T 2260 code, 0 unknown
    ("city", np.int16),  # first four digits, 0 unknown
    ("hukou", np.int8),
    ("smoke", np.int8),  # -1 unknown
    ("drink", np.int8),
    ("eth", np.int8),  # 0 unknown
    ("rel", np.int8),  # -1 unknown
    ("p_age_lo", np.int8),
    ("p_age_hi", np.int8),
    ("p_h_lo", np.int16),
    ("p_h_hi", np.int16),
    ("p_w_lo", np.int16),
    ("p_w_hi", np.int16),
    ("p_edu", np.int8),
    ("p_inc", np.int8),
    ("p_marital", np.uint8),  # bit i set: MARITAL_STATUSES[i] acceptable
    ("p_children", np.uint8),  # bit i set: CHILDREN_STATUSES[i] acceptable
    ("p_prov", np.int8),
    ("p_city", np.int16),  # 0: any city of the province
    ("p_hukou", np.int8),  # 1: compare the other's hukou province
    ("p_smoke", np.int8),
    ("p_drink", np.int8),
    *((f"imp_{name}", np.int8) for name in CRITERIA),  # 0 = no preference / don't care
    ("must", np.uint16),  # CRITERION_BIT flags
    ("imp_sum", np.int8),
)

# Learned from the member's own rejections and likes (see feedback.py); kept across upserts.
FEEDBACK_COLUMNS: Final = (
    ("fb_age_lo", np.int16),
    ("fb_age_hi", np.int16),
    ("fb_h_lo", np.int16),
    ("fb_h_hi", np.int16),
    ("fb_edu_lo", np.int16),
    ("fb_inc_lo", np.int16),
    ("fb_smoke_hi", np.int16),
    ("fb_drink_hi", np.int16),
)
FEEDBACK_EMPTY: Final = {
    name: (FB_NO_LOW if name.endswith("_lo") else FB_NO_HIGH) for name, _ in FEEDBACK_COLUMNS
}

# Derived from the profile columns by the engine (the tables depend on its configuration).
DERIVED_COLUMNS: Final = (
    ("code_a", np.uint16),
    ("code_b", np.uint16),
    *((name, np.uint8) for name in TABLE_COLUMNS),
)

ALL_COLUMNS: Final = PROFILE_COLUMNS + FEEDBACK_COLUMNS + DERIVED_COLUMNS

# What the recommend fast path reads; the sorted views copy only these.
FAST_COLUMNS: Final = (
    "birth",
    "height",
    "weight",
    "edu",
    "income",
    "marital",
    "children",
    "prov",
    "city",
    "hukou",
    "smoke",
    "drink",
    "eth",
    "code_a",
    "code_b",
    "p_age_lo",
    "p_age_hi",
    "p_h_lo",
    "p_h_hi",
    "p_w_lo",
    "p_w_hi",
    "p_prov",
    "p_city",
    "p_hukou",
    *(f"imp_{name}" for name in CRITERIA),
    "must",
    "imp_sum",
    *TABLE_COLUMNS,
)
COLUMN_DTYPES: Final = dict(ALL_COLUMNS)
PROFILE_COLUMN_NAMES: Final = tuple(name for name, _ in PROFILE_COLUMNS)
# What each profile column can hold; a row outside is refused instead of wrapping around.
_ROW_LOW: Final = np.array([np.iinfo(t).min for _, t in PROFILE_COLUMNS], dtype=np.int64)
_ROW_HIGH: Final = np.array([np.iinfo(t).max for _, t in PROFILE_COLUMNS], dtype=np.int64)


def rows_in_range(rows: list[tuple[int, ...]]) -> np.ndarray:
    """Which encoded rows fit their columns' dtypes (a bool per row)."""
    try:
        arr = np.asarray(rows, dtype=np.int64)
    except (OverflowError, ValueError, TypeError):  # a huge or odd value: look row by row
        return np.array([not out_of_range_columns(row) for row in rows], dtype=bool)
    return ((arr >= _ROW_LOW) & (arr <= _ROW_HIGH)).all(axis=1)


def out_of_range_columns(row: tuple[int, ...]) -> list[str]:
    """Names of the columns whose value does not fit (for the skip report)."""
    if len(row) != len(PROFILE_COLUMNS):
        return ["row length"]
    return [
        name
        for name, value, low, high in zip(PROFILE_COLUMN_NAMES, row, _LOWS, _HIGHS, strict=True)
        if not isinstance(value, int | np.integer) or not low <= value <= high
    ]


_LOWS: Final = _ROW_LOW.tolist()
_HIGHS: Final = _ROW_HIGH.tolist()


def birth_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def age_from_keys(today_key: int, birth: int) -> int:
    return (today_key - birth) // 10000


def _opt(value: int | bool | None, unknown: int = UNKNOWN) -> int:
    return unknown if value is None else int(value)


def _bits(values: frozenset[str], codes: dict[str, int]) -> int:
    out = 0
    for value in values:
        out |= 1 << codes[value]
    return out


def encode(p: Profile) -> tuple[int, ...]:
    """The profile as one row, in PROFILE_COLUMNS order."""
    pr = p.prefs
    imps = []
    must = 0
    imp_sum = 0
    for name in CRITERIA:
        pref = getattr(pr, name)
        imp = 0 if pref is None else pref.importance
        imps.append(imp)
        imp_sum += imp
        if pref is not None and pref.must:
            must |= CRITERION_BIT[name]
    age, height, weight = pr.age, pr.height, pr.weight
    region = pr.region
    status = HIDDEN_STATUS if p.hidden else STATUS_CODE[p.status]
    return (
        SEX_CODE[p.sex],
        birth_key(p.birth_date),
        status,
        _opt(p.height_cm, 0),
        _opt(p.weight_kg, 0),
        _opt(p.education),
        _opt(p.income),
        MARITAL_CODE[p.marital],
        UNKNOWN if p.children is None else CHILDREN_CODE[p.children],
        _opt(p.house),
        _opt(p.car),
        0 if p.province is None else p.province // 10000,
        0 if p.city is None else p.city // 100,
        0 if p.hukou_province is None else p.hukou_province // 10000,
        _opt(p.smoking),
        _opt(p.drinking),
        _opt(p.ethnicity, 0),
        _opt(p.religion),
        NO_LOW if age is None or age.low is None else age.low,
        AGE_NO_HIGH if age is None or age.high is None else age.high,
        NO_LOW if height is None or height.low is None else height.low,
        BODY_NO_HIGH if height is None or height.high is None else height.high,
        NO_LOW if weight is None or weight.low is None else weight.low,
        BODY_NO_HIGH if weight is None or weight.high is None else weight.high,
        0 if pr.education is None else pr.education.minimum,
        0 if pr.income is None else pr.income.minimum,
        0 if pr.marital is None else _bits(pr.marital.allowed, MARITAL_CODE),
        0 if pr.children is None else _bits(pr.children.allowed, CHILDREN_CODE),
        0 if region is None else region.province // 10000,
        0 if region is None or region.city is None else region.city // 100,
        0 if region is None else int(region.hukou),
        2 if pr.smoking is None else pr.smoking.maximum,
        2 if pr.drinking is None else pr.drinking.maximum,
        *imps,
        must,
        imp_sum,
    )


def has_preference(row_imp: int, row_must: int, name: str) -> bool:
    return row_imp > 0 or bool(row_must & CRITERION_BIT[name])
