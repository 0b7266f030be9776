"""The import's vocabulary, read from ``members/data/import_synonyms.toml``: header synonyms,
per-field value synonyms, unit factors and the words for "any" and "not filled in".

Words are compared by :func:`word_key` (no spaces, lower case, full-width made half-width), so the
file lists each word once.
"""

import re
import tomllib
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import translation

from hongniang.members.excel import COLUMNS

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "data" / "import_synonyms.toml"

# Bracketed notes and marks around a header: "身高(cm)", "姓名*", "【手机】", "出生日期:".
_HEADER_NOTES = re.compile(r"[(（\[【<《].*?[)）\]】>》]")
_HEADER_MARKS = re.compile(r"^[*＊#\s]+|[*＊:：\s]+$")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def _word_key(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def word_key(text) -> str:
    """The form in which two spellings of a word compare equal."""
    return _word_key(str(text))


@cache
def data() -> dict:
    """The parsed file (once per process; restart the workers after editing it)."""
    with SYNONYMS_FILE.open("rb") as f:
        return tomllib.load(f)


def choice_synonyms(key: str) -> dict[str, str]:
    """``{word key: stored value as text}`` for a choice field (a ``pref-`` key uses the table of
    its field: ``pref-education_min`` that of ``education``)."""
    table = data().get("choices", {}).get(_base_field(key), {})
    return {word_key(word): str(value) for value, words in table.items() for word in words}


def _base_field(key: str) -> str:
    key = key.removeprefix("pref-")
    return {"education_min": "education", "marital": "marital_status"}.get(key, key)


@cache
def word_set(section: str, name: str = "words") -> frozenset[str]:
    return frozenset(word_key(w) for w in data().get(section, {}).get(name, []))


@cache
def units(kind: str) -> dict[str, float]:
    """``{unit word key: factor}`` of ``[units.<kind>]``, longest unit first."""
    table = {word_key(u): float(f) for u, f in data().get("units", {}).get(kind, {}).items()}
    return dict(sorted(table.items(), key=lambda item: -len(item[0])))


def header_variants(text) -> list[str]:
    """The keys to look a header up by: as written, then without notes and marks."""
    full = word_key(text)
    bare = _HEADER_MARKS.sub("", _HEADER_NOTES.sub("", unicodedata.normalize("NFKC", str(text))))
    return list(dict.fromkeys(k for k in (full, word_key(bare)) if k))


@cache
def _header_index() -> dict[str, str]:
    # The template's own headers (in every language) and keys, then the file's synonyms.
    index: dict[str, str] = {}
    for lang, _name in settings.LANGUAGES:
        with translation.override(lang):
            for header, key in COLUMNS:
                for variant in header_variants(header):
                    index.setdefault(variant, key)
    for _header, key in COLUMNS:
        index.setdefault(word_key(key), key)
    for key, words in data().get("headers", {}).items():
        for word in words:
            for variant in header_variants(word):
                index.setdefault(variant, key)
    return index


def header_key(text) -> str | None:
    """The import field a header names, or None."""
    if text is None:
        return None
    index = _header_index()
    for variant in header_variants(text):
        if variant in index:
            return index[variant]
    return None
