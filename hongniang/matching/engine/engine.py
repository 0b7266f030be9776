"""The matching engine: public API.

    engine = Engine.build(profiles, config=EngineConfig(), today=date(2025, 6, 1))
    engine.recommend(member_id, k=20)        -> list[Result]
    engine.score(a_id, b_id)                 -> Result (eligible=False + failed_rules if any)
    engine.upsert(profile) / engine.remove(member_id)
    engine.feedback(member_id, candidate_id, liked, reasons)
    engine.interaction(actor_id, target_id, kind)
    engine.boost(member_id, candidate_id, pin=False, points=0) / engine.unboost(...)

A recommend scores only the eligible members of the target sex inside the member's age
window (a contiguous slice of a birth-date-sorted view) plus rows changed since that view
was built; everything is vectorised over those rows.  Explanations are built for the
returned top k only.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cache, partial
from typing import Final

import numpy as np

from . import explain as expl
from . import messages as msg
from .collab import InteractionGraph
from .config import INTERACTION_KINDS, EngineConfig, Model
from .derived import DerivedRows
from .encoding import (
    CRITERIA,
    CRITERION_BIT,
    FAST_COLUMNS,
    FB_NO_HIGH,
    FB_NO_LOW,
    FEEDBACK_COLUMNS,
    FEEDBACK_EMPTY,
    MARRIED,
    PROFILE_COLUMN_NAMES,
    PROFILE_COLUMNS,
    SEX_OF_CODE,
    STATUS_CODE,
    birth_key,
    encode,
    level_codes,
    out_of_range_columns,
    rows_in_range,
)
from .feedback import FeedbackState, learn, validate_reasons
from .prefilter import FILTER_COLUMNS, Prefilter, age_reach, view_columns
from .profile import STATUSES, Profile
from .results import A_TO_B, B_TO_A, Components, Direction, Explanation, Result, RuleFailure
from .scoring import BlockScores, Member, Scorer, acceptance_tables, reciprocal_penalty
from .store import Block, Columns, ColumnStore, SortedView, token_bits
from .textsim import TextIndex

logger = logging.getLogger(__name__)

# Member ids are the agency's; dates are the agency's local (China Standard Time, no DST).
CHINA_TZ: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
_PIN: Final = 1e4  # pinned first; keys are float32, exact enough at this offset
_EXCLUDED: Final = -1e9
_CHUNK: Final = 65_536
_FEEDBACK_LIKE_WEIGHT: Final = 1.0
_FEEDBACK_REJECT_WEIGHT: Final = -1.0
_TEXT_CHUNK: Final = 4096
# The text bound groups the member's signature bits by weight into at most this many groups.
_TEXT_GROUPS: Final = 4
# Survivors are gathered when at most 1 / this share of a block passes the filter.
_GATHER_SHARE: Final = 8
# Blocks of at least this many rows are scored in two halves at once.
_SPLIT_ROWS: Final = 32_768
_CRITERION_KEYS: Final = tuple(
    (name, f"imp_{name}", CRITERION_BIT[name], f"ab:{name}", f"ba:{name}") for name in CRITERIA
)
# Scores are shown with one decimal; ranking compares them at that precision, so the search
# keeps rows up to this far below the k-th best (they may round to the same shown score).
_TIE_SLACK: Final = np.float32(0.1)
_EMPTY_SLOTS: Final = np.zeros(0, dtype=np.int64)
# Explanations name a rate when its logit offset is at least this far from the average,
# and a collaborative signal from this size on.
_RATE_NOTABLE: Final = 0.2
_COLLAB_NOTABLE: Final = 0.05
# Windows of at least this many rows are scored bound first (`_score_windows`); smaller
# ones whole.
_PRUNE_FROM: Final = 32_768
# Rows fully scored first to find the floor of the top k: this many, or so many per wanted
# result if more.
_SEED_ROWS: Final = 1024
_SEED_PER_RESULT: Final = 16
# `_seed` reads its cut off every few rows: about this many times its size of them.
_SEED_POOL: Final = 8
# With text points, the seed is the best of this many times its size by bound and text.
_SEED_TEXT_POOL: Final = 4
# `_Bound.key` of a row failing a rule (a fit_a_to_b is at least -1e6 per criterion)
_FAILED: Final = np.float32(-1e30)
# Bounds are compared with this margin below the floor (float32 rounding of the fits).
_BOUND_MARGIN: Final = 0.01
# `_fit_threshold`: points below what a row must reach (float32 `_fit_points` is exact to
# ~1e-5 of its scale)
_THRESHOLD_SLACK: Final = 1e-3
# Rows' own rates are located (not gathered) while the members with answers are fewer than
# 1 / this share of the rows.
_LOCATE_SHARE: Final = 1
_DERIVE_FROM: Final = (*PROFILE_COLUMN_NAMES,)
_RECIPROCAL_COLUMNS: Final = ("birth", *(name for name, _ in FEEDBACK_COLUMNS))
_FB_KEYS: Final = ("fb:", "fbr:")
_ROW_COLUMNS: Final = tuple(name for name, _ in PROFILE_COLUMNS + FEEDBACK_COLUMNS)
# What the bound of the candidates' side reads (`Scorer.candidate_bound`).
_BA_BOUND_COLUMNS: Final = (
    "p_age_lo",
    "p_age_hi",
    "p_h_lo",
    "p_h_hi",
    "p_w_lo",
    "p_w_hi",
    "imp_age",
    "imp_height",
    "imp_weight",
    "imp_sum",
)


@dataclass(frozen=True, slots=True)
class Boost:
    pin: bool
    points: float


@dataclass(slots=True)
class _Query:
    """What one recommend needs about the member, computed once."""

    me: Member
    today_key: int
    fb: FeedbackState | None
    scorer: Scorer
    boosts: dict[int, Boost]  # by candidate slot
    excluded: set[int]  # slots
    collab: Behaviour | None
    reciprocal: tuple[np.ndarray, np.ndarray] | None = None  # (slots, points), when known
    prefilters: dict[int, Prefilter] = field(default_factory=dict)  # by candidate sex


@dataclass(slots=True)
class _Snapshot:
    """A group of results (one sex) as they were scored, for explaining them later."""

    scorer: Scorer
    member: Member
    sex: int
    block: Block
    exempt: np.ndarray
    ids: list[int]
    today_key: int
    mine: FeedbackState | None
    theirs: list[FeedbackState | None]
    text: list[float]
    collab: list[float]
    collab_flags: list[tuple[int, ...]]
    boosts: list[Boost | None]
    my_tokens: np.ndarray
    their_tokens: np.ndarray
    columns: dict[str, list[int]] | None = None
    detail: dict[str, list[float]] | None = None


@dataclass(slots=True)
class _Ranked:
    """Scored candidate rows of one recommend, parallel arrays (rows failing a rule or
    excluded have key = _EXCLUDED).  After ranking, reduced to the contenders."""

    slots: np.ndarray
    fit_ab: np.ndarray
    fit_ba: np.ndarray
    mutual: np.ndarray  # points of the mutual probability, answers and behaviour included
    # Logit shifts of p(A→B) from the member's own answers with reasons and likes, and of
    # p(B→A) from the candidates' reasons against the member (None: none anywhere).
    fb_ab: np.ndarray
    fb_ba: np.ndarray | None
    key: np.ndarray  # score without text (+ pin offset; _EXCLUDED when not recommendable)
    collab_scores: Behaviour | None
    # Split of ``mutual`` into the fit's points, what the answers' reasons move (feedback)
    # and what behaviour adds (or takes): computed for the contenders only.
    fit: np.ndarray | None = None
    feedback: np.ndarray | None = None
    collab: np.ndarray | None = None


@dataclass(slots=True)
class _Shifts:
    """The logit shifts of both directions `Engine._bounds` used for a block's rows: the
    same for every row but ``rows`` (rows, ascending or not, with their own)."""

    ab: np.float32
    ba: np.float32
    rows: np.ndarray = field(default_factory=lambda: _EMPTY_SLOTS)
    row_ab: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    row_ba: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def at(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shifts of ``rows`` (ascending)."""
        ab = np.full(len(rows), self.ab, dtype=np.float32)
        ba = np.full(len(rows), self.ba, dtype=np.float32)
        if len(self.rows) and len(rows):
            at = np.minimum(np.searchsorted(rows, self.rows), len(rows) - 1)
            hit = rows[at] == self.rows
            ab[at[hit]] = self.row_ab[hit]
            ba[at[hit]] = self.row_ba[hit]
        return ab, ba

    def join(self, other: _Shifts, offset: int) -> _Shifts:
        """These rows' shifts, then ``other``'s from row ``offset`` on (the same common
        shifts: the member's own)."""
        return _Shifts(
            self.ab,
            self.ba,
            np.concatenate([self.rows, other.rows + offset]),
            np.concatenate([self.row_ab, other.row_ab]),
            np.concatenate([self.row_ba, other.row_ba]),
        )


@dataclass(slots=True)
class _Bound:
    """Upper bounds of the final scores of a block's rows (`Engine._bounds`).  Rows sharing
    the member's own shifts are bounded by one increasing function of their fit_a_to_b
    (``points``), so they are kept as that fit (``key``) and their bound is computed only
    where it is needed (the seed, the rows reaching the floor): over a whole window that
    function cost more than the rest of the bound.  The rows of ``own`` (rows with their
    own shifts, or every row) carry their bound.  A rule failed: -inf in ``own_bound``,
    _FAILED in ``key``."""

    key: np.ndarray | None  # fit_a_to_b; _FAILED for failing rows and the rows of ``own``
    points: Callable[[np.ndarray], np.ndarray]  # key -> bound (increasing)
    threshold: Callable[[float], float]  # a key under which no row reaches a bound
    own: np.ndarray
    own_bound: np.ndarray

    def __len__(self) -> int:
        return len(self.own_bound) if self.key is None else len(self.key)

    def best(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` rows (ascending) with the best bounds (or every finite one), and
        their bounds."""
        at = _seed(self.own_bound, n)
        rows, bound = self.own[at], self.own_bound[at]
        if self.key is not None:
            shared = _seed(self.key, n, _FAILED)
            rows = np.concatenate([rows, shared])
            bound = np.concatenate([bound, self.points(self.key[shared])])
        if len(rows) > n:
            at = np.argpartition(-bound, n - 1)[:n]
            rows, bound = rows[at], bound[at]
        order = np.argsort(rows)
        return rows[order], bound[order]

    def reaching(self, reach: float) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows (ascending) whose bound reaches ``reach`` and passed every rule, and
        their bounds (None when ``reach`` is -inf: every such row)."""
        if reach == -np.inf:
            own = self.own[self.own_bound > -np.inf]
            if self.key is None:
                return own, None
            hit = self.key > _FAILED
            hit[own] = True
            return np.flatnonzero(hit), None
        sel = np.flatnonzero(self.own_bound >= reach)
        if self.key is None:
            return self.own[sel], self.own_bound[sel]
        hit = self.key >= np.float32(self.threshold(reach))
        hit[self.own[sel]] = True
        rows = np.flatnonzero(hit)
        bound = self.points(self.key[rows])
        if len(sel):  # the rows of ``own`` among them: their own bounds
            bound[np.searchsorted(rows, self.own[sel])] = self.own_bound[sel]
        keep = bound >= reach
        return rows[keep], bound[keep]

    def join(self, other: _Bound, offset: int) -> _Bound:
        """These rows' bounds, then ``other``'s from row ``offset`` on (the same function)."""
        key = None if self.key is None else np.concatenate([self.key, other.key])
        return _Bound(
            key,
            self.points,
            self.threshold,
            np.concatenate([self.own, other.own + offset]),
            np.concatenate([self.own_bound, other.own_bound]),
        )


@dataclass(slots=True)
class Behaviour:
    """What answers and behaviour say about one member's candidates, as logit shifts of
    each direction's probability (see `Model`): the collaborative signal of the few
    candidates reachable in the graph (sorted slots), and the member's own rates, which
    move every row.  The candidates' own rates are per slot (`Engine._rate_shifts`)."""

    slots: np.ndarray
    shift_ab: np.ndarray  # collaborative taste (A→B)
    shift_ba: np.ndarray  # collaborative reciprocal (B→A)
    flags: np.ndarray  # (n, 3) int8: direct, taste, reciprocal (-1/0/1)
    # The member's own openness (moves p(A→B)) and appeal (moves p(B→A)), for every row.
    own_ab: float = 0.0
    own_ba: float = 0.0
    own_flags: tuple[int, int] = (0, 0)  # the member's own openness and appeal (-1/0/1)

    def at(self, slot: int) -> int:
        """Index of ``slot`` in ``slots``, or -1."""
        i = int(np.searchsorted(self.slots, slot))
        return i if i < len(self.slots) and self.slots[i] == slot else -1

    def flags_of(self, slot: int, rate_flags: tuple[int, int]) -> tuple[int, ...]:
        """direct, taste, reciprocal, the candidate's appeal and openness, the member's own
        openness and appeal."""
        i = self.at(slot) if len(self.slots) else -1
        theirs = tuple(self.flags[i].tolist()) if i >= 0 else (0, 0, 0)
        return theirs + rate_flags + self.own_flags


class Engine:
    """In-memory matching engine; all methods are thread-safe (one re-entrant lock)."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        today: date | None = None,
        capacity: int = 1024,
        region_names: Mapping[int, str] | None = None,
        tag_labels: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self._today = today
        self._names = region_names
        # Display names of hobby / personality codes ("travel" → "旅游") for explanations.
        self._tag_labels = {k.strip().lower(): v for k, v in (tag_labels or {}).items()}
        self._lock = threading.RLock()
        self._store = ColumnStore(capacity, self.config.text_tokens)
        self._derived = DerivedRows(self.config, PROFILE_COLUMN_NAMES)
        self._text = TextIndex(self.config.text_tokens)
        self._views = (SortedView(0, self._view_columns), SortedView(1, self._view_columns))
        self._feedback: dict[int, FeedbackState] = {}
        # Slots of members with learned bounds (their dislikes penalise look-alikes of
        # the people they rejected when those ask for recommendations).
        self._bounded: set[int] = set()
        self._bounded_cache: tuple[np.ndarray, Mapping[str, np.ndarray]] | None = None
        self._graph = InteractionGraph()
        # The directional yes-model (learned coefficients replace the defaults, set_model).
        self.model = Model()
        # Every slot's logit shifts from its own rates, (capacity, 2) float32: appeal
        # (moves p(A→B) when the slot is the candidate) and openness (moves p(B→A)), with
        # the largest of each; cached until an answer, a removal or a new model.
        self._rates: tuple[np.ndarray, float, float] | None = None
        self._rated = _EMPTY_SLOTS  # sorted slots whose own rates shift anything
        self._boosts: dict[int, dict[int, Boost]] = {}
        self._height_sum = [0.0, 0.0]
        self._height_n = [0, 0]
        # How many members state each criterion (B→A scoring skips unused criteria).
        self._pref_counts = np.zeros(len(CRITERIA), dtype=np.int64)
        # Recently used rows as Python ints; an entry is dropped whenever its row changes.
        self._row_cache: dict[int, dict[str, int]] = {}
        # Members left out because their data could not be encoded: id → reason.
        self._skipped: dict[int, str] = {}

    # --- construction -----------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        profiles: Iterable[Profile],
        config: EngineConfig | None = None,
        *,
        today: date | None = None,
        capacity: int | None = None,
        region_names: Mapping[int, str] | None = None,
        tag_labels: Mapping[str, str] | None = None,
    ) -> Engine:
        """An engine loaded with ``profiles`` (any iterable; streamed in chunks).

        ``capacity`` pre-sizes the arrays (defaults to len(profiles) + 1/8 when known)."""
        if capacity is None:
            capacity = len(profiles) + len(profiles) // 8 if isinstance(profiles, Sequence) else 0
        engine = cls(
            config,
            today=today,
            capacity=max(capacity, 1024),
            region_names=region_names,
            tag_labels=tag_labels,
        )
        engine._load(profiles)
        return engine

    def _load(self, profiles: Iterable[Profile]) -> None:
        with self._lock:
            start = self._store.high_water
            rows: list[tuple[int, ...]] = []
            ids: list[int] = []
            tokens: list[list[int]] = []
            for profile in profiles:
                # One record that cannot be encoded is reported and left out; it never stops
                # the build for everyone else.
                try:
                    row = encode(profile)
                    token_ids = self._text.select(*self._text.tokens_of(profile))
                except Exception as exc:  # any failure is this record's alone
                    self._skip(getattr(profile, "id", None), f"cannot encode: {exc!r}")
                    continue
                rows.append(row)
                ids.append(profile.id)
                tokens.append(token_ids)
                if len(rows) == _CHUNK:
                    self._load_chunk(rows, ids, tokens)
                    rows, ids, tokens = [], [], []
            if rows:
                self._load_chunk(rows, ids, tokens)
            store = self._store
            slots = np.arange(start, store.high_water)
            self._pref_counts += self._pref_flags(slots).sum(axis=0)
            self._row_cache.clear()
            for start in range(0, len(slots), _CHUNK):  # chunks bound the temporaries
                part = slots[start : start + _CHUNK]
                store.tok_norm[part] = self._text.norms(store.tokens[part])
            sex, height = store.cols["sex"][slots], store.cols["height"][slots]
            for g in (0, 1):
                known = (sex == g) & (height > 0)
                self._height_sum[g] += float(height[known].sum())
                self._height_n[g] += int(known.sum())
            for view in self._views:
                view.rebuild(store)
            _return_freed_memory()

    def _load_chunk(
        self, rows: list[tuple[int, ...]], ids: list[int], tokens: list[list[int]]
    ) -> None:
        store = self._store
        fits = rows_in_range(rows)
        if not fits.all():
            for i in np.flatnonzero(~fits).tolist():
                columns = ", ".join(out_of_range_columns(rows[i]))
                self._skip(ids[i], f"values out of range: {columns}")
            keep = np.flatnonzero(fits).tolist()
            rows, ids, tokens = (
                [rows[i] for i in keep],
                [ids[i] for i in keep],
                [tokens[i] for i in keep],
            )
            if not rows:
                return
        id_arr = np.asarray(ids, dtype=np.int64)
        if len(np.unique(id_arr)) != len(id_arr) or (store.idmap.lookup(id_arr) >= 0).any():
            raise ValueError("duplicate member ids in build")
        slots = store.allocate_many(id_arr)
        store.write_rows(slots, np.asarray(rows, dtype=np.int32))
        width = self._text.width
        block = np.zeros((len(slots), width), dtype=np.int32)
        for i, row in enumerate(tokens):
            block[i, : len(row)] = row
        store.set_tokens(slots, block)
        present = block[block > 0]
        if len(present):
            counts = np.bincount(present, minlength=len(self._text.df))
            self._text.df[: len(counts)] += counts.astype(np.int32)
        self._text.docs += int((block > 0).any(axis=1).sum())
        self._derive(slots)
        cols = store.cols
        store.eligible[slots] = self._eligible_mask(cols["status"][slots], cols["marital"][slots])

    def _derive(self, slots: np.ndarray) -> None:
        """Fill the derived columns (level codes, acceptance tables) of ``slots``."""
        cols = self._store.cols
        rows = {name: cols[name][slots] for name in _DERIVE_FROM}
        for name, values in level_codes(rows).items():
            cols[name][slots] = values
        for name, values in acceptance_tables(rows, self.config).items():
            cols[name][slots] = values

    def _pref_flags(self, slots: np.ndarray | int) -> np.ndarray:
        """Which criteria the members in ``slots`` state (importance > 0 or must)."""
        cols = self._store.cols
        if isinstance(slots, int):  # one row: Python scalars beat a stack of 0-d arrays
            must = int(cols["must"][slots])
            return np.array(
                [
                    bool(cols[f"imp_{name}"][slots] > 0 or must & CRITERION_BIT[name])
                    for name in CRITERIA
                ]
            )
        must = cols["must"][slots]
        return np.stack(
            [
                (cols[f"imp_{name}"][slots] > 0) | ((must & CRITERION_BIT[name]) != 0)
                for name in CRITERIA
            ],
            axis=-1,
        )

    def _view_columns(self, cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return view_columns(cols, self.config)

    def _scorer(self, today_key: int) -> Scorer:
        stated = frozenset(
            n for n, c in zip(CRITERIA, self._pref_counts.tolist(), strict=True) if c
        )
        return Scorer(self.config, today_key, stated, (self.model.liked, self.model.declined))

    def _eligible_mask(self, status: np.ndarray | int, marital: np.ndarray | int) -> np.ndarray:
        ok = status == STATUS_CODE["active"]
        if self.config.rules.exclude_married:
            ok &= marital != MARRIED
        return ok

    # --- members ----------------------------------------------------------------------------------

    @property
    def today(self) -> date:
        return self._today or datetime.now(CHINA_TZ).date()

    def __len__(self) -> int:
        return self._store.count

    def __contains__(self, member_id: object) -> bool:
        return isinstance(member_id, int) and self._store.slot_of(member_id) >= 0

    def upsert(self, profile: Profile) -> None:
        """Add or replace a member; visible to the next recommend.

        Raises ValueError, leaving the engine unchanged, when the profile cannot be encoded
        (the caller decides: keep the old row, or ``skip`` the member)."""
        try:
            row = encode(profile)
            tags, words = self._text.tokens_of(profile)  # jieba outside the lock
        except Exception as exc:  # whatever fails, the engine stays as it was
            raise ValueError(
                f"member {getattr(profile, 'id', None)}: cannot encode: {exc!r}"
            ) from exc
        bad = out_of_range_columns(row)
        if bad:
            raise ValueError(f"member {profile.id}: values out of range: {', '.join(bad)}")
        with self._lock:
            self._skipped.pop(profile.id, None)
            store, text = self._store, self._text
            slot = store.slot_of(profile.id)
            if slot < 0:
                slot = store.allocate(profile.id)
                if self._graph.rates.knows(profile.id):
                    self._rates = None  # their answers came before their profile
            else:
                text.remove_doc(store.tokens[slot])
                self._height_stat(slot, -1)
                self._pref_counts -= self._pref_flags(slot)
            # (only the values that change are written: `ColumnStore.write_values`)
            store.write_row(slot, row)
            values = dict(zip(_DERIVE_FROM, row, strict=True))
            store.write_values(slot, self._derived.row(values).items())
            self._pref_counts += self._pref_flags(slot)
            token_row, _ = text.row(text.select(tags, words))
            store.set_tokens(slot, token_row)
            text.add_doc(token_row)
            norm = np.float32(text.row(list(token_row[token_row > 0]))[1])
            if store.tok_norm[slot] != norm:
                store.tok_norm[slot] = norm
            eligible = bool(self._eligible_mask(values["status"], values["marital"]))
            if store.eligible[slot] != eligible:
                store.eligible[slot] = eligible
            self._height_stat(slot, +1)
            self._touch(slot)

    def remove(self, member_id: int) -> bool:
        """Forget a member; False if unknown.  They are never returned again."""
        with self._lock:
            self._skipped.pop(member_id, None)
            store = self._store
            slot = store.slot_of(member_id)
            if slot < 0:
                return False
            self._text.remove_doc(store.tokens[slot])
            self._height_stat(slot, -1)
            self._pref_counts -= self._pref_flags(slot)
            store.eligible[slot] = False
            self._touch(slot)
            store.release(slot)
            self._feedback.pop(member_id, None)
            self._bounded.discard(slot)
            self._bounded_cache = None
            self._boosts.pop(member_id, None)
            self._graph.forget(member_id)
            self._rates = None
            return True

    def skip(self, member_id: int, reason: str) -> None:
        """Leave a member out because their data cannot be used (the caller found it out,
        e.g. while building the profile); they are removed if loaded, and reported in
        ``skipped`` until an ``upsert`` or ``remove`` of that id."""
        with self._lock:
            self.remove(member_id)
            self._skip(member_id, reason)

    def _skip(self, member_id: int | None, reason: str) -> None:
        logger.warning("matching engine: member %s left out: %s", member_id, reason)
        if isinstance(member_id, int):
            self._skipped[member_id] = reason

    @property
    def skipped(self) -> dict[int, str]:
        """Members left out because their data could not be used: id → reason."""
        with self._lock:
            return dict(self._skipped)

    def _height_stat(self, slot: int, sign: int) -> None:
        height = int(self._store.cols["height"][slot])
        if height > 0:
            g = int(self._store.cols["sex"][slot])
            self._height_sum[g] += sign * height
            self._height_n[g] += sign

    def _touch(self, slot: int) -> None:
        """Row ``slot`` changed: mask it out of the sorted views, queue it in the delta."""
        store = self._store
        self._row_cache.pop(slot, None)
        if slot in self._bounded:
            self._bounded_cache = None
        pos = int(store.view_pos[slot])
        if pos >= 0:
            for view in self._views:
                if pos < len(view.slots) and view.slots[pos] == slot:
                    view.invalidate(pos)
            store.view_pos[slot] = -1
        for view in self._views:
            view.delta.discard(slot)
        if store.eligible[slot]:
            self._views[int(store.cols["sex"][slot])].delta.add(slot)

    def set_statuses(self, ids: Sequence[int], statuses: Sequence[str]) -> int:
        """Change only the status of members (an agency changed who may be matched at all):
        no profile is encoded again.  ``statuses`` are Profile statuses or "hidden"; unknown
        ids are ignored.  Returns how many rows changed."""
        codes = np.asarray([STATUS_CODE[s] for s in statuses], dtype=np.int8)
        with self._lock:
            store = self._store
            slots = store.idmap.lookup(np.asarray(ids, dtype=np.int64))
            known = slots >= 0
            slots, codes = slots[known], codes[known]
            changed = store.cols["status"][slots] != codes
            slots, codes = slots[changed], codes[changed]
            store.cols["status"][slots] = codes
            store.eligible[slots] = self._eligible_mask(codes, store.cols["marital"][slots])
            for slot in slots.tolist():
                self._touch(slot)
            return len(slots)

    def reconfigure(self, config: EngineConfig) -> None:
        """Use ``config`` from now on (an agency changed its hard rules): the columns derived
        from the configuration and the eligibility are recomputed for every member,
        vectorised, instead of rebuilding the engine from profiles."""
        if config.text_tokens != self.config.text_tokens:
            raise ValueError("the number of text tokens cannot change; rebuild the engine")
        with self._lock:
            self.config = config
            self._derived = DerivedRows(config, PROFILE_COLUMN_NAMES)
            store = self._store
            slots = np.flatnonzero(store.alive[: store.high_water])
            for start in range(0, len(slots), _CHUNK):
                part = slots[start : start + _CHUNK]
                self._derive(part)
                cols = store.cols
                store.eligible[part] = self._eligible_mask(
                    cols["status"][part], cols["marital"][part]
                )
            self._row_cache.clear()
            self._bounded_cache = None
            store.view_pos[:] = -1
            for view in self._views:
                view.rebuild(store)

    def compact(self) -> None:
        """Rebuild the sorted views and compact the interaction graph now (otherwise this
        happens lazily)."""
        with self._lock:
            for view in self._views:
                view.rebuild(self._store)
            self._graph.compact()
            _return_freed_memory()

    def _member(self, member_id: int, today_key: int) -> Member:
        slot = self._store.slot_of(member_id)
        if slot < 0:
            raise KeyError(f"unknown member {member_id}")
        cached = self._row_cache.get(slot)
        if cached is None:
            if len(self._row_cache) >= 4096:
                self._row_cache.clear()
            cached = self._row_cache[slot] = self._store.row(slot)
        row = dict(cached)
        row["id"] = member_id
        row["age"] = (today_key - row["birth"]) // 10000
        return Member(slot, row)

    # --- rules on one member ----------------------------------------------------------------------

    def _legal_age(self, sex: int) -> int:
        rules = self.config.rules
        return rules.min_age_male if sex == 0 else rules.min_age_female

    def _own_failures(
        self, row: Mapping[str, int], direction: Direction, who: str
    ) -> list[RuleFailure]:
        """Rules one side fails on its own: status, marriage, legal age."""
        out: list[RuleFailure] = []
        if row["status"] != STATUS_CODE["active"]:
            status = msg.STATUS_LABELS[STATUSES[row["status"]]]
            text = expl.rule_text("status", who, status=status)
            out.append(RuleFailure("status", direction, None, text))
        if self.config.rules.exclude_married and row["marital"] == MARRIED:
            text = expl.rule_text("married", who)
            out.append(RuleFailure("married", direction, None, text))
        minimum = self._legal_age(row["sex"])
        if row["age"] < minimum:
            sex = msg.SEX_LABELS[SEX_OF_CODE[row["sex"]]]
            text = expl.rule_text("legal_age", who, age=row["age"], sex=sex, minimum=minimum)
            out.append(RuleFailure("legal_age", direction, None, text))
        return out

    def _target_sexes(self, sex: int) -> tuple[int, ...]:
        pairing = self.config.rules.sex_pairing
        if pairing == "opposite":
            return (1 - sex,)
        if pairing == "same":
            return (sex,)
        return (0, 1)

    def _window(self, row: Mapping[str, int], sex: int, today_key: int) -> tuple[int, int] | None:
        """Birth-key range of the candidates of ``sex`` who may pass this member's age rules:
        the legal age, a must-have age range, or a soft one widened to where its age credit
        reaches zero (the age window rule)."""
        legal = self._legal_age(sex)
        lo_age, hi_age = legal, 150
        if row["must"] & CRITERION_BIT["age"]:
            lo_age, hi_age = max(lo_age, row["p_age_lo"]), min(hi_age, row["p_age_hi"])
        elif row["imp_age"] > 0 and self.config.rules.age_window:
            reach = age_reach(self.config.tolerances)
            lo_age = max(legal, row["p_age_lo"] - reach)
            hi_age = min(150, row["p_age_hi"] + reach)
        if lo_age > hi_age:
            return None
        return today_key - (hi_age + 1) * 10000 + 1, today_key - lo_age * 10000

    def _fit_points(
        self,
        fit_ab: np.ndarray,
        fit_ba: np.ndarray,
        shift_ab: np.ndarray | float = 0.0,
        shift_ba: np.ndarray | float = 0.0,
    ) -> np.ndarray:
        """Points of the mutual probability √(p(A→B)·p(B→A)) (see `Model`), scaled so that
        a pair meeting both sides' preferences, with no history, gets ``weights.fit``.
        Increasing in both fits and both shifts (the bounds of `_score_windows` rely on it)."""
        m = self.model
        z_ab = np.float32(m.intercept) + np.float32(m.fit) * fit_ab + shift_ab
        z_ba = np.float32(m.intercept) + np.float32(m.fit) * fit_ba + shift_ba
        # √(σ(x)·σ(y)) = 1/√((1 + e^-x)(1 + e^-y)); an overflow to inf gives 0, as it should
        with np.errstate(over="ignore"):
            e = np.exp(-np.asarray(z_ab, dtype=np.float32))
            e2 = np.exp(-np.asarray(z_ba, dtype=np.float32))
        ref = 1.0 + np.exp(-(m.intercept + m.fit))  # 1/σ at a perfect fit
        scale = np.float32(self.config.weights.fit * ref)
        return scale / np.sqrt((np.float32(1.0) + e) * (np.float32(1.0) + e2))

    def _fit_invertible(self) -> bool:
        """Whether `_fit_points` strictly increases with fit_a_to_b (`_fit_threshold`)."""
        return self.model.fit > 0 and self.config.weights.fit > 0

    def _fit_threshold(self, points: float, shift_ab: float, shift_ba: float) -> float:
        """A fit_a_to_b under which `_fit_points(fit, 1, shift_ab, shift_ba)` stays below
        ``points``: the inverse in float64, for ``points`` less a slack far above the
        float32 rounding of `_fit_points` (rows above it are then checked exactly)."""
        m = self.model
        lowest = float(np.nextafter(_FAILED, np.float32(0.0)))  # every row that passed
        points -= _THRESHOLD_SLACK
        if points <= 0:
            return lowest
        ref = 1.0 + np.exp(-(m.intercept + m.fit))
        scale = self.config.weights.fit * ref
        e2 = np.exp(-(m.intercept + m.fit + float(shift_ba)))
        # points = scale / sqrt((1 + e^-z)(1 + e2)), z = intercept + fit·x + shift_ab
        room = (scale / points) ** 2 / (1.0 + e2) - 1.0
        if room <= 0:
            return np.inf
        fit = (-np.log(room) - m.intercept - float(shift_ab)) / m.fit
        return max(lowest, float(np.nextafter(np.float32(fit - 1e-6), np.float32(-np.inf))))

    # --- recommend --------------------------------------------------------------------------------

    def recommend(
        self,
        member_id: int,
        k: int = 20,
        exclude: Iterable[int] = (),
        *,
        include_rejected: bool = False,
        explain: bool = True,
    ) -> list[Result]:
        """The member's best ``k`` candidates, best first (pinned ones on top).

        Candidates failing any hard rule are never returned; candidates the member rejected
        are left out unless ``include_rejected``; ``exclude`` drops more ids.
        """
        if k <= 0:
            return []
        with self._lock:
            today_key = birth_key(self.today)
            me = self._member(member_id, today_key)
            if self._own_failures(me.row, B_TO_A, ""):
                return []
            q = self._query(me, today_key, exclude, include_rejected)
            windows = [
                (sex, window)
                for sex in self._target_sexes(me.row["sex"])
                if (window := self._window(me.row, sex, today_key)) is not None
            ]
            parts, floor = self._score_windows(q, windows, k)
            parts += self._score_boosted(q)
            ranked, text, final, kk = self._ranking(q, parts, k, floor)
            if ranked is None or kk == 0:
                return []
            # Order: the score as shown (one decimal), then the tie-breakers: the weaker
            # direction's fit (higher first: both sides content), then the lower id (the
            # member who has waited longer).  Ties at the k-th place are all considered.
            shown = _shown(final)
            kth = np.partition(shown, len(shown) - kk)[len(shown) - kk]
            top = np.flatnonzero(shown >= kth)
            ids = self._store.ids[ranked.slots[top]]
            weaker = np.minimum(ranked.fit_ab[top], ranked.fit_ba[top])
            top = top[np.lexsort((ids, -weaker, -shown[top]))][:kk]
            return self._results(me, ranked, text, top, today_key, explain)

    def _query(
        self, me: Member, today_key: int, exclude: Iterable[int], include_rejected: bool
    ) -> _Query:
        store = self._store
        fb = self._feedback.get(me.id)
        boosts = {
            slot: b
            for cid, b in self._boosts.get(me.id, {}).items()
            if (slot := store.slot_of(cid)) >= 0
        }
        excluded = {me.slot}
        excluded.update(s for cid in exclude if (s := store.slot_of(cid)) >= 0)
        if fb is not None and not include_rejected:
            excluded.update(s for cid in fb.rejected if (s := store.slot_of(cid)) >= 0)
        scorer = self._scorer(today_key)
        return _Query(me, today_key, fb, scorer, boosts, excluded, self._behaviour(me.id))

    def _window_blocks(
        self, windows: list[tuple[int, tuple[int, int]]]
    ) -> list[tuple[int, Block, int | None, SortedView | None]]:
        """The rows of the windows: (sex, block, must bits any row may have, the view the
        block is a slice of) for each view slice and for the rows changed since the view
        was copied (no view)."""
        store = self._store
        blocks: list[tuple[int, Block, int | None, SortedView | None]] = []
        for sex, (lo_key, hi_key) in windows:
            view = self._views[sex]
            if view.needs_rebuild(self.config.rebuild_threshold):
                view.rebuild(store)
            block = view.window(lo_key, hi_key)
            if len(block):
                blocks.append((sex, block, view.must_any, view))
            delta = view.delta_block(store, lo_key, hi_key)
            if delta is not None:
                blocks.append((sex, delta, None, None))
        return blocks

    def _score_windows(
        self, q: _Query, windows: list[tuple[int, tuple[int, int]]], k: int
    ) -> tuple[list[tuple[BlockScores, bool]], float]:
        """Score the rows of the windows that can make the top ``k``; returns the scored
        parts and a floor no row of the top ``k`` is below.

        Bound first: the member's side of every row (fit_a_to_b, the member's own hard
        rules, the candidates' age ranges) is cheap; with the rows' behaviour shifts it
        gives an upper bound of each row's final score (a perfect fit_b_to_a, every text
        and like point).  The rows with the best bounds are scored fully first; the k-th
        best of their final scores is a floor the top k cannot be below, and only the rows
        whose bound reaches it are scored.  The result is exactly that of scoring every
        row (`test_engine_bounds.py`), whatever the rows' order."""
        blocks = self._window_blocks(windows)
        total = sum(len(block) for _, block, _, _ in blocks)
        if total == 0:
            return [], -np.inf
        if total < _PRUNE_FROM:
            parts: list[tuple[BlockScores, bool]] = []
            for sex, block, must_any, _ in blocks:
                parts += self._score_rows(q, sex, block, must_any, None)
            return parts, -np.inf
        bounds, fits, shifts = [], [], []
        for sex, block, _, _ in blocks:
            bound, fit_ab, shift = self._bounds_of(q, sex, block)
            bounds.append(bound)
            fits.append(fit_ab)
            shifts.append(shift)
        offsets = np.cumsum([0] + [len(b) for b in bounds])
        size = max(_SEED_ROWS, _SEED_PER_RESULT * k)
        text_most = np.float32(max(self.config.weights.text, 0.0))
        pool = _SEED_TEXT_POOL * size if text_most > 0 else size
        best = [b.best(pool) for b in bounds]
        seed = np.concatenate([rows + lo for (rows, _), lo in zip(best, offsets[:-1], strict=True)])
        flat = np.concatenate([bound for _, bound in best])
        if len(seed) > pool:  # the best of several blocks
            top = np.sort(np.argpartition(-flat, pool - 1)[:pool])
            seed, flat = seed[top], flat[top]
        if len(seed) > size:
            # text decides among rows of equal fit: the seed is the best of a larger pool
            # by its bound with the rows' real text points (a floor closer to the k-th)
            slots = np.concatenate(
                [
                    b.slots[seed[(seed >= lo) & (seed < hi)] - lo]
                    for (_, b, _, _), lo, hi in zip(blocks, offsets[:-1], offsets[1:], strict=True)
                ]
            )
            refined = flat - text_most + self._text_points(q.me, slots)
            seed = np.sort(seed[np.argpartition(-refined, size - 1)[:size]])
        seed_parts = []
        for (sex, block, must_any, _), fit_ab, lo, hi in zip(
            blocks, fits, offsets[:-1], offsets[1:], strict=True
        ):
            rows = seed[(seed >= lo) & (seed < hi)] - lo
            seed_parts += self._score_rows(q, sex, block, must_any, rows, fit_ab)
        _, _, final, kk = self._ranking(q, seed_parts, k)
        if kk < k:  # too few eligible among the seed: no floor, every possible row
            floor = -np.inf
        else:
            floor = float(np.partition(final, len(final) - k)[len(final) - k]) - _TIE_SLACK
        parts = []
        reach = floor - _BOUND_MARGIN
        for (sex, block, must_any, view), bound, fit_ab, shift in zip(
            blocks, bounds, fits, shifts, strict=True
        ):
            # -inf: a rule of the member's side failed (never scored, even without a floor)
            rows, reached = bound.reaching(reach)
            if reached is not None and len(rows):
                rows = self._reaching(q, block, view, rows, reached, fit_ab, shift, reach)
            parts += self._score_rows(q, sex, block, must_any, rows, fit_ab)
        return parts, floor

    def _reaching(
        self,
        q: _Query,
        block: Block,
        view: SortedView | None,
        rows: np.ndarray,
        bound: np.ndarray,
        fit_ab: np.ndarray,
        shift: _Shifts,
        reach: float,
    ) -> np.ndarray:
        """Of the ``rows`` whose bound reaches the floor, those that still reach it with
        tighter bounds, cheapest first: at most the text points their token signatures
        allow (a few integer operations a row), then at most the fit_b_to_a the
        candidates' age, height and weight wishes allow (read from the rows' columns),
        then their real text points (a gather of their token rows).  The last three only
        for the rows whose text decides whether they reach."""
        text_most = np.float32(max(self.config.weights.text, 0.0))
        base = bound - text_most  # the bound without text (``bound``: of ``rows``)
        # Text is looked at only for the rows it decides (those reaching the floor without
        # any text are scored whatever their text).
        most = np.full(len(rows), text_most, dtype=np.float32)
        if text_most > 0 and view is not None:
            open_ = np.flatnonzero(base < reach)
            most[open_] = self._text_bound(q.me, view, block.view_start + rows[open_])
            keep = base + most >= reach
            rows, base, most = rows[keep], base[keep], most[keep]
        open_ = np.flatnonzero(base < reach)
        if text_most > 0 and len(open_):
            at = rows[open_]
            cols = block.cols
            if isinstance(cols, Columns):
                cols = cols.rows(at, _BA_BOUND_COLUMNS)
            else:
                cols = {name: cols[name][at] for name in _BA_BOUND_COLUMNS}
            fit_ba = q.scorer.candidate_bound(q.me, cols)
            shift_ab, shift_ba = shift.at(at)
            tighter = self._fit_points(fit_ab[at], fit_ba, shift_ab, shift_ba)
            base[open_] = np.minimum(base[open_], tighter)
            keep = base + most >= reach
            rows, base = rows[keep], base[keep]
        if text_most > 0 and len(rows):
            open_ = np.flatnonzero(base < reach)
            text = self._text_points(q.me, block.slots[rows[open_]])
            keep = np.ones(len(rows), dtype=bool)
            keep[open_] = base[open_] + text >= reach
            rows = rows[keep]
        return rows

    def _bounds_of(self, q: _Query, sex: int, block: Block) -> tuple[_Bound, np.ndarray, _Shifts]:
        """`_bounds` of a large block in two halves at once (numpy releases the GIL in its
        loops: with a second core free, half the wall time)."""
        if len(block) < _SPLIT_ROWS:
            return self._bounds(q, sex, block)
        # what both halves read and cache, computed once beforehand
        q.scorer.member_tables(q.me)
        q.scorer.indexed_tables(q.me)
        if q.collab is not None:
            self._rate_shifts()
        mid = len(block) // 2
        first = _helper().submit(self._bounds, q, sex, block.part(0, mid))
        b2, f2, s2 = self._bounds(q, sex, block.part(mid, len(block)))
        b1, f1, s1 = first.result()
        return b1.join(b2, mid), np.concatenate([f1, f2]), s1.join(s2, mid)

    def _text_bound(self, me: Member, view: SortedView, pos: np.ndarray) -> np.ndarray:
        """At least the text points of the member with the view rows at ``pos``: a row has
        every signature bit of the tokens it shares with the member, so the shared idf
        weight is at most, per group of the member's bits, the bits the row has times the
        group's largest weight (over the same norms as `_text_points`)."""
        store = self._store
        weight = np.float32(self.config.weights.text)
        my_norm = float(store.tok_norm[me.slot])
        if weight <= 0 or my_norm <= 0:
            return np.zeros(len(pos), dtype=np.float32)
        mine = store.tokens[me.slot]
        ids = mine[mine > 0].astype(np.int64)
        w = self._text.idf(ids)
        per_bit = np.zeros(64, dtype=np.float32)
        np.add.at(per_bit, token_bits(ids), w * w)
        used = np.flatnonzero(per_bit)
        used = used[np.argsort(-per_bit[used], kind="stable")]
        sig = view.sig.take(pos)
        shared = np.zeros(len(pos), dtype=np.float32)
        for group in np.array_split(used, min(_TEXT_GROUPS, len(used))):
            mask = np.bitwise_or.reduce(np.uint64(1) << group.astype(np.uint64))
            shared += np.bitwise_count(sig & mask) * per_bit[group[0]]
        denom = np.maximum(view.tok_norm.take(pos) * np.float32(my_norm), np.float32(1e-6))
        # float32 sums in another order than the real similarity's: a hair of slack
        sim = np.minimum(shared * np.float32(1.0 + 1e-4) / denom, np.float32(1.0))
        return weight * sim

    def _text_points(self, me: Member, slots: np.ndarray) -> np.ndarray:
        """Text points of the member with each of ``slots`` (exactly those of the ranking:
        `_contenders`), in chunks that stay in the cache."""
        store = self._store
        weight = np.float32(self.config.weights.text)
        my_norm = float(store.tok_norm[me.slot])
        out = np.zeros(len(slots), dtype=np.float32)
        if weight <= 0 or my_norm <= 0:
            return out
        mine = store.tokens[me.slot]
        for start in range(0, len(slots), _TEXT_CHUNK):
            s = slots[start : start + _TEXT_CHUNK]
            theirs = store.tokens.take(s, axis=0)  # take: fancy indexing is ~5x slower
            sim = self._text.similarity(mine, my_norm, theirs, store.tok_norm.take(s))
            out[start : start + len(s)] = weight * sim
        return out

    def _bounds(self, q: _Query, sex: int, block: Block) -> tuple[_Bound, np.ndarray, _Shifts]:
        """Upper bound of the final score of every row of ``block`` (-inf for rows failing
        a hard rule found on the way): the exact fit_a_to_b and behaviour shifts, a perfect
        fit_b_to_a, the most text points and likes' shift, no reason to decline.  And
        fit_a_to_b and the shifts of both directions the bound used."""
        fit_ab, ok = q.scorer.member_side(q.me, block, sex)
        age = q.me.row["age"]
        ok &= block.cols["acc_age_lo"] <= age
        ok &= block.cols["acc_age_hi"] >= age
        view_pos = self._store.view_pos

        def locate(slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return block.locate(view_pos[slots], slots)

        one = np.float32(1.0)
        text = np.float32(max(self.config.weights.text, 0.0))
        # likes move p(A→B) by at most their coefficient (resemblance is at most 1)
        liked = np.float32(max(self.model.liked, 0.0) if q.fb is not None and q.fb.likes else 0.0)
        n = len(block)
        sparse = None if q.collab is None else self._sparse_shifts(q, n, locate)
        every = False  # every row its own shifts (many members have answers)
        if sparse is None:
            shift_ab, shift_ba = self._row_shifts(q, block.slots, locate)
            if isinstance(shift_ab, np.ndarray):
                every = True
                zero = np.float32(0.0)
                shifts = _Shifts(zero, zero, np.arange(n), shift_ab + liked, shift_ba)
            else:
                shifts = _Shifts(np.float32(shift_ab + liked), np.float32(shift_ba))
        else:  # most rows share the member's own shifts; the few others are bounded apart
            own_ab, own_ba, rows, ab, ba = sparse
            shifts = _Shifts(own_ab + liked, own_ba, rows, ab + liked, ba)

        def points(key: np.ndarray) -> np.ndarray:
            return self._fit_points(key, one, shifts.ab, shifts.ba) + text

        def threshold(reach: float) -> float:
            return self._fit_threshold(reach - float(text), shifts.ab, shifts.ba)

        own = shifts.rows
        if every:  # (own: every row in order)
            bound = self._fit_points(fit_ab, one, shifts.row_ab, shifts.row_ba) + text
            bound[~ok] = -np.inf
            return _Bound(None, points, threshold, own, bound), fit_ab, shifts
        own_bound = self._fit_points(fit_ab[own], one, shifts.row_ab, shifts.row_ba) + text
        own_bound[~ok[own]] = -np.inf
        if len(own) == n or not self._fit_invertible():
            bound = np.full(n, -np.inf, dtype=np.float32)
            if len(own) < n:
                bound[ok] = points(fit_ab[ok])
            bound[own] = own_bound
            return _Bound(None, points, threshold, np.arange(n), bound), fit_ab, shifts
        key = fit_ab + _FAILED * ~ok  # (6x faster than np.where)
        key[own] = _FAILED
        return _Bound(key, points, threshold, own, own_bound), fit_ab, shifts

    def _score_rows(
        self,
        q: _Query,
        sex: int,
        block: Block,
        must_any: int | None,
        rows: np.ndarray | None,
        fit_ab: np.ndarray | None = None,
    ) -> list[tuple[BlockScores, bool]]:
        """Score the rows of ``block`` (``rows``, ascending; None: all) that pass every hard
        rule (the prefilter's integer compares first); ``fit_ab``: the member's side of
        every row of ``block`` when known.  Few rows are gathered; when most of the block
        is scored, gathering would cost more than it saves, so it is masked instead."""
        pf = self._prefilter(q, sex)
        if must_any is None:
            must_any = int(np.bitwise_or.reduce(block.cols["must"])) if len(block) else 0
        if rows is None or len(rows) * _GATHER_SHARE > len(block):
            if rows is not None:
                keep = np.zeros(len(block), dtype=bool)
                keep[rows] = True
                if block.valid is not None:
                    keep &= block.valid
                block = Block(
                    block.cols, block.slots, keep, block.view_start, block.view_len, block.view_rows
                )
            # rows of `_bounds` passed the member's side's rules already
            ok = pf.mask(block, must_any) if fit_ab is None else pf.mask_ba(block, must_any)
            rows = np.flatnonzero(ok)
            if len(rows) * _GATHER_SHARE > len(block):
                block = Block(
                    block.cols, block.slots, ok, block.view_start, block.view_len, block.view_rows
                )
                return self._evaluate_survivors(q, block, fit_ab)
        elif len(rows):
            if fit_ab is None:
                block = block.take(rows, pf.scored_columns + FILTER_COLUMNS)
                ok = pf.mask(block, must_any)
            else:  # rows of `_bounds`: the member's side is known and its rules applied
                signal = q.fb is not None and q.fb.has_signal()  # feedback reads them all
                block = block.take(rows, pf.scored_columns if signal else pf.candidate_columns)
                fit_ab = fit_ab[rows]
                ok = pf.mask_ba(block, must_any)
            rows = np.flatnonzero(ok)
            if len(rows) * _GATHER_SHARE > len(block):  # most pass: no second gather
                block = Block(
                    block.cols, block.slots, ok, block.view_start, block.view_len, block.view_rows
                )
                return self._evaluate_survivors(q, block, fit_ab)
        if not len(rows):
            return []
        fit_ab = None if fit_ab is None else fit_ab[rows]
        return self._evaluate_survivors(q, block.take(rows, pf.scored_columns), fit_ab)

    def _evaluate_survivors(
        self, q: _Query, block: Block, fit_ab: np.ndarray | None
    ) -> list[tuple[BlockScores, bool]]:
        """Score rows passing every hard rule.  A large block is scored in two halves at
        once: numpy releases the GIL in its loops, so with a second core free a recommend
        takes about half the time (the CPU time stays the same)."""
        evaluate = q.scorer.evaluate_survivors
        if len(block) < _SPLIT_ROWS:
            return [(evaluate(q.me, q.fb, block, fit_ab), False)]
        mid = len(block) // 2
        fits = (None, None) if fit_ab is None else (fit_ab[:mid], fit_ab[mid:])
        first = _helper().submit(evaluate, q.me, q.fb, block.part(0, mid), fits[0])
        second = evaluate(q.me, q.fb, block.part(mid, len(block)), fits[1])
        return [(first.result(), False), (second, False)]

    def _prefilter(self, q: _Query, sex: int) -> Prefilter:
        pf = q.prefilters.get(sex)
        if pf is None:
            pf = Prefilter(self.config, q.today_key, q.me, self._legal_age(sex))
            q.prefilters[sex] = pf
        return pf

    def _survivors(self, q: _Query, sex: int, block: Block, must_any: int | None = None) -> Block:
        """Filter first: the rows of ``block`` that can pass every hard rule (the rest are
        never scored).  ``must_any``: the must bits any row may have.

        Few survivors are gathered; when most rows survive, gathering would cost more than
        it saves, so the block is kept whole with the others masked out."""
        pf = self._prefilter(q, sex)
        if must_any is None:
            must_any = int(np.bitwise_or.reduce(block.cols["must"])) if len(block) else 0
        ok = pf.mask(block, must_any)
        rows = np.flatnonzero(ok)
        if len(rows) * _GATHER_SHARE > len(block):
            return Block(
                block.cols, block.slots, ok, block.view_start, block.view_len, block.view_rows
            )
        return block.take(rows, pf.scored_columns)

    def _score_boosted(self, q: _Query) -> list[tuple[BlockScores, bool]]:
        """Boosted candidates are scored on their own, outside the age window."""
        store = self._store
        parts = []
        for sex in self._target_sexes(q.me.row["sex"]):
            boosted = sorted(
                s for s in q.boosts if store.eligible[s] and store.cols["sex"][s] == sex
            )
            if boosted:
                block = store.gather(np.asarray(boosted, dtype=np.int32), FAST_COLUMNS)
                exempt = np.ones(len(block), dtype=bool)
                scored = q.scorer.evaluate(q.me, q.fb, block, sex, window_exempt=exempt)
                parts.append((scored, True))
        return parts

    def _ranking(
        self,
        q: _Query,
        parts: list[tuple[BlockScores, bool]],
        k: int,
        floor: float = -np.inf,
    ) -> tuple[_Ranked | None, np.ndarray, np.ndarray, int]:
        """The rows that can make the top ``k`` (a superset of it), with their text points and
        final keys, and how many can be returned.  Rows that cannot reach ``floor`` are
        left out."""
        empty = np.zeros(0, dtype=np.float32)
        ranked = self._assemble(q, parts) if parts else None
        if ranked is None:
            return None, empty, empty, 0
        valid = ranked.key > _EXCLUDED / 2
        kk = min(k, int(np.count_nonzero(valid)))
        if kk == 0:
            return ranked, empty, empty, 0
        rows, text = self._contenders(q.me, ranked, kk, floor)
        fit_ab, fit_ba, mutual = ranked.fit_ab[rows], ranked.fit_ba[rows], ranked.mutual[rows]
        fit = self._fit_points(fit_ab, fit_ba)
        # The parts as shown: the fit alone, then what the answers' reasons move, then
        # what behaviour moves on top (they add up to the mutual probability's points).
        fb_ab = ranked.fb_ab[rows]
        fb_ba = ranked.fb_ba[rows] if ranked.fb_ba is not None else None
        answered = fit
        if (q.fb is not None and q.fb.has_signal()) or fb_ba is not None:
            answered = self._fit_points(fit_ab, fit_ba, fb_ab, 0.0 if fb_ba is None else fb_ba)
        ranked = _Ranked(
            slots=ranked.slots[rows],
            fit_ab=fit_ab,
            fit_ba=fit_ba,
            mutual=mutual,
            fb_ab=fb_ab,
            fb_ba=fb_ba,
            key=ranked.key[rows],
            collab_scores=ranked.collab_scores,
            fit=fit,
            feedback=answered - fit,
            collab=mutual - answered,
        )
        return ranked, text, ranked.key + text, kk

    def _bounded_columns(self) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        """Slots and learned-bound columns of the members with learned bounds, cached
        until one of them changes."""
        if self._bounded_cache is None:
            bounded = np.fromiter(self._bounded, dtype=np.int64, count=len(self._bounded))
            bounded.sort()
            self._bounded_cache = (bounded, self._store.gather(bounded, _RECIPROCAL_COLUMNS).cols)
        return self._bounded_cache

    def _locate(
        self, parts: list[tuple[BlockScores, int]], slots: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows (in the concatenation of ``parts``, each with its offset) holding any of
        ``slots``: (rows, index into slots).  Costs O(len(slots)), not O(rows)."""
        rows, which = [], []
        view_pos = self._store.view_pos[slots]
        for scores, offset in parts:
            r, w = scores.block.locate(view_pos, slots)
            rows.append(offset + r)
            which.append(w)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(which)

    def _assemble(self, q: _Query, parts: list[tuple[BlockScores, bool]]) -> _Ranked:
        def cat(name: str) -> np.ndarray:
            arrays = [getattr(p, name) for p, _ in parts]
            return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

        slots, ok = cat("slots"), cat("ok")
        fit_ab, fit_ba = cat("fit_ab"), cat("fit_ba")
        fb_ab = cat("feedback")
        offsets = np.cumsum([0] + [len(p.slots) for p, _ in parts])[:-1].tolist()
        window_parts = [
            (p, o) for (p, boosted), o in zip(parts, offsets, strict=True) if not boosted
        ]
        boost_parts = [(p, o) for (p, boosted), o in zip(parts, offsets, strict=True) if boosted]
        shift_ab, shift_ba = self._shifts(q, slots, window_parts + boost_parts)
        if q.fb is not None and q.fb.has_signal():
            shift_ab = shift_ab + fb_ab
        # The candidates' reasons against the member (their learned bounds) lower p(B→A);
        # the few slots concerned are located, never searched for.
        fb_ba = None
        if self._bounded and self.model.declined > 0:
            if q.reciprocal is None:
                bounded, cols = self._bounded_columns()
                penalty, _ = reciprocal_penalty(cols, q.me.row, self.config)
                hit = penalty > 0
                q.reciprocal = (bounded[hit], np.float32(-self.model.declined) * penalty[hit])
            hit_slots, points = q.reciprocal
            rows, which = self._locate(window_parts + boost_parts, hit_slots)
            if len(rows):
                fb_ba = np.zeros(len(slots), dtype=np.float32)
                fb_ba[rows] = points[which]
                shift_ba = shift_ba + fb_ba
        mutual = self._fit_points(fit_ab, fit_ba, shift_ab, shift_ba)
        key = mutual + (~ok) * np.float32(_EXCLUDED)

        if q.boosts:
            boosted = np.fromiter(q.boosts, dtype=np.int64, count=len(q.boosts))
            rows, _ = self._locate(window_parts, boosted)  # scored again in their own block
            key[rows] = _EXCLUDED
            rows, which = self._locate(boost_parts, boosted)
            for row, slot in zip(rows.tolist(), boosted[which].tolist(), strict=True):
                b = q.boosts[slot]
                key[row] += b.points + (_PIN if b.pin else 0.0)
        if q.excluded:
            excluded = np.fromiter(q.excluded, dtype=np.int64, count=len(q.excluded))
            rows, _ = self._locate(window_parts + boost_parts, excluded)
            key[rows] = _EXCLUDED
        return _Ranked(slots, fit_ab, fit_ba, mutual, fb_ab, fb_ba, key, q.collab)

    def _shifts(
        self, q: _Query, slots: np.ndarray, parts: list[tuple[BlockScores, int]]
    ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Logit shifts of both directions for the rows (``slots``, in ``parts``): the
        member's own rates for every row, each candidate's own rates (one gather), the
        collaborative signal for the few rows that have one."""
        return self._row_shifts(q, slots, partial(self._locate, parts))

    def _row_shifts(
        self,
        q: _Query,
        slots: np.ndarray,
        locate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Logit shifts of both directions for rows holding ``slots``: the member's own
        rates, each row's own rates (one gather), the collaborative signal of the few rows
        ``locate`` finds (rows, index into the slots given)."""
        b = q.collab
        if b is None:
            return 0.0, 0.0
        rates, _, _ = self._rate_shifts()
        both = rates.take(slots, axis=0)  # (rows, 2); take: fancy indexing is ~10x slower
        shift_ab = both[:, 0] + np.float32(b.own_ab)
        shift_ba = both[:, 1] + np.float32(b.own_ba)
        if len(b.slots):
            rows, which = locate(b.slots)
            shift_ab[rows] += b.shift_ab[which]
            shift_ba[rows] += b.shift_ba[which]
        return shift_ab, shift_ba

    def _sparse_shifts(
        self, q: _Query, n: int, locate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.float32, np.float32, np.ndarray, np.ndarray, np.ndarray] | None:
        """When fewer members have answers than there are rows: every row's shifts as the
        member's own (the same for all rows) and the rows that differ, with theirs (own,
        own, rows, ab, ba; the values `_row_shifts` gives them); None when that would not
        pay (then every row's rates are gathered)."""
        b = q.collab
        assert b is not None
        rates, _, _ = self._rate_shifts()
        rated = self._rated
        if len(rated) * _LOCATE_SHARE >= n:
            return None
        own_ab, own_ba = np.float32(b.own_ab), np.float32(b.own_ba)
        rows, which = locate(rated)
        both = rates.take(rated[which], axis=0)
        ab, ba = both[:, 0] + own_ab, both[:, 1] + own_ba
        if len(b.slots):
            collab_rows, collab_which = locate(b.slots)
            theirs = rates.take(b.slots[collab_which], axis=0)
            collab_ab = theirs[:, 0] + own_ab + b.shift_ab[collab_which]
            collab_ba = theirs[:, 1] + own_ba + b.shift_ba[collab_which]
            alone = ~np.isin(rows, collab_rows)  # rows in both: their values are the collab ones
            rows = np.concatenate([rows[alone], collab_rows])
            ab = np.concatenate([ab[alone], collab_ab])
            ba = np.concatenate([ba[alone], collab_ba])
        return own_ab, own_ba, rows, ab, ba

    def directional_fit(self, a_id: int, b_id: int) -> float:
        """How well ``b_id`` meets ``a_id``'s stated preferences, 0..1 (no rules applied):
        the learning step's fit feature."""
        return float(self.directional_fits(a_id, [b_id])[0])

    def directional_fits(self, a_id: int, b_ids: Sequence[int]) -> np.ndarray:
        """`directional_fit` of many candidates at once (one vectorised pass per sex)."""
        with self._lock:
            store = self._store
            today_key = birth_key(self.today)
            me = self._member(a_id, today_key)
            slots = np.fromiter((store.slot_of(b) for b in b_ids), np.int64, len(b_ids))
            if (slots < 0).any():
                raise KeyError(f"unknown member {b_ids[int(np.argmin(slots))]}")
            out = np.zeros(len(slots), dtype=np.float32)
            sexes = store.cols["sex"][slots]
            scorer = self._scorer(today_key)
            for sex in np.unique(sexes).tolist():
                at = np.flatnonzero(sexes == sex)
                block = store.gather(slots[at].astype(np.int32), FAST_COLUMNS)
                out[at] = scorer.member_fit(me, block)
            return np.clip(out, 0.0, 1.0)

    def set_model(self, model: Model) -> None:
        """Use these coefficients of the directional yes-model (the learning step's)."""
        with self._lock:
            self.model = model
            self._rates = None

    @property
    def rate_prior(self) -> float:
        """The rates' Beta prior in use: the model's (learned), else the config's."""
        prior = self.model.rate_prior
        return self.config.rate_prior if prior is None else prior

    def _rate_shifts(self) -> tuple[np.ndarray, float, float]:
        """Every slot's shifts from its own answer rates (see ``_rates``), cached."""
        store = self._store
        if self._rates is None or len(self._rates[0]) < len(store.ids):
            m = self.model
            ids, sel, app = self._graph.rates.offsets(self.rate_prior)
            slots = store.idmap.lookup(ids).astype(np.int64)
            known = slots >= 0
            dense = np.zeros((len(store.ids), 2), dtype=np.float32)
            dense[slots[known], 0] = np.float32(m.appeal) * app[known]
            dense[slots[known], 1] = np.float32(m.selectivity) * sel[known]
            most = dense.max(axis=0) if len(dense) else np.zeros(2, dtype=np.float32)
            self._rates = (dense, max(0.0, float(most[0])), max(0.0, float(most[1])))
            rated = np.unique(slots[known])
            self._rated = rated[(dense[rated] != 0).any(axis=1)]
        return self._rates

    def _rate_flags(self, slots: np.ndarray) -> list[tuple[int, int]]:
        """The candidates' appeal and openness as explained (-1/0/1 each)."""
        ids, sel, app = self._graph.rates.offsets(self.rate_prior)
        wanted = self._store.ids[slots]
        flags = np.zeros((len(wanted), 2), dtype=np.int64)
        if len(ids):
            at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
            hit = ids[at] == wanted
            for col, values in enumerate((app, sel)):
                v = np.where(hit, values[at], 0.0)
                flags[:, col] = np.sign(v) * (np.abs(v) >= _RATE_NOTABLE)
        return [(a, b) for a, b in flags.tolist()]

    def _behaviour(self, member_id: int) -> Behaviour | None:
        """The collaborative signal of both directions for the member's candidates reachable
        in the graph, and the member's own rates (see `Behaviour`)."""
        cfg, m = self.config, self.model
        if cfg.weights.collaborative <= 0:
            return None
        scores = self._graph.scores(member_id, cfg.collab_fanout)
        own_sel, own_app = self._graph.rates.of(member_id, self.rate_prior)
        own_ab, own_ba = m.selectivity * own_sel, m.appeal * own_app
        own_flags = (_notable(own_sel, _RATE_NOTABLE), _notable(own_app, _RATE_NOTABLE))
        slots = _EMPTY_SLOTS
        if scores is not None and len(scores.ids):
            slots = self._store.idmap.lookup(scores.ids).astype(np.int64)
        known = slots >= 0
        if not known.any():
            empty = np.zeros(0, dtype=np.float32)
            flags = np.zeros((0, 3), dtype=np.int8)
            return Behaviour(_EMPTY_SLOTS, empty, empty, flags, own_ab, own_ba, own_flags)
        slots = slots[known]
        order = np.argsort(slots)
        taste, recip = scores.taste[known][order], scores.reciprocal[known][order]
        flags = np.stack(
            [
                scores.direct[known][order].astype(np.int8),
                (np.sign(taste) * (np.abs(taste) >= _COLLAB_NOTABLE)).astype(np.int8),
                (np.sign(recip) * (np.abs(recip) >= _COLLAB_NOTABLE)).astype(np.int8),
            ],
            axis=1,
        )
        weight = np.float32(m.collaborative)
        return Behaviour(
            slots[order], weight * taste, weight * recip, flags, own_ab, own_ba, own_flags
        )

    def _contenders(
        self, me: Member, ranked: _Ranked, k: int, floor: float = -np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows that can still reach the top ``k`` and their text points.

        Text adds at most ``weight`` points.  Candidates are taken in descending order of
        their score without text, in chunks, while the best remaining one plus ``weight``
        can still beat the current k-th best total (or ``floor``); every other row's total
        is below that, so the rows examined contain the top k — exactly, whatever their
        order (rows are never cut off by their place in the view, which is birth order)."""
        weight = np.float32(self.config.weights.text)
        store = self._store
        key = ranked.key
        n = len(key)
        my_norm = float(store.tok_norm[me.slot])
        if weight <= 0 or my_norm <= 0:
            kth = np.partition(key, n - k)[n - k]
            low = max(kth - _TIE_SLACK, floor)  # rows that tie with the k-th as shown
            rows = np.flatnonzero((key >= low) & (key > _EXCLUDED / 2))
            return rows, np.zeros(len(rows), dtype=np.float32)

        def similarity(rows: np.ndarray) -> np.ndarray:
            return self._text_points(me, ranked.slots[rows])

        if n <= _TEXT_CHUNK and floor == -np.inf:
            rows = np.flatnonzero(key > _EXCLUDED / 2)
            return rows, similarity(rows)
        first = np.argpartition(-key, min(4 * k, n - 1))[: 4 * k]
        first = first[(key[first] + weight >= floor) & (key[first] > _EXCLUDED / 2)]
        rows, points = [first], [similarity(first)]
        best = np.concatenate([np.full(k, floor, dtype=np.float32), key[first] + points[0]])
        best = np.partition(best, len(best) - k)[len(best) - k :]
        tau = best.min() - _TIE_SLACK  # rows this close may tie with the k-th as shown
        done = np.zeros(n, dtype=bool)
        done[first] = True
        rest = np.flatnonzero((key + weight >= tau) & ~done)
        # descending, for the early stop below; the order among equal keys does not matter
        # (every row that can reach the top k is examined): quicksort, 4x a stable sort
        rest = rest[np.argsort(-key[rest])]
        for start in range(0, len(rest), _TEXT_CHUNK):
            chunk = rest[start : start + _TEXT_CHUNK]
            if key[chunk[0]] + weight < tau:
                break
            chunk = chunk[key[chunk] + weight >= tau]
            rows.append(chunk)
            points.append(similarity(chunk))
            best = np.concatenate([best, key[chunk] + points[-1]])
            best = np.partition(best, len(best) - k)[len(best) - k :]
            tau = best.min() - _TIE_SLACK
        return np.concatenate(rows), np.concatenate(points)

    def _results(
        self,
        me: Member,
        ranked: _Ranked,
        text: np.ndarray,
        top: np.ndarray,
        today_key: int,
        with_explanations: bool,
    ) -> list[Result]:
        store = self._store
        slots = ranked.slots[top]
        slot_list = slots.tolist()
        ids = store.ids[slots].tolist()
        boosts = self._boosts.get(me.id, {})
        collab = ranked.collab[top].astype(np.float64)
        explanations: dict[int, Callable[[], tuple[Explanation, ...]]] = {}
        if with_explanations:
            boosted = {store.slot_of(cid) for cid in boosts}
            explanations = self._explain(
                me, slots, text[top], collab, today_key, boosted, ranked.collab_scores
            )
        results = []
        for j, i in enumerate(top.tolist()):
            b = boosts.get(ids[j])
            comps = Components(
                fit=float(ranked.fit[i]),
                feedback=float(ranked.feedback[i]),
                collaborative=float(collab[j]),
                text=float(text[i]),
                boost=b.points if b else 0.0,
            )
            results.append(
                Result(
                    member_id=me.id,
                    candidate_id=ids[j],
                    score=_clip_score(comps.total),
                    fit_a_to_b=100.0 * float(ranked.fit_ab[i]),
                    fit_b_to_a=100.0 * float(ranked.fit_ba[i]),
                    components=comps,
                    boosted=b is not None,
                    pinned=bool(b and b.pin),
                    build_explanations=explanations.get(slot_list[j], tuple),
                )
            )
        return results

    # --- explanations -----------------------------------------------------------------------------

    def _explain(
        self,
        me: Member,
        slots: np.ndarray,
        text_points: np.ndarray,
        collab_points: np.ndarray,
        today_key: int,
        boosted: set[int],
        collab: Behaviour | None,
    ) -> dict[int, Callable[[], tuple[Explanation, ...]]]:
        """Explanations for a few candidates.  Their rows and the member's state are copied
        now, so the explanations describe this moment; the detailed re-scoring and the
        items are computed on first access."""
        store = self._store
        fb = self._feedback.get(me.id)
        collab_flags: dict[int, tuple[int, ...]] = {}
        if collab is not None:
            rate_flags = self._rate_flags(slots)
            for slot, flags in zip(slots.tolist(), rate_flags, strict=True):
                collab_flags[int(store.ids[slot])] = collab.flags_of(slot, flags)
        out: dict[int, Callable[[], tuple[Explanation, ...]]] = {}
        order = {int(s): j for j, s in enumerate(slots.tolist())}
        member = Member(me.slot, dict(me.row))
        mine = fb.snapshot() if fb is not None else None
        sexes = store.cols["sex"][slots]
        for sex in (0, 1):
            group = slots[sexes == sex]
            if len(group) == 0:
                continue
            ids = store.ids[group].tolist()
            positions = [order[s] for s in group.tolist()]
            theirs = [self._feedback.get(cid) for cid in ids]
            snap = _Snapshot(
                scorer=self._scorer(today_key),
                member=member,
                sex=sex,
                block=store.gather(group, _ROW_COLUMNS),
                exempt=np.array([int(s) in boosted for s in group.tolist()], dtype=bool),
                ids=ids,
                today_key=today_key,
                mine=mine,
                theirs=[t.snapshot() if t is not None else None for t in theirs],
                text=[float(text_points[j]) for j in positions],
                collab=[float(collab_points[j]) for j in positions],
                collab_flags=[collab_flags.get(cid, (0,) * 7) for cid in ids],
                boosts=[self._boosts.get(me.id, {}).get(cid) for cid in ids],
                my_tokens=store.tokens[me.slot].copy(),
                their_tokens=store.tokens[group],
            )
            for i, slot in enumerate(group.tolist()):
                out[slot] = partial(self._items, snap, i)
        return out

    def _items(self, snap: _Snapshot, i: int) -> tuple[Explanation, ...]:
        if snap.detail is None:
            scored = snap.scorer.evaluate(
                snap.member, snap.mine, snap.block, snap.sex, detail=True, window_exempt=snap.exempt
            )
            snap.columns = {name: col.tolist() for name, col in snap.block.cols.items()}
            snap.detail = {key: arr.tolist() for key, arr in scored.detail.items()}
            snap.detail["fit_ab"] = scored.fit_ab.tolist()
            snap.detail["fit_ba"] = scored.fit_ba.tolist()
        member = snap.member.row
        cand = {name: values[i] for name, values in snap.columns.items()}
        cand["age"] = (snap.today_key - cand["birth"]) // 10000
        cand["id"] = snap.ids[i]
        items = self._criteria_items(member, cand, snap.detail, i)
        fb_detail = {
            key: values[i] for key, values in snap.detail.items() if key.startswith(_FB_KEYS)
        }
        if fb_detail:
            fit = (snap.detail["fit_ab"][i], snap.detail["fit_ba"][i])
            items += expl.feedback_items(
                fb_detail,
                member,
                cand,
                snap.mine,
                snap.theirs[i],
                self._feedback_points(fit, fb_detail),
                self._names,
            )
        b = snap.boosts[i]
        items += expl.component_items(
            member,
            snap.text[i],
            partial(self._text.shared_words, snap.my_tokens, snap.their_tokens[i]),
            snap.collab[i],
            snap.collab_flags[i],
            b.points if b else 0.0,
            bool(b and b.pin),
            self._tag_labels,
        )
        return tuple(items)

    def _feedback_points(
        self, fit: tuple[float, float], detail: Mapping[str, float]
    ) -> tuple[float, float, float]:
        """What the answers moved, in points, three ways (they add up to the feedback part):
        the member's own reasons to decline, their likes, and the candidate's reasons
        against the member.  ``detail``: one row of a detail evaluation."""
        m = self.model
        own = min(1.0, sum(v for k, v in detail.items() if k.startswith("fb:") and k != "fb:like"))
        recip = min(1.0, sum(v for k, v in detail.items() if k.startswith("fbr:")))
        liked = m.liked * detail.get("fb:like", 0.0)
        ab = liked - m.declined * own

        def points(shift_ab: float, shift_ba: float) -> float:
            one = np.ones(1, dtype=np.float32)
            value = self._fit_points(fit[0] * one, fit[1] * one, shift_ab, shift_ba)
            return float(value[0])

        base, with_like, with_own = points(0.0, 0.0), points(liked, 0.0), points(ab, 0.0)
        return with_own - with_like, with_like - base, points(ab, -m.declined * recip) - with_own

    def _criteria_items(
        self,
        member: Mapping[str, int],
        cand: Mapping[str, int],
        detail: Mapping[str, list[float]],
        i: int,
    ) -> list[Explanation]:
        """Criterion items of row ``i`` of a detail evaluation, both directions."""
        unknown = self.config.tolerances.unknown
        names = self._names
        items = []
        item = expl.criterion_item
        for name, imp_key, bit, ab_key, _ in _CRITERION_KEYS:
            if member[imp_key] > 0 or member["must"] & bit:
                items.append(item(name, A_TO_B, member, cand, detail[ab_key][i], unknown, names))
        for name, imp_key, bit, _, ba_key in _CRITERION_KEYS:
            if cand[imp_key] > 0 or cand["must"] & bit:
                items.append(item(name, B_TO_A, cand, member, detail[ba_key][i], unknown, names))
        return items

    # --- score one pair ---------------------------------------------------------------------------

    def score(self, a_id: int, b_id: int, *, explain: bool = True) -> Result:
        """How ``b_id`` scores as a candidate for ``a_id``, or which hard rules fail."""
        with self._lock:
            cfg = self.config
            today_key = birth_key(self.today)
            me = self._member(a_id, today_key)
            other = self._member(b_id, today_key)
            sex = other.row["sex"]
            boost = self._boosts.get(a_id, {}).get(b_id)
            failures: list[RuleFailure] = []
            if a_id == b_id:
                failures.append(RuleFailure("self", A_TO_B, None, msg.render("rule.self")))
            if sex not in self._target_sexes(me.row["sex"]):
                failures.append(RuleFailure("sex", A_TO_B, None, msg.render("rule.sex")))
            failures += self._own_failures(me.row, B_TO_A, msg.pronoun(me.row["sex"]))
            failures += self._own_failures(other.row, A_TO_B, "对方")
            fb = self._feedback.get(a_id)
            scorer = self._scorer(today_key)
            block = self._store.gather(np.asarray([other.slot], dtype=np.int32), _ROW_COLUMNS)
            exempt = np.asarray([boost is not None])
            scored = scorer.evaluate(me, fb, block, sex, detail=True, window_exempt=exempt)
            detail = {key: float(arr[0]) for key, arr in scored.detail.items()}
            cand = _rows(block, today_key, [b_id])[0]
            for name in CRITERIA:
                if detail.get(f"fail:must_ab:{name}", 0.0):
                    failures.append(
                        expl.must_failure(
                            name, A_TO_B, me.row, cand, detail[f"ab:{name}"], self._names
                        )
                    )
                if detail.get(f"fail:must_ba:{name}", 0.0):
                    failures.append(
                        expl.must_failure(
                            name, B_TO_A, cand, me.row, detail[f"ba:{name}"], self._names
                        )
                    )
            if detail["fail:age_window_ab"]:
                failures.append(expl.window_failure(A_TO_B, me.row, cand))
            if detail["fail:age_window_ba"]:
                failures.append(expl.window_failure(B_TO_A, cand, me.row))
            fit_ab, fit_ba = float(scored.fit_ab[0]), float(scored.fit_ba[0])
            lists = {key: [value] for key, value in detail.items()}
            items = tuple(self._criteria_items(me.row, cand, lists, 0)) if explain else ()
            if failures:
                return Result(
                    member_id=a_id,
                    candidate_id=b_id,
                    score=0.0,
                    fit_a_to_b=100.0 * fit_ab,
                    fit_b_to_a=100.0 * fit_ba,
                    components=Components(),
                    eligible=False,
                    failed_rules=tuple(failures),
                    build_explanations=partial(_constant, items),
                )
            # As in recommend: the fit alone, then what the answers' reasons move (the
            # member's own, and the candidate's against the member), then behaviour.
            fit_points = self._fit_points(scored.fit_ab, scored.fit_ba)
            fit = float(fit_points[0])
            fb_ab = scored.feedback
            recip = min(1.0, sum(v for key, v in detail.items() if key.startswith("fbr:")))
            fb_ba = np.float32(-self.model.declined * recip)
            answered = self._fit_points(scored.fit_ab, scored.fit_ba, fb_ab, fb_ba)
            collab = 0.0
            scores = self._behaviour(a_id)
            if scores is not None:
                rates, _, _ = self._rate_shifts()
                shift_ab = scores.own_ab + float(rates[other.slot, 0])
                shift_ba = scores.own_ba + float(rates[other.slot, 1])
                hit = scores.at(other.slot)
                if hit >= 0:
                    shift_ab += float(scores.shift_ab[hit])
                    shift_ba += float(scores.shift_ba[hit])
                moved = self._fit_points(
                    scored.fit_ab, scored.fit_ba, fb_ab + shift_ab, fb_ba + shift_ba
                )
                collab = float(moved[0] - answered[0])
            text = 0.0
            store = self._store
            if cfg.weights.text > 0 and store.tok_norm[me.slot] > 0:
                sim = self._text.similarity(
                    store.tokens[me.slot],
                    float(store.tok_norm[me.slot]),
                    store.tokens[[other.slot]],
                    store.tok_norm[[other.slot]],
                )
                text = cfg.weights.text * float(sim[0])
            comps = Components(
                fit=fit,
                feedback=float(answered[0] - fit_points[0]),
                collaborative=collab,
                text=text,
                boost=boost.points if boost else 0.0,
            )
            build: Callable[[], tuple[Explanation, ...]] = tuple
            if explain:
                extra = self._explain(
                    me,
                    np.asarray([other.slot], dtype=np.int32),
                    np.asarray([text]),
                    np.asarray([collab]),
                    today_key,
                    {other.slot} if boost else set(),
                    scores,
                )
                build = extra[other.slot]
            return Result(
                member_id=a_id,
                candidate_id=b_id,
                score=_clip_score(comps.total),
                fit_a_to_b=100.0 * fit_ab,
                fit_b_to_a=100.0 * fit_ba,
                components=comps,
                boosted=boost is not None,
                pinned=bool(boost and boost.pin),
                build_explanations=build,
            )

    # --- feedback, behaviour, boosts --------------------------------------------------------------

    def feedback(
        self, member_id: int, candidate_id: int, liked: bool, reasons: Iterable[str] = ()
    ) -> None:
        """The member's answer to a candidate (反选).  A rejection hides the candidate from
        later recommendations and, through its reasons, penalises similar candidates; a like
        favours similar candidates.  Effective at the next recommend."""
        reasons = tuple(reasons)
        validate_reasons(reasons)
        with self._lock:
            today_key = birth_key(self.today)
            me = self._member(member_id, today_key)
            cand = self._member(candidate_id, today_key)
            state = self._feedback.get(member_id)
            if state is None:
                state = self._feedback[member_id] = FeedbackState()
            centre = self._height_centre(me.row, cand.row["sex"])
            bounds = learn(state, me.row, cand.row, liked, reasons, self.config.feedback, centre)
            if state.bounds_set and me.slot not in self._bounded:
                self._bounded.add(me.slot)
                self._bounded_cache = None
            cols = self._store.cols
            changed = False
            for col, value in bounds.items():
                value = max(FB_NO_LOW, min(FB_NO_HIGH, value))
                if int(cols[col][me.slot]) != value:
                    cols[col][me.slot] = value
                    changed = True
            if changed:
                self._touch(me.slot)
            weight = _FEEDBACK_LIKE_WEIGHT if liked else _FEEDBACK_REJECT_WEIGHT
            self._graph.answer(member_id, candidate_id, liked, weight)
            self._rates = None

    # --- replaying answers (the learning step) ---------------------------------------------------

    def fresh_feedback(self, member_id: int) -> tuple[FeedbackState, dict[str, int]]:
        """A member as if they had answered nothing yet: an empty feedback state and their row
        without learned bounds, for `replay_answer` and `reason_parts` (the learning step
        replays the answers in time order; the engine's own state holds the final one)."""
        with self._lock:
            row = {**self._member(member_id, birth_key(self.today)).row, **FEEDBACK_EMPTY}
        return FeedbackState(), row

    def replay_answer(
        self,
        state: FeedbackState,
        row: dict[str, int],
        candidate_id: int,
        liked: bool,
        reasons: Iterable[str] = (),
    ) -> None:
        """What `feedback` learns from one answer, into `state` and `row` (`fresh_feedback`)
        instead of the engine's own."""
        with self._lock:
            cand = self._member(candidate_id, birth_key(self.today)).row
            centre = self._height_centre(row, cand["sex"])
            bounds = learn(state, row, cand, liked, tuple(reasons), self.config.feedback, centre)
            row.update(bounds)

    def reason_parts(
        self,
        member_id: int,
        state: FeedbackState,
        row: Mapping[str, int],
        candidate_ids: Sequence[int],
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """What the answers in `state` and `row` say of each candidate, each 0..1: how much
        they have of what the member declined people for, and how much they resemble the
        people the member liked (None without likes).  None when nothing was learned yet."""
        if not state.has_signal():
            return None
        with self._lock:
            today_key = birth_key(self.today)
            store = self._store
            slots = np.fromiter(
                (store.slot_of(c) for c in candidate_ids), np.int64, len(candidate_ids)
            )
            if (slots < 0).any():
                raise KeyError(f"unknown member {candidate_ids[int(np.argmin(slots))]}")
            cand = dict(store.gather(slots.astype(np.int32), _ROW_COLUMNS).cols)
            cand["age"] = (today_key - cand["birth"]) // 10000
            me = Member(store.slot_of(member_id), dict(row))
            return self._scorer(today_key).feedback_parts(me, state, cand, len(slots))

    def _height_centre(self, row: Mapping[str, int], other_sex: int) -> float:
        lo, hi = row["p_h_lo"], row["p_h_hi"]
        if row["imp_height"] > 0 and lo > 0 and hi < 999:
            return (lo + hi) / 2.0
        if row["imp_height"] > 0 and lo > 0:
            return float(lo)
        n = self._height_n[other_sex]
        return self._height_sum[other_sex] / n if n else 165.0

    def interaction(self, actor_id: int, target_id: int, kind: str) -> None:
        """Record behaviour (see INTERACTION_KINDS); feeds the collaborative component.
        Ids need not be loaded (history can be replayed before members are)."""
        if kind not in INTERACTION_KINDS:
            raise ValueError(f"unknown interaction kind {kind!r}; expected {INTERACTION_KINDS}")
        with self._lock:
            self._graph.add(actor_id, target_id, float(self.config.interaction_weights[kind]))

    def boost(
        self, member_id: int, candidate_id: int, pin: bool = False, points: float = 0.0
    ) -> None:
        """Matchmaker override for one member: ``pin`` lists the candidate first, ``points``
        raises (or lowers) the score.  Hard rules still apply; the age window does not."""
        with self._lock:
            for mid in (member_id, candidate_id):
                if self._store.slot_of(mid) < 0:
                    raise KeyError(f"unknown member {mid}")
            self._boosts.setdefault(member_id, {})[candidate_id] = Boost(bool(pin), float(points))

    def unboost(self, member_id: int, candidate_id: int) -> bool:
        with self._lock:
            boosts = self._boosts.get(member_id)
            if not boosts or candidate_id not in boosts:
                return False
            del boosts[candidate_id]
            if not boosts:
                del self._boosts[member_id]
            return True

    # --- introspection ----------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Sizes, for monitoring and the benchmark."""
        with self._lock:
            views = sum(v.nbytes for v in self._views)
            return {
                "members": self._store.count,
                "capacity": self._store.capacity,
                "store_bytes": self._store.nbytes,
                "view_bytes": views,
                "text_bytes": self._text.nbytes,
                "graph_bytes": self._graph.nbytes,
                "graph_edges": self._graph.edge_count(),
                "vocabulary": len(self._text.words) - 1,
                "delta_rows": sum(len(v.delta) for v in self._views),
                "skipped": len(self._skipped),
            }


_helper_pool: tuple[int, ThreadPoolExecutor] | None = None
_helper_lock = threading.Lock()


def _return_freed_memory() -> None:
    """Give the heap pages a bulk step freed back to the system.  glibc keeps them
    otherwise: after a build of 1M members and the replay of 500k interactions (Python
    objects, then compacted into arrays) ~80 MB of free heap stayed in the process."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None)  # the running program's symbols, libc's among them
    except OSError:
        return None


def _helper() -> ThreadPoolExecutor:
    """One helper thread per process (made again after a fork: threads do not survive it)."""
    global _helper_pool
    with _helper_lock:
        if _helper_pool is None or _helper_pool[0] != os.getpid():
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matching-engine")
            _helper_pool = (os.getpid(), pool)
        return _helper_pool[1]


def _seed(bounds: np.ndarray, n: int, failed: float = -np.inf) -> np.ndarray:
    """The ``n`` rows (ascending) with the best ``bounds`` (or every one above ``failed``),
    to be scored first: any rows would give a valid floor, these give a high one.  A cut
    read off every few rows (about ``_SEED_POOL`` times ``n`` of them) keeps about twice
    ``n``; only those are partitioned (ties at the cut: the first rows)."""
    stride = max(1, len(bounds) // (_SEED_POOL * n))
    sample = bounds[::stride]
    rank = min(len(sample), max(1, 2 * n // stride))
    cut = float(np.partition(sample, len(sample) - rank)[len(sample) - rank]) if rank else failed
    rows = np.flatnonzero(bounds >= cut) if cut > failed else _EMPTY_SLOTS
    if len(rows) < n:  # an unlucky sample, or few rows: all of them
        rows = np.flatnonzero(bounds > failed)
        cut = failed
    if len(rows) > n:
        at = bounds[rows]
        above = np.flatnonzero(at > cut)
        if len(above) >= n:
            rows = rows[above[np.argpartition(-at[above], n - 1)[:n]]]
        else:
            tied = np.flatnonzero(at == cut)[: n - len(above)]
            rows = rows[np.concatenate([above, tied])]
        rows.sort()
    return rows


def _shown(final: np.ndarray) -> np.ndarray:
    """Ranking keys as the score is shown: clipped to 0..100 and rounded to one decimal
    (pinned rows keep their offset; excluded rows stay at -inf)."""
    f = final.astype(np.float64)
    pinned = f >= _PIN / 2
    base = np.round(np.clip(np.where(pinned, f - _PIN, f), 0.0, 100.0), 1)
    out = base + np.where(pinned, _PIN, 0.0)
    out[f <= _EXCLUDED / 2] = -np.inf
    return out


def _notable(value: float, threshold: float) -> int:
    """-1 / 0 / 1: the sign of ``value`` when it is at least ``threshold`` from 0."""
    return int(np.sign(value)) if abs(value) >= threshold else 0


def _clip_score(total: float) -> float:
    return float(min(100.0, max(0.0, total)))


def _constant(items: tuple[Explanation, ...]) -> tuple[Explanation, ...]:
    return items


def _rows(block: Block, today_key: int, ids: list[int]) -> list[dict[str, int]]:
    """Block rows as dicts of Python ints (plus 'age' and 'id') for explanation text."""
    lists = {name: block.cols[name].tolist() for name in _ROW_COLUMNS}
    rows = []
    for i, member_id in enumerate(ids):
        row = {name: values[i] for name, values in lists.items()}
        row["age"] = (today_key - row["birth"]) // 10000
        row["id"] = member_id
        rows.append(row)
    return rows
