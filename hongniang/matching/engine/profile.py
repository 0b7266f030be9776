"""Plain-data input of the engine: a member's attributes and mate preferences.

Every field documents its encoding; ``None`` always means "unknown" for an attribute and
"no preference" for a preference.  The Django adapter builds these from Member rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Final

# --- attribute vocabularies -------------------------------------------------------------------

SEXES: Final = ("M", "F")

# Education is an ordinal level; a preference "minimum education" compares levels.
EDU_NONE: Final = 0  # none / primary school
EDU_JUNIOR_HIGH: Final = 1  # 初中
EDU_HIGH_SCHOOL: Final = 2  # 高中 / 中专 / vocational
EDU_JUNIOR_COLLEGE: Final = 3  # 大专
EDU_BACHELOR: Final = 4  # 本科
EDU_MASTER: Final = 5  # 硕士
EDU_DOCTORATE: Final = 6  # 博士
EDUCATION_LEVELS: Final = tuple(range(7))

# Annual income bands (RMB); the value is the band index.
INCOME_BANDS: Final = (
    (0, 30_000),  # 0: < 3万
    (30_000, 50_000),  # 1: 3–5万
    (50_000, 80_000),  # 2: 5–8万
    (80_000, 120_000),  # 3: 8–12万
    (120_000, 200_000),  # 4: 12–20万
    (200_000, 300_000),  # 5: 20–30万
    (300_000, 500_000),  # 6: 30–50万
    (500_000, None),  # 7: ≥ 50万
)

MARITAL_STATUSES: Final = ("single", "divorced", "widowed", "married")
# 'married' members are never matched; it exists so the adapter can pass the data through.

CHILDREN_STATUSES: Final = ("none", "not_with_me", "with_me")
# none: no children; not_with_me: has children who live elsewhere; with_me: has children at home.

# Smoking and drinking frequency, ordinal.
HABIT_NEVER: Final = 0
HABIT_SOMETIMES: Final = 1  # occasionally / socially
HABIT_OFTEN: Final = 2
HABIT_LEVELS: Final = (HABIT_NEVER, HABIT_SOMETIMES, HABIT_OFTEN)

# Ethnicity: GB 3304 numeric code (1 汉族 … 56 基诺族, 97 其他, 98 外国血统).
ETHNICITY_HAN: Final = 1

RELIGION_NONE: Final = 0
RELIGION_BUDDHISM: Final = 1
RELIGION_TAOISM: Final = 2
RELIGION_ISLAM: Final = 3
RELIGION_PROTESTANT: Final = 4
RELIGION_CATHOLIC: Final = 5
RELIGION_OTHER: Final = 6
RELIGIONS: Final = tuple(range(7))

STATUSES: Final = (
    "active",
    "paused",
    "expired",
    "hidden",
    "completed",
    "abandoned",
    "not_offered",
)
# Only 'active' members (with hidden=False) are recommended or get recommendations.
# completed: the service ended (success or not); abandoned: the agency gave the lead up;
# not_offered: the agency's candidate setting leaves members in this state out.

MAX_IMPORTANCE: Final = 3

# Plausible bounds of the numeric attributes (inclusive); anything outside is an input error.
HEIGHT_RANGE: Final = (50, 260)  # cm
WEIGHT_RANGE: Final = (20, 300)  # kg
BIRTH_YEARS: Final = (1900, 2100)
ETHNICITY_RANGE: Final = (1, 98)


# --- preferences -------------------------------------------------------------------------------


def _check_weight(must: bool, importance: int) -> None:
    if not isinstance(must, bool):
        raise ValueError(f"must must be a bool, got {must!r}")
    if not isinstance(importance, int) or not 0 <= importance <= MAX_IMPORTANCE:
        raise ValueError(f"importance must be an int in 0..{MAX_IMPORTANCE}, got {importance!r}")


@dataclass(frozen=True, slots=True)
class RangePref:
    """Inclusive range on a number (age in years, height in cm, weight in kg).

    ``low``/``high`` may be None for an open end.  ``must`` makes it a hard rule; otherwise
    ``importance`` (0 = don't care … 3 = very important) weighs it in the fit.
    """

    low: int | None = None
    high: int | None = None
    must: bool = False
    importance: int = 1

    def __post_init__(self) -> None:
        _check_weight(self.must, self.importance)
        if self.low is None and self.high is None:
            raise ValueError("RangePref needs low or high")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"RangePref low {self.low} > high {self.high}")


@dataclass(frozen=True, slots=True)
class MinPref:
    """At least ``minimum`` on an ordinal scale (education level, income band)."""

    minimum: int
    must: bool = False
    importance: int = 1

    def __post_init__(self) -> None:
        _check_weight(self.must, self.importance)


@dataclass(frozen=True, slots=True)
class MaxPref:
    """At most ``maximum`` on an ordinal scale (smoking, drinking: 0 never … 2 often)."""

    maximum: int
    must: bool = False
    importance: int = 1

    def __post_init__(self) -> None:
        _check_weight(self.must, self.importance)


@dataclass(frozen=True, slots=True)
class ChoicePref:
    """The other person's value must be one of ``allowed`` (marital or children status)."""

    allowed: frozenset[str]
    must: bool = False
    importance: int = 1

    def __post_init__(self) -> None:
        _check_weight(self.must, self.importance)
        object.__setattr__(self, "allowed", frozenset(self.allowed))
        if not self.allowed:
            raise ValueError("ChoicePref.allowed is empty")


@dataclass(frozen=True, slots=True)
class RequiredPref:
    """The other person must have the thing (a car, a house)."""

    must: bool = False
    importance: int = 1

    def __post_init__(self) -> None:
        _check_weight(self.must, self.importance)


@dataclass(frozen=True, slots=True)
class RegionPref:
    """The other person lives in ``province`` (and ``city`` if given).

    Codes are GB/T 2260 six-digit codes (int, or a string of digits): province 440000,
    city 440300.  A county code is reduced to its city.  With ``hukou=True`` the other
    person's hukou province is compared instead of the residence (city is then ignored).
    A residence in the right province but another city earns partial credit.
    """

    province: int
    city: int | None = None
    hukou: bool = False
    must: bool = False
    importance: int = 1

    def __post_init__(self) -> None:
        _check_weight(self.must, self.importance)
        province = normalize_region_code(self.province, "province")
        city = normalize_region_code(self.city, "city")
        if province is None:
            raise ValueError("RegionPref.province is required")
        if city is not None and city // 10000 * 10000 != province:
            raise ValueError(f"city {city} is not in province {province}")
        object.__setattr__(self, "province", province // 10000 * 10000)
        object.__setattr__(self, "city", None if city is None else city // 100 * 100)


@dataclass(frozen=True, slots=True)
class SamePref:
    """The other person has the same value (ethnicity, religion)."""

    must: bool = False
    importance: int = 1

    def __post_init__(self) -> None:
        _check_weight(self.must, self.importance)


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a member wants in a partner; every criterion is optional (None = no preference).

    age: years; height: cm; weight: kg; education: minimum EDU_* level; income: minimum
    income band; marital / children: acceptable statuses; car / house: required;
    region: where the partner lives; smoking / drinking: maximum habit level;
    ethnicity / religion: same as mine.
    """

    age: RangePref | None = None
    height: RangePref | None = None
    weight: RangePref | None = None
    education: MinPref | None = None
    income: MinPref | None = None
    marital: ChoicePref | None = None
    children: ChoicePref | None = None
    car: RequiredPref | None = None
    house: RequiredPref | None = None
    region: RegionPref | None = None
    smoking: MaxPref | None = None
    drinking: MaxPref | None = None
    ethnicity: SamePref | None = None
    religion: SamePref | None = None

    def __post_init__(self) -> None:
        kinds = {
            "age": RangePref,
            "height": RangePref,
            "weight": RangePref,
            "education": MinPref,
            "income": MinPref,
            "marital": ChoicePref,
            "children": ChoicePref,
            "car": RequiredPref,
            "house": RequiredPref,
            "region": RegionPref,
            "smoking": MaxPref,
            "drinking": MaxPref,
            "ethnicity": SamePref,
            "religion": SamePref,
        }
        for name, kind in kinds.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise ValueError(f"Preferences.{name} must be {kind.__name__} or None")
        if self.education is not None and self.education.minimum not in EDUCATION_LEVELS:
            raise ValueError(f"education minimum {self.education.minimum} not in 0..6")
        if self.income is not None and not 0 <= self.income.minimum < len(INCOME_BANDS):
            raise ValueError(f"income minimum {self.income.minimum} not a band")
        if self.marital is not None and not self.marital.allowed <= set(MARITAL_STATUSES):
            raise ValueError(f"unknown marital status in {sorted(self.marital.allowed)}")
        if self.children is not None and not self.children.allowed <= set(CHILDREN_STATUSES):
            raise ValueError(f"unknown children status in {sorted(self.children.allowed)}")
        for habit in (self.smoking, self.drinking):
            if habit is not None and habit.maximum not in HABIT_LEVELS:
                raise ValueError(f"habit maximum {habit.maximum} not in 0..2")
        for rng, lo, hi in ((self.age, 0, 120), (self.height, 50, 260), (self.weight, 20, 300)):
            if rng is not None:
                for bound in (rng.low, rng.high):
                    if bound is not None and not lo <= bound <= hi:
                        raise ValueError(f"range bound {bound} outside {lo}..{hi}")


# --- profile -------------------------------------------------------------------------------------


def normalize_region_code(value: int | str | None, what: str) -> int | None:
    """GB/T 2260 code as int (accepts a digit string); None stays None."""
    if value is None or value == "":
        return None
    code = int(value)
    if not 110000 <= code <= 829999:
        raise ValueError(f"{what} {value!r} is not a six-digit GB/T 2260 code")
    return code


def _tags(values: Iterable[str]) -> frozenset[str]:
    if isinstance(values, str):
        raise ValueError("tags must be an iterable of strings, not a string")
    return frozenset(v.strip().lower() for v in values if v and v.strip())


@dataclass(frozen=True, slots=True)
class Profile:
    """One member as the engine sees it.

    id: the member's primary key.
    sex: 'M' or 'F'.
    birth_date: date of birth; ages are computed against the engine's ``today``.
    height_cm, weight_kg: int or None (unknown).
    education: EDU_* level 0..6 or None.
    income: income band index 0..7 (see INCOME_BANDS) or None.
    marital: 'single' | 'divorced' | 'widowed' | 'married'.
    children: 'none' | 'not_with_me' | 'with_me' or None.
    province, city: residence, GB/T 2260 six-digit codes (440000, 440300); the province is
        derived from the city when omitted.  hukou_province: the same coding.
    house, car: True / False / None.
    smoking, drinking: 0 never, 1 sometimes, 2 often, or None.
    ethnicity: GB 3304 code (1 = Han) or None.  religion: RELIGION_* 0..6 or None.
    hobbies, personality: tags such as '旅游', '开朗'.
    about: free self-description (Chinese), tokenised with jieba.
    status: 'active' | 'paused' | 'expired' | 'hidden' | 'completed' | 'abandoned' |
        'not_offered' (only
        'active' is matched); hidden: extra flag, True hides too.
    prefs: the member's Preferences.
    """

    id: int
    sex: str
    birth_date: date
    height_cm: int | None = None
    weight_kg: int | None = None
    education: int | None = None
    income: int | None = None
    marital: str = "single"
    children: str | None = "none"
    province: int | None = None
    city: int | None = None
    hukou_province: int | None = None
    house: bool | None = None
    car: bool | None = None
    smoking: int | None = None
    drinking: int | None = None
    ethnicity: int | None = None
    religion: int | None = None
    hobbies: frozenset[str] = field(default_factory=frozenset)
    personality: frozenset[str] = field(default_factory=frozenset)
    about: str = ""
    status: str = "active"
    hidden: bool = False
    prefs: Preferences = field(default_factory=Preferences)

    def __post_init__(self) -> None:
        if not isinstance(self.id, int) or self.id < 0:
            raise ValueError(f"id must be a non-negative int, got {self.id!r}")
        if self.sex not in SEXES:
            raise ValueError(f"sex must be 'M' or 'F', got {self.sex!r}")
        if not isinstance(self.birth_date, date):
            raise ValueError("birth_date must be a datetime.date")
        if not BIRTH_YEARS[0] <= self.birth_date.year <= BIRTH_YEARS[1]:
            raise ValueError(f"birth_date {self.birth_date} out of range")
        if self.height_cm is not None and not HEIGHT_RANGE[0] <= self.height_cm <= HEIGHT_RANGE[1]:
            raise ValueError(f"height_cm {self.height_cm} out of range 50..260")
        if self.weight_kg is not None and not WEIGHT_RANGE[0] <= self.weight_kg <= WEIGHT_RANGE[1]:
            raise ValueError(f"weight_kg {self.weight_kg} out of range 20..300")
        if self.education is not None and self.education not in EDUCATION_LEVELS:
            raise ValueError(f"education {self.education} not in 0..6")
        if self.income is not None and not 0 <= self.income < len(INCOME_BANDS):
            raise ValueError(f"income band {self.income} not in 0..7")
        if self.marital not in MARITAL_STATUSES:
            raise ValueError(f"marital {self.marital!r} not in {MARITAL_STATUSES}")
        if self.children is not None and self.children not in CHILDREN_STATUSES:
            raise ValueError(f"children {self.children!r} not in {CHILDREN_STATUSES}")
        for name in ("smoking", "drinking"):
            value = getattr(self, name)
            if value is not None and value not in HABIT_LEVELS:
                raise ValueError(f"{name} {value} not in 0..2")
        lo, hi = ETHNICITY_RANGE
        if self.ethnicity is not None and not lo <= self.ethnicity <= hi:
            raise ValueError(f"ethnicity {self.ethnicity} is not a GB 3304 code")
        if self.religion is not None and self.religion not in RELIGIONS:
            raise ValueError(f"religion {self.religion} not in 0..6")
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")
        if not isinstance(self.prefs, Preferences):
            raise ValueError("prefs must be a Preferences")
        city = normalize_region_code(self.city, "city")
        province = normalize_region_code(self.province, "province")
        if province is None and city is not None:
            province = city
        hukou = normalize_region_code(self.hukou_province, "hukou_province")
        object.__setattr__(self, "city", None if city is None else city // 100 * 100)
        object.__setattr__(
            self, "province", None if province is None else province // 10000 * 10000
        )
        object.__setattr__(
            self, "hukou_province", None if hukou is None else hukou // 10000 * 10000
        )
        object.__setattr__(self, "hobbies", _tags(self.hobbies))
        object.__setattr__(self, "personality", _tags(self.personality))
        object.__setattr__(self, "about", self.about or "")

    @property
    def recommendable(self) -> bool:
        """Whether status alone allows matching (rules on age and marriage apply on top)."""
        return self.status == "active" and not self.hidden and self.marital != "married"


def age_on(birth: date, today: date) -> int:
    """Completed years between ``birth`` and ``today``."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
