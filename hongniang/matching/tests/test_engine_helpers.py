"""Builders shared by the matching-engine tests (this module holds no tests).

The engine tests need neither Django nor a database.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hongniang.matching.engine import (
    EDU_BACHELOR,
    Engine,
    EngineConfig,
    Preferences,
    Profile,
)

TODAY = date(2025, 6, 1)


def born(age: int, days_before_birthday: int = 100) -> date:
    """A birth date giving exactly ``age`` completed years on TODAY."""
    return date(TODAY.year - age, TODAY.month, TODAY.day) - timedelta(days=days_before_birthday)


def person(member_id: int, sex: str = "F", age: int = 28, **fields: Any) -> Profile:
    """A plausible active member; any Profile field can be overridden."""
    defaults: dict[str, Any] = {
        "height_cm": 175 if sex == "M" else 163,
        "weight_kg": 70 if sex == "M" else 52,
        "education": EDU_BACHELOR,
        "income": 3,
        "marital": "single",
        "children": "none",
        "city": 440300,
        "hukou_province": 440000,
        "house": False,
        "car": False,
        "smoking": 0,
        "drinking": 0,
        "ethnicity": 1,
        "religion": 0,
        "prefs": Preferences(),
    }
    defaults.update(fields)
    return Profile(id=member_id, sex=sex, birth_date=born(age), **defaults)


def build(*profiles: Profile, config: EngineConfig | None = None, **kwargs: Any) -> Engine:
    return Engine.build(list(profiles), config or EngineConfig(), today=TODAY, **kwargs)


def ids(results: list) -> list[int]:
    return [r.candidate_id for r in results]
