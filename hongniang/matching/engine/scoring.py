"""Vectorised directional fit, hard-rule masks and feedback penalties over a block of rows.

Every criterion is one function ``credit(P, X)``: how well the attributes in ``X`` meet the
preference in ``P`` (1 = fully, partial credit for a near miss, 0 = not at all, -1 = the
attribute is unknown).  ``P`` and ``X`` are row mappings holding either Python scalars (the
member) or column arrays (the candidates), so the same code scores the member against all
candidates (A→B: P scalar, X arrays) and all candidates against the member (B→A: P arrays,
X scalar).  Only arithmetic is used: at ~20 µs per operation on 125k rows it is an order of
magnitude cheaper than table look-ups or masks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from .config import EngineConfig, Tolerances
from .encoding import (
    CODE_GROUPS,
    CRITERIA,
    CRITERION_BIT,
    FB_NO_HIGH,
    FB_NO_LOW,
    LEVELS,
    MUST_FAILS,
    TABLE_SCALE,
    level_of,
)
from .feedback import FeedbackState
from .store import Block

Value = np.ndarray | float | int
Row = Mapping[str, Value]

UNKNOWN_CREDIT: Final = -1.0


def _f(v: Value) -> Value:
    return v.astype(np.float32) if isinstance(v, np.ndarray) else float(v)


def _clip01(v: Value) -> Value:
    # ndarray.clip skips np.clip's wrapper layers: ~2x faster on small and large arrays.
    return v.clip(0.0, 1.0) if isinstance(v, np.ndarray) else min(1.0, max(0.0, float(v)))


def _with_unknown(credit: Value, known: Value) -> Value:
    """credit where known, -1 where not."""
    if not isinstance(known, np.ndarray):  # one value for every row
        return credit if known else UNKNOWN_CREDIT
    k = _f(known)
    return credit * k + (k - 1.0)


def _bit(mask: Value, code: Value) -> Value:
    return _f(np.bitwise_and(np.right_shift(mask, code), 1))


def _range(lo: Value, hi: Value, x: Value, tol: float) -> Value:
    lo, hi, x = _f(lo), _f(hi), _f(x)
    inv = 1.0 / tol
    # At most one side is violated, so the two one-sided credits combine by sum - 1.
    return _clip01(1.0 - (lo - x) * inv) + _clip01(1.0 - (x - hi) * inv) - 1.0


def c_age(p: Row, x: Row, t: Tolerances) -> Value:
    return _range(p["p_age_lo"], p["p_age_hi"], x["age"], t.age_years)


def c_height(p: Row, x: Row, t: Tolerances) -> Value:
    return _with_unknown(
        _range(p["p_h_lo"], p["p_h_hi"], x["height"], t.height_cm), x["height"] > 0
    )


def c_weight(p: Row, x: Row, t: Tolerances) -> Value:
    return _with_unknown(
        _range(p["p_w_lo"], p["p_w_hi"], x["weight"], t.weight_kg), x["weight"] > 0
    )


def c_education(p: Row, x: Row, t: Tolerances) -> Value:
    deficit = _f(p["p_edu"]) - _f(x["edu"])
    return _with_unknown(_clip01(1.0 - deficit * t.education_step), x["edu"] >= 0)


def c_income(p: Row, x: Row, t: Tolerances) -> Value:
    deficit = _f(p["p_inc"]) - _f(x["income"])
    return _with_unknown(_clip01(1.0 - deficit * t.income_step), x["income"] >= 0)


def c_marital(p: Row, x: Row, t: Tolerances) -> Value:
    return _bit(p["p_marital"], x["marital"])


def c_children(p: Row, x: Row, t: Tolerances) -> Value:
    code = np.maximum(x["children"], 0)
    ok = _bit(p["p_children"], code)
    # Children living elsewhere are a near miss for someone who wants none.
    near = _f(code == 1) * _bit(p["p_children"], 0) * t.children_elsewhere
    return _with_unknown(ok + (1.0 - ok) * near, x["children"] >= 0)


def c_car(p: Row, x: Row, t: Tolerances) -> Value:
    return _with_unknown(_f(x["car"] == 1), x["car"] >= 0)


def c_house(p: Row, x: Row, t: Tolerances) -> Value:
    return _with_unknown(_f(x["house"] == 1), x["house"] >= 0)


def c_region(p: Row, x: Row, t: Tolerances) -> Value:
    by_hukou = _f(p["p_hukou"])
    same_prov = _f(x["prov"] == p["p_prov"])
    wants_city = _f(p["p_city"] > 0)
    other_city = _f(x["city"] != p["p_city"])
    residence = same_prov * (1.0 - wants_city * other_city * (1.0 - t.region_other_city))
    hukou = _f(x["hukou"] == p["p_prov"])
    credit = by_hukou * hukou + (1.0 - by_hukou) * residence
    known = by_hukou * _f(x["hukou"] > 0) + (1.0 - by_hukou) * _f(x["prov"] > 0)
    return _with_unknown(credit, known)


def c_smoking(p: Row, x: Row, t: Tolerances) -> Value:
    excess = _f(x["smoke"]) - _f(p["p_smoke"])
    return _with_unknown(_clip01(1.0 - excess * t.habit_step), x["smoke"] >= 0)


def c_drinking(p: Row, x: Row, t: Tolerances) -> Value:
    excess = _f(x["drink"]) - _f(p["p_drink"])
    return _with_unknown(_clip01(1.0 - excess * t.habit_step), x["drink"] >= 0)


def c_ethnicity(p: Row, x: Row, t: Tolerances) -> Value:
    # "Same as mine": the preference owner's own ethnicity is in the P row.
    return _with_unknown(_f(x["eth"] == p["eth"]), _f(x["eth"] > 0) * _f(p["eth"] > 0))


def c_religion(p: Row, x: Row, t: Tolerances) -> Value:
    return _with_unknown(_f(x["rel"] == p["rel"]), _f(x["rel"] >= 0) * _f(p["rel"] >= 0))


CREDIT: Final[dict[str, Callable[[Row, Row, Tolerances], Value]]] = {
    "age": c_age,
    "height": c_height,
    "weight": c_weight,
    "education": c_education,
    "income": c_income,
    "marital": c_marital,
    "children": c_children,
    "car": c_car,
    "house": c_house,
    "region": c_region,
    "smoking": c_smoking,
    "drinking": c_drinking,
    "ethnicity": c_ethnicity,
    "religion": c_religion,
}
# Criteria whose attribute may be unknown (others never yield -1).
MAY_BE_UNKNOWN: Final = frozenset(CRITERIA) - {"age", "marital"}

# Learned bounds: (column, attribute, which side, margin attribute of FeedbackTuning).
BOUNDS: Final = (
    ("fb_age_lo", "age", "lo", "margin_age"),
    ("fb_age_hi", "age", "hi", "margin_age"),
    ("fb_h_lo", "height", "lo", "margin_height"),
    ("fb_h_hi", "height", "hi", "margin_height"),
    ("fb_edu_lo", "edu", "lo", "margin_level"),
    ("fb_inc_lo", "income", "lo", "margin_level"),
    ("fb_smoke_hi", "smoke", "hi", "margin_level"),
    ("fb_drink_hi", "drink", "hi", "margin_level"),
)

# Look-alike features (attribute, scale): a difference of one scale unit is "noticeably
# different".  Used for 'not_my_type' / 'appearance' repellers and the liked centroid.
FEATURES: Final = (
    ("age", 3.0),
    ("height", 5.0),
    ("weight", 5.0),
    ("edu", 1.0),
    ("income", 1.5),
    ("smoke", 1.0),
    ("drink", 1.0),
)

# --- precomputed credits for criteria on small ordinal attributes ------------------------------
#
# Their attribute takes a handful of values (levels), so credits can be tabulated:
# * B→A: every member stores, per criterion and per level of the *other* person's attribute,
#   round(60 × credit) as uint8 (255 = a must-have fails).  Scoring the member against all
#   candidates then reads one column per criterion instead of evaluating the criterion.
# * A→B: candidates store two codes combining their levels of several criteria; the member's
#   credit for every code is computed once per query (one table look-up per group).
# The tables are filled by the same credit functions, so both paths agree exactly for
# credits that are multiples of 1/60 (all defaults are).


def _combos(group: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Attribute values of every code of a group, in code order."""
    sizes = [len(LEVELS[name][1]) for name in group]
    grids = np.meshgrid(*[np.arange(k) for k in sizes], indexing="ij")
    return {
        LEVELS[name][0]: np.asarray(LEVELS[name][1])[grid.ravel()]
        for name, grid in zip(group, grids, strict=True)
    }


_COMBOS: Final = {code: _combos(group) for code, group in CODE_GROUPS.items()}


def acceptance_tables(
    cols: Mapping[str, np.ndarray], config: EngineConfig
) -> dict[str, np.ndarray]:
    """Every row's B→A credit table (see above), from its preference columns."""
    tol, rules = config.tolerances, config.rules
    n = len(cols["must"])
    out = {}
    for name, (attr, values) in LEVELS.items():
        has_must = (cols["must"] & CRITERION_BIT[name]) != 0
        for level, value in enumerate(values):
            credit = np.broadcast_to(
                np.asarray(CREDIT[name](cols, {attr: value}, tol), dtype=np.float64), (n,)
            )
            soft = np.where(credit < 0, tol.unknown, credit)
            missed = (credit < 1.0) & ((credit >= 0.0) | rules.unknown_fails_must)
            table = np.rint(soft * TABLE_SCALE).astype(np.uint8)
            table[has_must & missed] = MUST_FAILS
            out[f"t_{name}_{level}"] = table
    return out


def reciprocal_penalty(
    cand: Mapping[str, Value], member: Mapping[str, int], config: EngineConfig
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """How much each candidate's learned dislikes (their ``fb_*`` bounds) hit the member:
    (penalty in 0..1, per-bound parts)."""
    tune = config.feedback
    n = len(cand["birth"])
    total = np.zeros(n, dtype=np.float32)
    parts = {}
    for col, attr, side, margin_name in BOUNDS:
        value = member[attr]
        if not known_attribute(attr, int(value)):
            continue
        inv = 1.0 / getattr(tune, margin_name)
        bound = _f(cand[col])
        gap = (bound - float(value)) if side == "lo" else (float(value) - bound)
        p = _clip01(gap * inv + 1.0)
        total += p
        parts[col] = p
    return np.minimum(total, 1.0), parts


def known_attribute(attr: str, value: int) -> bool:
    if attr in ("height", "weight"):
        return value > 0
    return value >= 0


@dataclass(slots=True)
class Member:
    """The member being matched: their row as Python ints plus their age."""

    slot: int
    row: dict[str, int]

    @property
    def id(self) -> int:
        return self.row["id"]

    def has_pref(self, name: str) -> bool:
        return self.row[f"imp_{name}"] > 0 or bool(self.row["must"] & CRITERION_BIT[name])

    def must(self, name: str) -> bool:
        return bool(self.row["must"] & CRITERION_BIT[name])


@dataclass(slots=True)
class BlockScores:
    """Scores of every row of a block (rows failing a rule have ok=False)."""

    block: Block
    ok: np.ndarray  # passes every hard rule
    slots: np.ndarray
    fit_ab: np.ndarray
    fit_ba: np.ndarray
    feedback: np.ndarray  # logit shift of p(A→B) from the member's own answers
    detail: dict[str, np.ndarray] = field(default_factory=dict)


_NEG: Final = -1e6
# Criteria the member's side reads through a table indexed by the candidate's attribute
# (name, attribute, table size: every value the attribute's column can hold).
_INDEXED: Final = (
    ("age", "age", 256),
    ("height", "height", 1024),
    ("weight", "weight", 1024),
    ("ethnicity", "eth", 128),
)


class Scorer:
    """Scores blocks of candidates against one member for a given day.

    The fast path (``detail=False``) uses the precomputed tables for ordinal criteria and
    leaves out the reciprocal feedback penalty (the engine adds it sparsely); the detail
    path evaluates every criterion directly and reports per-criterion credits."""

    def __init__(
        self,
        config: EngineConfig,
        today_key: int,
        stated: frozenset[str] = frozenset(CRITERIA),
        feedback: tuple[float, float] = (1.0, 1.0),
    ) -> None:
        self.config = config
        self.today_key = today_key
        # Logit shifts per unit of what the member's own answers say of a row: resembling
        # the liked ones, and having what they declined people for (`Model.liked`,
        # `Model.declined`).
        self.liked, self.declined = feedback
        # Criteria somebody in the store has a preference on; the others cannot matter in
        # the B→A direction and are skipped.
        self.stated = stated
        self._tables: dict[int, dict[str, np.ndarray | None]] = {}
        self._indexed: dict[int, list[tuple[str, np.ndarray, tuple | None]]] = {}
        self._ba_tables: dict[int, dict[str, tuple]] = {}

    def legal_age(self, sex: int) -> int:
        r = self.config.rules
        return r.min_age_male if sex == 0 else r.min_age_female

    def member_tables(self, me: Member) -> dict[str, np.ndarray | None]:
        """The member's A→B credit (weighted, _NEG where a must fails) for every code."""
        cached = self._tables.get(me.slot)
        if cached is not None:
            return cached
        tol, rules = self.config.tolerances, self.config.rules
        imp_sum = me.row["imp_sum"]
        mrow: dict[str, Value] = dict(me.row)
        tables: dict[str, np.ndarray | None] = {}
        for code, group in CODE_GROUPS.items():
            combos = _COMBOS[code]
            table: np.ndarray | None = None
            for name in group:
                if not me.has_pref(name):
                    continue
                credit = np.asarray(CREDIT[name](mrow, combos, tol), dtype=np.float64)
                imp = me.row[f"imp_{name}"]
                part = np.zeros(len(credit))
                if imp > 0:
                    part = imp / imp_sum * np.where(credit < 0, tol.unknown, credit)
                if me.must(name):
                    missed = (credit < 1.0) & ((credit >= 0.0) | rules.unknown_fails_must)
                    part = np.where(missed, _NEG, part)
                table = part if table is None else table + part
            tables[code] = None if table is None else table.astype(np.float32)
        self._tables[me.slot] = tables
        return tables

    def member_side(self, me: Member, block: Block, sex: int) -> tuple[np.ndarray, np.ndarray]:
        """Only the A→B half: (fit_a_to_b, passes the member's rules) for every row; a cheap
        first look that bounds what full scoring could give."""
        cand: dict[str, Value] = dict(block.cols)
        births = block.cols["birth"]
        runs = None
        if block.view_len == len(block) and block.view_rows is None and len(block):
            # a slice of a view, sorted by birth: each age is a run of rows (no division)
            runs = _age_runs(births, self.today_key)
            ages, counts = runs
            young = ages < self.legal_age(sex)
            fail = np.repeat(young, counts) if young.any() else np.zeros(len(block), dtype=bool)
        else:
            age = (self.today_key - births) // 10000
            cand["age"] = age
            fail = age < self.legal_age(sex)
        if block.valid is not None:
            fail |= ~block.valid
        fit_ab = self._member_side_indexed(me, cand, fail, runs)
        return fit_ab, ~fail

    def member_fit(self, me: Member, block: Block) -> np.ndarray:
        """fit_a_to_b of every row as the member's preferences give it (no rule applied):
        the learning step's feature."""
        cand: dict[str, Value] = dict(block.cols)
        cand["age"] = (self.today_key - block.cols["birth"]) // 10000
        fail = np.zeros(len(block), dtype=bool)
        return self._member_side(me, cand, dict(me.row), fail, None)[0]

    def indexed_tables(self, me: Member) -> list[tuple[str, np.ndarray, tuple | None]]:
        """The member's A→B credit of the criteria on one small integer attribute (age,
        height, weight, ethnicity, region), weighted, for every value of that attribute:
        (column, table, city match).  _NEG where a must-have or the age window fails.
        Region by residence with a wanted city reads the province's table and, where the
        city matches too, ``city match`` = (province, city, points)."""
        cached = self._indexed.get(me.slot)
        if cached is not None:
            return cached
        tol, rules = self.config.tolerances, self.config.rules
        row = me.row
        imp_sum = row["imp_sum"]
        terms: list[tuple[str, np.ndarray, tuple | None]] = []

        def table(name: str, credit: np.ndarray, window: bool = False) -> np.ndarray:
            credit = np.asarray(credit, dtype=np.float32)
            imp = row[f"imp_{name}"]
            part = np.zeros(len(credit), dtype=np.float32)
            if imp > 0:
                soft = credit
                if name in MAY_BE_UNKNOWN:
                    soft = credit + (credit < 0.0) * np.float32(tol.unknown + 1.0)
                part = np.float32(imp / imp_sum) * soft
            if me.must(name):
                missed = credit < 1.0
                if not rules.unknown_fails_must and name in MAY_BE_UNKNOWN:
                    missed &= credit >= 0.0
                part[missed] = _NEG
            elif window and imp > 0 and rules.age_window:
                part[credit <= 0.0] = _NEG
            return part

        for name, attr, size in _INDEXED:
            if me.has_pref(name):
                values = np.arange(size, dtype=np.int32)
                credit = CREDIT[name](row, {attr: values}, tol)
                credit = np.broadcast_to(np.asarray(credit, dtype=np.float32), (size,))
                terms.append((attr, table(name, credit, window=name == "age"), None))
        if me.has_pref("region"):
            values = np.arange(128, dtype=np.int32)
            if row["p_hukou"]:
                x = {"prov": values, "city": values, "hukou": values}
                terms.append(("hukou", table("region", CREDIT["region"](row, x, tol)), None))
            else:
                # another city than the wanted one (city 0 never is one)
                x = {"prov": values, "city": np.zeros(128, dtype=np.int32), "hukou": values}
                prov = table("region", CREDIT["region"](row, x, tol))
                match = None
                if row["p_city"] > 0:
                    x = {"prov": row["p_prov"], "city": row["p_city"], "hukou": 0}
                    same = np.asarray([CREDIT["region"](row, x, tol)], dtype=np.float32)
                    match = (row["p_prov"], row["p_city"], float(table("region", same)[0]))
                terms.append(("prov", prov, match))
        self._indexed[me.slot] = terms
        return terms

    def _member_side_indexed(
        self,
        me: Member,
        cand: dict[str, Value],
        fail: np.ndarray,
        age_runs: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """The fast A→B half: one table look-up per criterion (the level codes' tables and
        `indexed_tables`), the age window counted as a failure.  Adds the member's
        failures to ``fail``; returns fit_a_to_b.  ``age_runs``: the rows' ages as runs
        (`_age_runs`) instead of ``cand["age"]``."""
        n = len(fail)
        fit_ab = np.zeros(n, dtype=np.float32)
        for code, table in self.member_tables(me).items():
            if table is not None:
                fit_ab += table.take(cand[code])
        for attr, table, match in self.indexed_tables(me):
            if attr == "age" and age_runs is not None:
                part = np.repeat(table.take(age_runs[0], mode="clip"), age_runs[1])
            else:
                part = table.take(cand[attr], mode="clip")
            if match is not None:
                prov, city, points = match
                hit = (cand["city"] == city) & (cand["prov"] == prov)
                part[hit] = np.float32(points)
            fit_ab += part
        fail |= fit_ab < -1.0
        if me.row["imp_sum"] == 0:
            fit_ab += 1.0  # no preferences: everyone fits
        return fit_ab

    def _member_side(
        self,
        me: Member,
        cand: dict[str, Value],
        mrow: dict[str, Value],
        fail: np.ndarray,
        out: dict[str, np.ndarray] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A→B: the member's preferences (scalars) against candidate columns.  Adds the
        member's must-have failures to ``fail``; returns (fit_ab, age-window failures)."""
        tol, rules = self.config.tolerances, self.config.rules
        detail = out is not None
        n = len(fail)
        window_ab = np.zeros(n, dtype=bool)
        fit_ab = np.zeros(n, dtype=np.float32)
        imp_sum = me.row["imp_sum"]
        if not detail:
            for code, table in self.member_tables(me).items():
                if table is not None:
                    fit_ab += table[cand[code]]
            fail |= fit_ab < -1.0
        for name in CRITERIA:
            if not me.has_pref(name) or (not detail and name in LEVELS):
                continue
            credit = CREDIT[name](mrow, cand, tol)
            credit = np.broadcast_to(np.asarray(credit, dtype=np.float32), (n,))
            if out is not None:
                out[f"ab:{name}"] = credit
            imp = me.row[f"imp_{name}"]
            if me.must(name):
                missed = credit < 1.0
                if not rules.unknown_fails_must and name in MAY_BE_UNKNOWN:
                    missed &= credit >= 0.0
                fail |= missed
                if out is not None:
                    out[f"fail:must_ab:{name}"] = missed
            elif name == "age" and imp > 0 and rules.age_window:
                window_ab |= credit <= 0.0
            if imp > 0:
                soft = credit
                if name in MAY_BE_UNKNOWN and credit.min() < 0.0:
                    soft = credit + (credit < 0.0) * np.float32(tol.unknown + 1.0)
                fit_ab += np.float32(imp / imp_sum) * soft
        if imp_sum == 0:
            fit_ab += 1.0  # no preferences: everyone fits
        return fit_ab, window_ab

    def evaluate(
        self,
        me: Member,
        fb: FeedbackState | None,
        block: Block,
        sex: int,
        *,
        detail: bool = False,
        window_exempt: np.ndarray | None = None,
    ) -> BlockScores:
        """Hard rules, fit in both directions and feedback points for every row of ``block``
        (all of one ``sex``)."""
        cfg = self.config
        tol = cfg.tolerances
        rules = cfg.rules
        n = len(block)
        cols = block.cols
        cand: dict[str, Value] = dict(cols)
        age = (self.today_key - cols["birth"]) // 10000
        cand["age"] = age
        mrow: dict[str, Value] = dict(me.row)
        out: dict[str, np.ndarray] = {}

        fail = age < self.legal_age(sex)
        if detail:
            out["fail:legal_age"] = fail.copy()
        if block.valid is not None:
            fail |= ~block.valid
        window_ba = np.zeros(n, dtype=bool)
        if detail or window_exempt is not None:
            fit_ab, window_ab = self._member_side(me, cand, mrow, fail, out if detail else None)
        else:  # the age window is among the failures
            fit_ab, window_ab = self._member_side_indexed(me, cand, fail), window_ba

        # --- B→A: every candidate's preferences (columns) against the member (scalars).
        acc = np.zeros(n, dtype=np.float32)
        acc_table = np.zeros(n, dtype=np.int16)
        must = cols["must"]
        for name in CRITERIA:
            if name not in self.stated and not detail:
                continue
            imp = cols[f"imp_{name}"]
            if not detail and name in LEVELS:
                column = cols[f"t_{name}_{level_of(name, me.row[LEVELS[name][0]])}"]
                acc_table += imp * column
                fail |= column == MUST_FAILS
                continue
            credit = CREDIT[name](cand, mrow, tol)
            has_must = (must & CRITERION_BIT[name]) != 0
            if isinstance(credit, np.ndarray):
                missed = credit < 1.0
                if not rules.unknown_fails_must and name in MAY_BE_UNKNOWN:
                    missed &= credit >= 0.0
                must_fail = has_must & missed
            else:
                missed_scalar = credit < 1.0 and (rules.unknown_fails_must or credit >= 0.0)
                must_fail = has_must if missed_scalar else np.zeros(n, dtype=bool)
            fail |= must_fail
            if detail:
                out[f"ba:{name}"] = np.broadcast_to(np.asarray(credit, dtype=np.float32), (n,))
                out[f"fail:must_ba:{name}"] = must_fail
            if name == "age" and rules.age_window:
                window_ba |= (imp > 0) & ~has_must & (credit <= 0.0)
            soft = credit
            if not isinstance(soft, np.ndarray):
                soft = np.float32(tol.unknown if soft < 0.0 else soft)
                acc += imp * soft
                continue
            if name in MAY_BE_UNKNOWN and soft.min() < 0.0:
                soft = credit + (credit < 0.0) * np.float32(tol.unknown + 1.0)
            acc += imp * soft
        if not detail:
            acc += acc_table * np.float32(1.0 / TABLE_SCALE)
        cand_sum = cols["imp_sum"]
        fit_ba = acc / np.maximum(cand_sum, 1).astype(np.float32) + (cand_sum == 0)

        if window_exempt is not None:
            window_ab &= ~window_exempt
            window_ba &= ~window_exempt
        if detail:
            out["fail:age_window_ab"] = window_ab
            out["fail:age_window_ba"] = window_ba
        fail |= window_ab | window_ba

        points = self._feedback(me, fb, cand, n, out if detail else None)
        if detail:
            # the candidates' reasons against the member move p(B→A); the engine adds them
            _, parts = reciprocal_penalty(cand, mrow, cfg)  # type: ignore[arg-type]
            for col, p in parts.items():
                out[f"fbr:{col}"] = p
            out["fail"] = fail
        return BlockScores(
            block=block,
            ok=~fail,
            slots=block.slots,
            fit_ab=fit_ab,
            fit_ba=fit_ba,
            feedback=points,
            detail=out,
        )

    def evaluate_survivors(
        self, me: Member, fb: FeedbackState | None, block: Block, fit_ab: np.ndarray | None = None
    ) -> BlockScores:
        """`evaluate` of rows the prefilter kept (`prefilter.py`: exactly the rows passing
        every hard rule, property-tested), so no rule is evaluated again: only the rows
        masked out of ``block`` fail.  ``fit_ab``: the member's side when already known
        (`member_side` of these rows).  Same arithmetic as `evaluate`'s fast path."""
        n = len(block)
        cols = block.cols
        cand: dict[str, Value] = dict(cols)
        if fit_ab is None or (fb is not None and fb.has_signal()):
            cand["age"] = (self.today_key - cols["birth"]) // 10000
        if fit_ab is None:
            fit_ab = self._member_side_indexed(me, cand, np.zeros(n, dtype=bool))
        fit_ba = self._candidate_side(me, cols, n)
        points = self._feedback(me, fb, cand, n, None)
        ok = np.ones(n, dtype=bool) if block.valid is None else block.valid
        return BlockScores(
            block=block, ok=ok, slots=block.slots, fit_ab=fit_ab, fit_ba=fit_ba, feedback=points
        )

    def _ba_range_tables(self, me: Member) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """B→A credit of the range criteria (age, height, weight) as two tables over the
        candidates' lower and upper ends: credit = low[p_lo] + high[p_hi] - 1, the same
        float32 operations as `_range` (only when the member's attribute is known)."""
        cached = self._ba_tables.get(me.slot)
        if cached is not None:
            return cached
        tables = {}
        for name, attr, lo, hi, size, tol in (
            ("age", "age", "p_age_lo", "p_age_hi", 256, self.config.tolerances.age_years),
            ("height", "height", "p_h_lo", "p_h_hi", 1024, self.config.tolerances.height_cm),
            ("weight", "weight", "p_w_lo", "p_w_hi", 1024, self.config.tolerances.weight_kg),
        ):
            x = me.row[attr]
            if name != "age" and x <= 0:
                continue  # unknown: one scalar credit for every row (the general path)
            values = np.arange(size, dtype=np.int32).astype(np.float32)
            inv = 1.0 / tol
            x = float(x)
            low = _clip01(1.0 - (values - x) * inv)
            high = _clip01(1.0 - (x - values) * inv)
            tables[name] = (lo, hi, low, high)
        self._ba_tables[me.slot] = tables
        return tables

    def candidate_bound(self, me: Member, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        """At least fit_b_to_a of every row (`_candidate_side`): the range criteria (age,
        height, weight) as the candidates weigh them, every other criterion met."""
        imp_sum = cols["imp_sum"]
        n = len(imp_sum)
        missed = np.zeros(n, dtype=np.float32)
        for name, table in self._ba_range_tables(me).items():
            if name not in self.stated:
                continue
            lo, hi, low, high = table
            credit = low.take(cols[lo], mode="clip") + high.take(cols[hi], mode="clip") - 1.0
            # (a negative credit, of an inconsistent range, is read otherwise: counted met)
            missed += cols[f"imp_{name}"] * (np.float32(1.0) - credit) * (credit >= 0.0)
        scale = np.float32(1.0) / np.maximum(imp_sum, 1).astype(np.float32)
        bound = np.float32(1.0) - missed * scale  # (no wishes: nothing missed, 1)
        # float32 sums in another order than the real side's (which may pass 1 by a
        # rounding): a hair of slack
        return bound + np.float32(1e-5)

    def _candidate_side(self, me: Member, cols: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """fit_b_to_a of rows that pass every hard rule (no rule checked here)."""
        tol = self.config.tolerances
        mrow: dict[str, Value] = dict(me.row)
        ranges = self._ba_range_tables(me)
        acc = np.zeros(n, dtype=np.float32)
        acc_table = np.zeros(n, dtype=np.int16)
        for name in CRITERIA:
            if name not in self.stated:
                continue
            imp = cols[f"imp_{name}"]
            if name in LEVELS:
                acc_table += imp * cols[f"t_{name}_{level_of(name, me.row[LEVELS[name][0]])}"]
                continue
            table = ranges.get(name)
            if table is not None:
                lo, hi, low, high = table
                credit = low.take(cols[lo], mode="clip") + high.take(cols[hi], mode="clip") - 1.0
                if name in MAY_BE_UNKNOWN and credit.min() < 0.0:  # as the general path
                    credit = credit + (credit < 0.0) * np.float32(tol.unknown + 1.0)
                acc += imp * credit
                continue
            credit = CREDIT[name](cols, mrow, tol)
            if not isinstance(credit, np.ndarray):
                acc += imp * np.float32(tol.unknown if credit < 0.0 else credit)
                continue
            if name in MAY_BE_UNKNOWN and credit.min() < 0.0:
                credit = credit + (credit < 0.0) * np.float32(tol.unknown + 1.0)
            acc += imp * credit
        acc += acc_table * np.float32(1.0 / TABLE_SCALE)
        cand_sum = cols["imp_sum"]
        return acc / np.maximum(cand_sum, 1).astype(np.float32) + (cand_sum == 0)

    def _feedback(
        self,
        me: Member,
        fb: FeedbackState | None,
        cand: dict[str, Value],
        n: int,
        out: dict[str, np.ndarray] | None,
    ) -> np.ndarray:
        """The logit shift of p(A→B) from the member's own answers: resembling the liked
        ones raises it, having what they declined people for lowers it."""
        parts = self.feedback_parts(me, fb, cand, n, out)
        if parts is None:
            return np.zeros(n, dtype=np.float32)
        declined, liked = parts
        shift = np.float32(-self.declined) * declined
        if liked is not None:
            shift += np.float32(self.liked) * liked
        return shift

    def feedback_parts(
        self,
        me: Member,
        fb: FeedbackState | None,
        cand: Mapping[str, Value],
        n: int,
        out: dict[str, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """What the member's own answers say of every row, each 0..1: how much the row
        has of what they declined people for (learned bounds, avoided categories,
        look-alikes of the "not my type"s; capped at 1), and how much it resembles the
        people they liked (None without likes).  None when they taught nothing yet."""
        if fb is None or not fb.has_signal():
            return None
        tune = self.config.feedback
        penalty = np.zeros(n, dtype=np.float32)
        for col, attr, side, margin_name in BOUNDS:
            bound = me.row[col]
            if bound in (FB_NO_LOW, FB_NO_HIGH):
                continue
            x = _f(cand[attr])
            inv = 1.0 / getattr(tune, margin_name)
            gap = (bound - x) if side == "lo" else (x - bound)
            p = _clip01(gap * inv + 1.0)
            if attr != "age":
                p = p * _f(cand[attr] >= (1 if attr == "height" else 0))
            penalty += p
            if out is not None:
                out[f"fb:{col}"] = p
        for attr, strengths in fb.avoid.items():
            for code, strength in strengths.items():
                p = _f(cand[attr] == code) * np.float32(strength)
                penalty += p
                if out is not None:
                    key = f"fb:avoid:{attr}"
                    out[key] = out[key] + p if key in out else p
        for i, ref in enumerate(fb.repellers):
            p = _similarity(cand, ref.values, ref.dims, 1.0)
            penalty += p
            if out is not None:
                out[f"fb:repeller:{i}"] = p
        liked = None
        centroid = fb.liked_centroid()
        if centroid is not None:
            liked = _similarity(cand, centroid, tuple(centroid), 1.5)
            if out is not None:
                out["fb:like"] = liked
        return np.minimum(penalty, 1.0), liked


def _age_runs(births: np.ndarray, today_key: int) -> tuple[np.ndarray, np.ndarray]:
    """Ages of rows sorted by birth key, as runs: (ages, oldest first; rows of each)."""
    oldest = (today_key - int(births[0])) // 10000
    youngest = (today_key - int(births[-1])) // 10000
    ages = np.arange(oldest, youngest - 1, -1, dtype=np.int32)
    # rows of age a: born after today - (a + 1)·10⁴; the oldest run starts at row 0
    starts = np.searchsorted(births, (today_key - (ages[1:] + 1) * 10000 + 1).astype(births.dtype))
    bounds = np.concatenate([[0], starts, [len(births)]])
    return ages, np.diff(bounds)


def _similarity(
    cand: Mapping[str, Value], ref: Mapping[str, float], dims: tuple[str, ...], widen: float
) -> np.ndarray:
    """Gaussian look-alike similarity in [0, 1] of every candidate to one reference."""
    d2: Value = 0.0
    for attr, scale in FEATURES:
        if attr not in dims or attr not in ref:
            continue
        z = (_f(cand[attr]) - np.float32(ref[attr])) * np.float32(1.0 / (scale * widen))
        d2 = d2 + z * z
    if not isinstance(d2, np.ndarray):
        n = len(cand["birth"])
        return np.full(n, np.exp(-0.5 * d2), dtype=np.float32)
    return np.exp(-0.5 * d2)
