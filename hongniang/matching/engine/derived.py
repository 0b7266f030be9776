"""The derived columns of single rows (level codes, acceptance tables), memoised.

An upsert writes one row.  Computing its acceptance tables with the vectorised code costs
about a millisecond of numpy calls on one-element arrays — most of an upsert.  Each
criterion's table depends only on the few columns its credit function reads (and the row's
must bit for it), so it is cached per criterion on those values; the columns are found once,
by watching which ones the credit function reads.  Agencies' members share a small number
of preference combinations, so after a few upserts almost every row is a cache hit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np

from .config import EngineConfig
from .encoding import CRITERION_BIT, LEVELS, level_codes
from .scoring import CREDIT, acceptance_tables

_LIMIT: Final = 65_536  # cached entries per criterion before the cache starts over


class _Watched(dict):
    """A row that remembers which columns were read."""

    def __init__(self, row: Mapping[str, np.ndarray]) -> None:
        super().__init__(row)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> np.ndarray:
        self.read.add(key)
        return super().__getitem__(key)


class DerivedRows:
    """Derived columns of one row at a time, for one engine configuration."""

    def __init__(self, config: EngineConfig, names: tuple[str, ...]) -> None:
        self.config = config
        self._names = names  # the profile columns rows are given with
        zero = {name: np.zeros(1, dtype=np.int64) for name in names}
        self._reads: dict[str, tuple[str, ...]] = {}
        for name, (attr, values) in LEVELS.items():
            watched = _Watched(zero)
            for value in values:
                CREDIT[name](watched, {attr: value}, config.tolerances)
            self._reads[name] = tuple(sorted(watched.read))
        self._columns = {
            name: [f"t_{name}_{level}" for level in range(len(values))]
            for name, (_, values) in LEVELS.items()
        }
        self._cache: dict[str, dict[tuple[int, ...], dict[str, int]]] = {n: {} for n in LEVELS}

    def row(self, row: Mapping[str, int]) -> dict[str, int]:
        """The derived columns of one row given as Python ints (profile columns)."""
        out = {col: int(v) for col, v in level_codes(row).items()}
        tables: dict[str, np.ndarray] | None = None
        for name, reads in self._reads.items():
            key = (row["must"] & CRITERION_BIT[name], *(row[col] for col in reads))
            cache = self._cache[name]
            part = cache.get(key)
            if part is None:
                if tables is None:
                    arrays = {col: np.asarray([row[col]]) for col in self._names}
                    tables = acceptance_tables(arrays, self.config)
                part = {col: int(tables[col][0]) for col in self._columns[name]}
                if len(cache) >= _LIMIT:
                    cache.clear()
                cache[key] = part
            out.update(part)
        return out
