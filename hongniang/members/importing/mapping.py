"""Which column of an uploaded file holds which member field.

``guess_mapping(headers, sample_rows)`` proposes one field (or None: skip) per column, first from
the header (the template's headers in any language and the synonyms in
``members/data/import_synonyms.toml``), then, for columns whose header says nothing, from the
values themselves (11-digit mobiles, 18-character ID numbers, 男/女, dates, regions, heights …).
The clerk confirms or changes the guess on the mapping screen, and may save it under a name
(:class:`~hongniang.members.models.ImportMapping`) to reuse for the next file with the same
headers.
"""

import hashlib
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.members.excel import COLUMNS, HEADERS, _Forms
from hongniang.members.importing import synonyms
from hongniang.members.importing.addresses import RegionResolver
from hongniang.members.importing.normalise import (
    ADDRESS,
    PSEUDO_KEYS,
    REGION_PARTS,
    RowNormaliser,
    parse_date,
    parse_measure,
)
from hongniang.members.importing.sources import cell_text
from hongniang.members.models import ImportMapping

PSEUDO_LABELS = {
    "region_province": gettext_lazy("Location: province"),
    "region_city": gettext_lazy("Location: city"),
    "region_county": gettext_lazy("Location: district / county"),
    ADDRESS: gettext_lazy("Full address (region and street)"),
    "pref-age_range": gettext_lazy("Partner age range (e.g. 25-35)"),
    "pref-height_range": gettext_lazy("Partner height range (e.g. 165-180)"),
}
# Every target of a column: the template's columns, then the pseudo fields.
FIELDS = [key for _h, key in COLUMNS] + list(PSEUDO_KEYS)
assert set(PSEUDO_LABELS) == set(PSEUDO_KEYS)

# Fields the value guesser may propose, in the order it tries them.
_GUESSABLE_CHOICES = (
    "marital_status",
    "education",
    "house",
    "car",
    "blood_type",
    "ethnicity",
    "occupation",
    "religion",
    "smoking",
    "drinking",
)
_SHARE = 0.8  # the share of a column's sample values that must fit a guess
_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_DATE_TEXT = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|^\d{8}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def field_label(key: str) -> str:
    return str(PSEUDO_LABELS.get(key) or HEADERS.get(key) or key)


def field_choices() -> list[tuple[str, str]]:
    """``[(key, label)]`` for the mapping screen's selects."""
    return [(key, field_label(key)) for key in FIELDS]


def required_fields() -> list[str]:
    return _Forms().required()


def missing_required(mapping: list[str | None]) -> list[str]:
    """Required fields no column is mapped to. The location may come from its parts (any of
    province, city, county) or a full address; the birthday is not required (the ID has it)."""
    mapped = {key for key in mapping if key}
    if mapped & {*REGION_PARTS, ADDRESS}:
        mapped.add("region")
    return [key for key in required_fields() if key not in mapped]


def duplicated(mapping: list[str | None]) -> list[str]:
    """Fields more than one column is mapped to."""
    seen, twice = set(), []
    for key in mapping:
        if key and key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return twice


def headers_signature(headers: list[str]) -> str:
    """One string for a header list, equal for files whose headers differ only in spacing,
    width or case (what a saved mapping is matched by)."""
    joined = "\x1f".join(synonyms.word_key(h) for h in headers)
    return hashlib.sha256(joined.encode()).hexdigest()


# --- Guessing ---------------------------------------------------------------------------------


@dataclass
class _Column:
    values: list  # non-blank sample values

    def share(self, test) -> float:
        if not self.values:
            return 0.0
        return sum(1 for v in self.values if test(v)) / len(self.values)

    def texts(self) -> list[str]:
        return [cell_text(v) for v in self.values]


def _compact(value) -> str:
    return _SEPARATORS.sub("", cell_text(value))


def _is_measure(kind: str, low: int, high: int):
    def test(value) -> bool:
        number = parse_measure(value, kind)
        return number is not None and low <= number <= high

    return test


def _is_birthday(value) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = cell_text(value)
        if not re.fullmatch(r"\d{8}", text):  # a bare number is a date only as yyyymmdd
            return False
    elif isinstance(value, str) and not _DATE_TEXT.search(value):
        return False
    day = parse_date(value)
    return day is not None and 1920 <= day.year <= 2015


class Guesser:
    """Guesses a column's field from its values; keeps its lookups for several columns."""

    def __init__(self, normaliser: RowNormaliser | None = None, regions=None):
        self._normaliser = normaliser
        self._regions = regions

    @property
    def normaliser(self) -> RowNormaliser:
        if self._normaliser is None:
            self._normaliser = RowNormaliser()
            if self._regions is not None:
                self._normaliser._regions = self._regions
        return self._normaliser

    @property
    def regions(self) -> RegionResolver:
        return self.normaliser.regions

    def _is_choice(self, key: str, value) -> bool:
        result = self.normaliser.normalise({key: value})
        return key in result.values and not result.problems

    def candidates(self, values: list) -> list[str]:
        """Fields the values fit, best first."""
        column = _Column([v for v in values if v is not None and cell_text(v)])
        if not column.values:
            return []
        found: list[tuple[float, str]] = []

        def consider(key, share):
            if share >= _SHARE:
                found.append((share, key))

        consider("mobile", column.share(lambda v: bool(_MOBILE.match(_compact(v)))))
        consider("id_number", column.share(lambda v: bool(_ID_NUMBER.match(_compact(v)))))
        consider("email", column.share(lambda v: bool(_EMAIL.match(cell_text(v)))))
        consider("birthday", column.share(_is_birthday))
        texts = [t for t in column.texts() if not t.replace(".", "").isdigit()]
        if len(texts) == len(column.values):  # words, not numbers: choices and regions
            for key in ("sex", *_GUESSABLE_CHOICES):
                consider(key, column.share(lambda v, k=key: self._is_choice(k, v)))
            resolved = [self.regions.resolve(t, address=True) for t in texts]
            in_region = sum(r.code is not None for r in resolved) / len(resolved)
            with_street = sum(bool(r.rest) for r in resolved) / len(resolved)
            consider(ADDRESS if with_street >= 0.5 else "region", in_region)
        consider("height", column.share(_is_measure("length", 140, 210)))
        consider("weight", column.share(_is_measure("weight", 35, 130)))
        found.sort(key=lambda item: -item[0])  # stable: ties keep the order above
        return [key for _share, key in found]


def guess_mapping(
    headers: list[str], sample_rows: list[list], guesser: Guesser | None = None
) -> list[str | None]:
    """One field key (or None: skip) per column: by header first, then by values; no field is
    proposed for two columns."""
    mapping: list[str | None] = [None] * len(headers)
    used: set[str] = set()
    for i, header in enumerate(headers):
        key = synonyms.header_key(header)
        if key and key not in used:
            mapping[i] = key
            used.add(key)
    guesser = guesser or Guesser()
    for i in range(len(headers)):
        if mapping[i] is not None:
            continue
        values = [row[i] for row in sample_rows if i < len(row)]
        for key in guesser.candidates(values):
            if key not in used and not (key == "region" and used & set(REGION_PARTS)):
                mapping[i] = key
                used.add(key)
                break
    return mapping


def clean_mapping(mapping: list, width: int) -> list[str | None]:
    """A mapping from a form or the session: known keys or None, as long as the header list."""
    known = set(FIELDS)
    cleaned = [key if key in known else None for key in list(mapping)[:width]]
    return cleaned + [None] * (width - len(cleaned))


# --- Saved mappings ----------------------------------------------------------------------------


def mappings_of(actor):
    """The saved mappings ``actor`` may use: their own and those of their store, newest first
    (only their own may they rename and delete)."""
    scope = Q(created_by=actor)
    if getattr(actor, "store_id", None):
        scope |= Q(store_id=actor.store_id)
    return ImportMapping.objects.filter(scope).order_by("-updated_at", "-pk")


def saved_mappings_for(actor, headers: list[str]):
    """Saved mappings made for the same headers, that ``actor`` may use, newest first."""
    return mappings_of(actor).filter(signature=headers_signature(headers))


def rename_mapping(mapping: ImportMapping, name: str) -> ImportMapping:
    """Give a saved mapping (one of ``mappings_of``) a new name; ValidationError when it is
    empty or its maker already has a mapping of that name."""
    name = name.strip()[:60]
    if not name:
        raise ValidationError(_("Enter a name."), code="required")
    taken = ImportMapping.objects.filter(created_by_id=mapping.created_by_id, name=name).exclude(
        pk=mapping.pk
    )
    if taken.exists():
        raise ValidationError(
            _("There is already a saved mapping called “%(name)s”.") % {"name": name},
            code="taken",
        )
    mapping.name = name
    mapping.save(update_fields=["name", "updated_at"])
    return mapping


def delete_mapping(mapping: ImportMapping) -> None:
    """Delete a saved mapping (one of ``mappings_of``): files already imported keep their rows."""
    mapping.delete()


def save_mapping(actor, name: str, headers: list[str], mapping: list[str | None]):
    """Save (or replace the actor's own mapping of that name) for reuse; returns it."""
    name = name.strip()[:60]
    with transaction.atomic():
        saved, _created = ImportMapping.objects.update_or_create(
            created_by=actor,
            name=name,
            defaults={
                "store_id": getattr(actor, "store_id", None),
                "headers": list(headers),
                "signature": headers_signature(headers),
                "mapping": clean_mapping(mapping, len(headers)),
            },
        )
    return saved
