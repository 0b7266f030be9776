"""Reference lists that are data rather than choice classes: the ethnic groups of GB 3304-91.

The list lives in ``data/ethnic_groups.json`` (56 groups, 01 汉族 … 56 基诺族, plus 97 其他 and
98 外国血统); a member stores the two-digit code. The administrative regions are in ``regions``.
"""

import json
from functools import cache
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.utils.translation import get_language

ETHNIC_GROUPS_FILE = Path(__file__).resolve().parent / "data" / "ethnic_groups.json"
HAN = "01"


class EthnicGroup(NamedTuple):
    code: str
    name: str  # Chinese, as in GB 3304-91
    name_en: str


@cache
def ethnic_groups() -> tuple[EthnicGroup, ...]:
    """Every ethnic group in code order (read from the JSON file once per process)."""
    with ETHNIC_GROUPS_FILE.open(encoding="utf-8") as f:
        return tuple(EthnicGroup(**row) for row in json.load(f))


def _chinese_active() -> bool:
    return (get_language() or settings.LANGUAGE_CODE).lower().startswith("zh")


@cache
def _choices(chinese: bool) -> tuple[tuple[str, str], ...]:
    return tuple((g.code, g.name if chinese else g.name_en) for g in ethnic_groups())


def ethnic_group_choices() -> list[tuple[str, str]]:
    """``[(code, name)]`` with Chinese names when the active language is Chinese, else English.

    Pass the function itself, not its result, so the language is the request's:
    ``models.CharField(max_length=2, choices=ethnic_group_choices)`` (Django 5 accepts callables).
    """
    return list(_choices(_chinese_active()))


def ethnic_group_name(code: str) -> str:
    """The localized name of a code, or ``""`` for an unknown or empty code."""
    return dict(_choices(_chinese_active())).get(code, "")
