"""Filter first: the rows of a block that pass every hard rule, found with integer compares
before anything is scored.

A member's age window holds a median of ~180k rows at a million members.  Scoring it whole
and applying the hard rules at the end, as a penalty, spends the scoring on rows that can
never be shown.  ``Prefilter.mask`` evaluates the hard rules of ``Scorer.evaluate`` on the
raw integer columns first — legal age, the member's must-haves and soft age window (A→B),
every candidate's must-haves and soft age window (B→A) — and only the survivors are
scored.  The scorer still applies every rule to them, so the filter could keep too much,
but it must never drop a row the scorer would keep; a property test checks that both give
exactly the same set.  (How much it saves depends on how much members insist on: in the
benchmark's synthetic population ~88 % of a window meets both sides' must-haves.)

Criteria on small ordinal attributes use the same tables as the scorer (the member's
failing level codes; the candidates' precomputed acceptance tables), so they agree by
construction; the others are plain compares whose float counterparts in ``scoring.py`` are
exact for integers (the age window's zero distance is computed from the credit function).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Final

import numpy as np

from .config import EngineConfig, Tolerances
from .encoding import (
    CODE_GROUPS,
    CRITERION_BIT,
    FAST_COLUMNS,
    LEVELS,
    MUST_FAILS,
    TABLE_COLUMNS,
    level_of,
)
from .scoring import _COMBOS, CREDIT, Member
from .store import Block

_AGE: Final = CRITERION_BIT["age"]
_HEIGHT: Final = CRITERION_BIT["height"]
_WEIGHT: Final = CRITERION_BIT["weight"]
_REGION: Final = CRITERION_BIT["region"]
_ETHNICITY: Final = CRITERION_BIT["ethnicity"]
_LEVEL_BITS: Final = {name: CRITERION_BIT[name] for name in LEVELS}
_OTHER_BITS: Final = _HEIGHT | _WEIGHT | _REGION | _ETHNICITY
_REGION_COLUMNS: Final = ("p_hukou", "p_prov", "p_city")
# Columns a sorted view adds for the filter: the range of the other side's ages a row
# accepts (its must-have range, or its soft range widened to the age window, or anything).
FILTER_COLUMNS: Final = ("acc_age_lo", "acc_age_hi")
_OPEN_LO: Final = -1
_CANDIDATE_COLUMNS: Final = (
    "birth",
    "must",
    "imp_sum",
    *(f"imp_{name}" for name in CRITERION_BIT),
    "p_age_lo",
    "p_age_hi",
    "p_h_lo",
    "p_h_hi",
    "p_w_lo",
    "p_w_hi",
    "p_prov",
    "p_city",
    "p_hukou",
    "eth",
)
_OPEN_HI: Final = 1000


@lru_cache(maxsize=16)
def age_reach(tol: Tolerances) -> int:
    """Most years outside a soft age range that still earn age credit (> 0).

    Read off the credit function itself, in both directions' number types, so that the
    filter and the scorer can never disagree on the window's edge."""
    reach = -1
    for d in range(0, 4 * tol.age_years + 4):
        # A→B: the member's range (Python ints) against candidate ages (an array) ...
        ab = CREDIT["age"]({"p_age_lo": 100, "p_age_hi": 100}, {"age": np.int32([100 + d])}, tol)
        # ... and B→A: candidates' ranges (int8 arrays) against the member's age (an int).
        lo = np.int8([100 - d])
        ba = CREDIT["age"]({"p_age_lo": lo, "p_age_hi": lo}, {"age": 100}, tol)
        if float(np.asarray(ab)[0]) > 0.0 and float(np.asarray(ba)[0]) > 0.0:
            reach = d
        else:
            break
    return reach


def view_columns(cols: Mapping[str, np.ndarray], config: EngineConfig) -> dict[str, np.ndarray]:
    """The filter's derived columns (FILTER_COLUMNS) of some rows, from their age
    preference: a row accepts the other side's age a when acc_age_lo <= a <= acc_age_hi."""
    must = (cols["must"] & _AGE) != 0
    lo = cols["p_age_lo"].astype(np.int16)
    hi = cols["p_age_hi"].astype(np.int16)
    if config.rules.age_window:
        reach = age_reach(config.tolerances)
        soft = ~must & (cols["imp_age"] > 0)
        acc_lo = np.where(must, lo, np.where(soft, lo - reach, _OPEN_LO))
        acc_hi = np.where(must, hi, np.where(soft, hi + reach, _OPEN_HI))
    else:
        acc_lo = np.where(must, lo, _OPEN_LO)
        acc_hi = np.where(must, hi, _OPEN_HI)
    return {"acc_age_lo": acc_lo.astype(np.int16), "acc_age_hi": acc_hi.astype(np.int16)}


class Prefilter:
    """The hard rules between one member and candidates of one sex, as integer compares."""

    def __init__(self, config: EngineConfig, today_key: int, me: Member, legal_age: int) -> None:
        row = me.row
        rules = config.rules
        self.today_key = today_key
        self.unknown_fails = rules.unknown_fails_must
        self.row = row
        self.age = int(row["age"])
        # Candidates born after this key are under the legal age.
        self.legal_key = today_key - legal_age * 10000
        # The member's own age rule as a birth-key range [lo_key, hi_key] (None: open).
        lo_age: int | None = None
        hi_age: int | None = None
        if row["must"] & _AGE:
            lo_age, hi_age = row["p_age_lo"], row["p_age_hi"]
        elif row["imp_age"] > 0 and rules.age_window:
            reach = age_reach(config.tolerances)
            lo_age, hi_age = row["p_age_lo"] - reach, row["p_age_hi"] + reach
        # age >= a  <=>  birth <= today - a * 10000;  age <= b  <=>  birth > today - (b+1) * 10000
        self.birth_hi = (
            self.legal_key if lo_age is None else min(self.legal_key, today_key - lo_age * 10000)
        )
        self.birth_lo = None if hi_age is None else today_key - (hi_age + 1) * 10000 + 1
        # The member's must-haves on ordinal attributes: level codes that fail, per group.
        self.bad_codes: dict[str, np.ndarray] = {}
        for code, group in CODE_GROUPS.items():
            bad = None
            for name in group:
                if not row["must"] & CRITERION_BIT[name]:
                    continue
                credit = np.asarray(CREDIT[name](row, _COMBOS[code], config.tolerances))
                missed = (credit < 1.0) & ((credit >= 0.0) | self.unknown_fails)
                bad = missed if bad is None else bad | missed
            if bad is not None:
                self.bad_codes[code] = bad
        # The candidates' acceptance-table column for the member's level of each criterion.
        self.level_columns = {
            name: f"t_{name}_{level_of(name, row[attr])}" for name, (attr, _) in LEVELS.items()
        }
        # What scoring these candidates reads: the fast columns, of the acceptance tables
        # only the member's levels.
        mine = set(self.level_columns.values())
        self.scored_columns = tuple(
            name for name in FAST_COLUMNS if name not in TABLE_COLUMNS or name in mine
        )
        # What the candidates' side and `mask_ba` read (the member's side known already).
        self.candidate_columns = (*_CANDIDATE_COLUMNS, *sorted(mine))

    def survivors(self, block: Block, must_any: int = -1) -> np.ndarray:
        """Indices (ascending) of the rows of ``block`` that may pass every hard rule."""
        return np.flatnonzero(self.mask(block, must_any))

    def mask(self, block: Block, must_any: int = -1) -> np.ndarray:
        """Which rows of ``block`` may pass every hard rule.

        ``block`` holds the view columns plus FILTER_COLUMNS; ``must_any`` is a superset of
        the must bits of its rows (criteria nobody in the block insists on are skipped)."""
        cols = block.cols
        row = self.row
        birth = cols["birth"]
        n = len(birth)
        # B→A age first: the candidates' age ranges are the most selective rule.
        ok = (cols["acc_age_lo"] <= self.age) & (cols["acc_age_hi"] >= self.age)
        if block.valid is not None:
            ok &= block.valid
        if n and (block.view_len != n or birth[-1] > self.birth_hi):  # sorted views: O(1)
            ok &= birth <= self.birth_hi
        if self.birth_lo is not None and n and (block.view_len != n or birth[0] < self.birth_lo):
            ok &= birth >= self.birth_lo
        # A→B: the member's must-haves on the candidates' attributes.
        mine = row["must"]
        for attr, bit, lo, hi in (
            ("height", _HEIGHT, "p_h_lo", "p_h_hi"),
            ("weight", _WEIGHT, "p_w_lo", "p_w_hi"),
        ):
            if mine & bit:
                x = cols[attr]
                hit = (x >= row[lo]) & (x <= row[hi])
                ok &= hit | (x <= 0) if not self.unknown_fails else hit & (x > 0)
        if mine & _REGION:
            ok &= self._region_ab(cols)
        if mine & _ETHNICITY:
            eth = cols["eth"]
            if row["eth"] > 0:
                same = eth == row["eth"]
                ok &= same & (eth > 0) if self.unknown_fails else same | (eth <= 0)
            elif self.unknown_fails:
                ok[:] = False
        for code, bad in self.bad_codes.items():
            ok &= ~bad[cols[code]]
        # B→A: the candidates' must-haves on the member's attributes.
        if must_any & ~_AGE:
            must = cols["must"]
            for name, bit in _LEVEL_BITS.items():
                if must_any & bit:
                    ok &= cols[self.level_columns[name]] != MUST_FAILS
            # The other criteria only on the rows that insist on one (a few percent).
            other = must_any & _OTHER_BITS
            if other:
                rows = np.flatnonzero((must & other) != 0)
                if len(rows):
                    ok[rows[self._misses_ba(cols, rows)]] = False
        return ok

    def mask_ba(self, block: Block, must_any: int = -1) -> np.ndarray:
        """`mask` without the rules the member's side already applied (`Scorer.member_side`
        and the candidates' age ranges: the bounds of `Engine._score_windows`): the rows
        that are current and meet the candidates' must-haves."""
        cols = block.cols
        ok = np.ones(len(block), dtype=bool) if block.valid is None else block.valid.copy()
        if must_any & ~_AGE:
            for name, bit in _LEVEL_BITS.items():
                if must_any & bit:
                    ok &= cols[self.level_columns[name]] != MUST_FAILS
            other = must_any & _OTHER_BITS
            if other:
                rows = np.flatnonzero((cols["must"] & other) != 0)
                if len(rows):
                    ok[rows[self._misses_ba(cols, rows)]] = False
        return ok

    def _region_ab(self, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        """Candidates meeting the member's must-have region (unknown: per the rules)."""
        row = self.row
        if row["p_hukou"]:
            place = cols["hukou"]
            hit = place == row["p_prov"]
        else:
            place = cols["prov"]
            hit = place == row["p_prov"]
            if row["p_city"] > 0:
                hit &= cols["city"] == row["p_city"]
        known = place > 0
        return hit & known if self.unknown_fails else hit | ~known

    def _misses_ba(self, cols: Mapping[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` have a must-have on height, weight, region or ethnicity that
        the member does not meet."""
        row = self.row
        must = cols["must"][rows]
        miss = np.zeros(len(rows), dtype=bool)
        for attr, bit, lo, hi in (
            ("height", _HEIGHT, "p_h_lo", "p_h_hi"),
            ("weight", _WEIGHT, "p_w_lo", "p_w_hi"),
        ):
            insists = (must & bit) != 0
            if not insists.any():
                continue
            x = row[attr]
            if x > 0:
                miss |= insists & ((cols[lo][rows] > x) | (cols[hi][rows] < x))
            elif self.unknown_fails:
                miss |= insists
        insists = (must & _REGION) != 0
        if insists.any():
            miss |= insists & ~self._region_ba({c: cols[c][rows] for c in _REGION_COLUMNS})
        insists = (must & _ETHNICITY) != 0
        if insists.any():
            if row["eth"] > 0:
                eth = cols["eth"][rows]
                differs = eth != row["eth"]  # an unknown ethnicity (0) differs too
                if not self.unknown_fails:
                    differs &= eth > 0
                miss |= insists & differs
            elif self.unknown_fails:
                miss |= insists
        return miss

    def _region_ba(self, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        """Whether the member meets each candidate's region preference (must or not)."""
        row = self.row
        by_hukou = cols["p_hukou"] != 0
        p_prov = cols["p_prov"]
        p_city = cols["p_city"]
        residence = (p_prov == row["prov"]) & ((p_city == 0) | (p_city == row["city"]))
        hit = np.where(by_hukou, p_prov == row["hukou"], residence)
        known = np.where(by_hukou, row["hukou"] > 0, row["prov"] > 0)
        return hit & known if self.unknown_fails else hit | ~known
