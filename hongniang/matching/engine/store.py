"""Column store of all members and the per-sex birth-date-sorted view used by recommend.

Live data: one numpy array per column, a slot per member, an id→slot map, freed slots
reused, capacity doubled on growth; an update writes one row.

Recommend needs "eligible members of sex S born between two dates".  The sorted view keeps
a physically sorted *copy* of every column of the eligible members of one sex, so that
window is a contiguous slice (column views, no gather).  Rows changed since the copy was
made are masked out of it (``valid``) and kept in a small unsorted ``delta`` set that
recommend scores by gathering from the live columns; once the delta grows past a threshold
the copy is rebuilt.  So an upsert is O(1) and recommend sees it immediately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from .encoding import (
    ALL_COLUMNS,
    FAST_COLUMNS,
    FEEDBACK_COLUMNS,
    FEEDBACK_EMPTY,
    PROFILE_COLUMN_NAMES,
    TABLE_COLUMNS,
)

# What a large sorted view copies: the fast path's columns but the acceptance tables
# (a view of fewer rows than TABLES_COPIED_BELOW copies them too).
TABLES_COPIED_BELOW: Final = 1 << 17
VIEW_COLUMNS: Final = tuple(name for name in FAST_COLUMNS if name not in TABLE_COLUMNS)
ROW_COLUMNS: Final = PROFILE_COLUMN_NAMES + tuple(name for name, _ in FEEDBACK_COLUMNS)
_SIG_CHUNK: Final = 8192


def token_bits(ids: np.ndarray) -> np.ndarray:
    """The bit (0..63) of each token id in the 64-bit token signatures (a multiplicative
    hash: the ids of one vocabulary spread over the bits)."""
    mixed = ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return (mixed >> np.uint64(58)).astype(np.int64)


def signatures(tokens: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """One uint64 per slot: the bits of its token row (padding, 0, sets none); read in
    chunks (small temporaries, the heap stays small)."""
    out = np.zeros(len(slots), dtype=np.uint64)
    if not len(slots):
        return out
    bits = np.uint64(1) << token_bits(np.arange(int(tokens.max()) + 1)).astype(np.uint64)
    bits[0] = 0
    for start in range(0, len(slots), _SIG_CHUNK):
        part = tokens.take(slots[start : start + _SIG_CHUNK], axis=0)
        out[start : start + len(part)] = np.bitwise_or.reduce(bits.take(part), axis=1)
    return out


class IdMap:
    """Member id → slot.  Dense ids (database keys) use an array, outliers a dict."""

    _DENSE_FLOOR = 1 << 20

    def __init__(self) -> None:
        self._dense = np.full(1024, -1, dtype=np.int32)
        self._sparse: dict[int, int] = {}
        self._limit = self._DENSE_FLOOR

    def set_capacity(self, capacity: int) -> None:
        # The dense array may cover ids up to a few times the member count; beyond that a
        # dict is cheaper than a mostly empty array.
        self._limit = max(self._DENSE_FLOOR, 8 * capacity)

    def get(self, member_id: int) -> int:
        if 0 <= member_id < len(self._dense):
            slot = int(self._dense[member_id])
            if slot >= 0:
                return slot
        return self._sparse.get(member_id, -1)

    def set(self, member_id: int, slot: int) -> None:
        if member_id < self._limit:
            if member_id >= len(self._dense):
                size = len(self._dense)
                while size <= member_id:
                    size *= 2
                grown = np.full(size, -1, dtype=np.int32)
                grown[: len(self._dense)] = self._dense
                self._dense = grown
            self._dense[member_id] = slot
            self._sparse.pop(member_id, None)
        else:
            self._sparse[member_id] = slot

    def set_many(self, ids: np.ndarray, slots: np.ndarray) -> None:
        dense = ids < self._limit
        if dense.any():
            top = int(ids[dense].max())
            if top >= len(self._dense):
                size = len(self._dense)
                while size <= top:
                    size *= 2
                grown = np.full(size, -1, dtype=np.int32)
                grown[: len(self._dense)] = self._dense
                self._dense = grown
            self._dense[ids[dense]] = slots[dense]
        for member_id, slot in zip(ids[~dense].tolist(), slots[~dense].tolist(), strict=True):
            self._sparse[member_id] = slot

    def delete(self, member_id: int) -> None:
        if 0 <= member_id < len(self._dense):
            self._dense[member_id] = -1
        self._sparse.pop(member_id, None)

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Slots of ``ids`` (int64 array); -1 where unknown."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.full(len(ids), -1, dtype=np.int32)
        inside = (ids >= 0) & (ids < len(self._dense))
        out[inside] = self._dense[ids[inside]]
        if self._sparse:
            for i in np.flatnonzero(out < 0).tolist():
                out[i] = self._sparse.get(int(ids[i]), -1)
        return out

    @property
    def nbytes(self) -> int:
        return int(self._dense.nbytes)


class ColumnStore:
    """Live columns, a slot per member."""

    def __init__(self, capacity: int, text_tokens: int) -> None:
        capacity = max(int(capacity), 64)
        self.capacity = capacity
        self.text_tokens = text_tokens
        self.cols: dict[str, np.ndarray] = {
            name: np.zeros(capacity, dtype=dtype) for name, dtype in ALL_COLUMNS
        }
        for name, value in FEEDBACK_EMPTY.items():
            self.cols[name].fill(value)
        self.ids = np.full(capacity, -1, dtype=np.int64)
        self.alive = np.zeros(capacity, dtype=bool)
        self.eligible = np.zeros(capacity, dtype=bool)
        # Token ids, 0 = padding; 16-bit while the vocabulary fits (half the memory).
        self.tokens = np.zeros((capacity, text_tokens), dtype=np.uint16)
        self.tok_norm = np.zeros(capacity, dtype=np.float32)
        self.view_pos = np.full(capacity, -1, dtype=np.int32)
        self.high_water = 0
        self.free: list[int] = []
        self.count = 0
        self.idmap = IdMap()
        self.idmap.set_capacity(capacity)

    # --- slots ---------------------------------------------------------------------------------

    def slot_of(self, member_id: int) -> int:
        return self.idmap.get(member_id)

    def allocate(self, member_id: int) -> int:
        """A slot for a new member (reusing a freed one, else growing)."""
        if self.free:
            slot = self.free.pop()
        else:
            if self.high_water == self.capacity:
                self._grow(self.capacity * 2)
            slot = self.high_water
            self.high_water += 1
        self.ids[slot] = member_id
        self.alive[slot] = True
        self.idmap.set(member_id, slot)
        self.count += 1
        return slot

    def allocate_many(self, ids: np.ndarray) -> np.ndarray:
        """Fresh consecutive slots for new members (bulk build)."""
        n = len(ids)
        if self.high_water + n > self.capacity:
            capacity = self.capacity
            while self.high_water + n > capacity:
                capacity *= 2
            self._grow(capacity)
        slots = np.arange(self.high_water, self.high_water + n, dtype=np.int32)
        self.high_water += n
        self.ids[slots] = ids
        self.alive[slots] = True
        self.idmap.set_many(ids, slots)
        self.count += n
        return slots

    def release(self, slot: int) -> None:
        self.idmap.delete(int(self.ids[slot]))
        self.ids[slot] = -1
        self.alive[slot] = False
        self.eligible[slot] = False
        self.tokens[slot] = 0
        self.tok_norm[slot] = 0.0
        for name, value in FEEDBACK_EMPTY.items():
            self.cols[name][slot] = value
        self.free.append(slot)
        self.count -= 1

    def _grow(self, capacity: int) -> None:
        def grown(arr: np.ndarray, fill: float | int) -> np.ndarray:
            out = np.full((capacity, *arr.shape[1:]), fill, dtype=arr.dtype)
            out[: len(arr)] = arr
            return out

        for name, arr in self.cols.items():
            self.cols[name] = grown(arr, FEEDBACK_EMPTY.get(name, 0))
        self.ids = grown(self.ids, -1)
        self.alive = grown(self.alive, False)
        self.eligible = grown(self.eligible, False)
        self.tokens = grown(self.tokens, 0)
        self.tok_norm = grown(self.tok_norm, 0.0)
        self.view_pos = grown(self.view_pos, -1)
        self.capacity = capacity
        self.idmap.set_capacity(capacity)

    def set_tokens(self, slots: np.ndarray | int, rows: np.ndarray) -> None:
        """Write token id rows, widening the array once the vocabulary outgrows 16 bits."""
        if rows.size and int(rows.max()) > np.iinfo(self.tokens.dtype).max:
            self.tokens = self.tokens.astype(np.int32)
        if isinstance(slots, int) and np.array_equal(self.tokens[slots], rows):
            return  # unchanged: no write (see `write_values`)
        self.tokens[slots] = rows

    # --- rows ----------------------------------------------------------------------------------

    def write_row(self, slot: int, row: tuple[int, ...]) -> None:
        self.write_values(slot, zip(PROFILE_COLUMN_NAMES, row, strict=True))

    def write_values(self, slot: int, values: Iterable[tuple[str, int]]) -> None:
        """Write one row's ``values`` (column, value), only where they change: the
        columns of a loaded snapshot are mapped copy-on-write, and the first write to
        each page of a column copies the page (an update that rewrote every column took
        ~100 page copies, 0.5 ms; it changes a few)."""
        cols = self.cols
        for name, value in values:
            col = cols[name]
            if col[slot] != value:
                col[slot] = value

    def write_rows(self, slots: np.ndarray, rows: np.ndarray) -> None:
        for j, name in enumerate(PROFILE_COLUMN_NAMES):
            self.cols[name][slots] = rows[:, j]

    def row(self, slot: int) -> dict[str, int]:
        """One member's profile and feedback columns as Python ints."""
        cols = self.cols
        return {name: int(cols[name][slot]) for name in ROW_COLUMNS}

    def gather(self, slots: np.ndarray, names: Iterable[str] | None = None) -> Block:
        names = self.cols if names is None else names
        return Block({name: self.cols[name][slots] for name in names}, slots, None)

    @property
    def nbytes(self) -> int:
        arrays: Iterable[np.ndarray] = (
            *self.cols.values(),
            self.ids,
            self.alive,
            self.eligible,
            self.tokens,
            self.tok_norm,
            self.view_pos,
        )
        return sum(int(a.nbytes) for a in arrays) + self.idmap.nbytes


class Columns(Mapping[str, np.ndarray]):
    """Columns of some rows: those ``held`` (slices of a sorted view, or gathered), and
    the others read from the store's columns (``source``) by the rows' slots on first
    use.  The views do not copy the acceptance tables (47 bytes a member, read only for
    the rows that are scored), so they are held once, in the store.  Iterating yields the
    held columns only (``dict(cols)`` copies no table)."""

    __slots__ = ("held", "source", "slots")

    def __init__(
        self, held: dict[str, np.ndarray], source: Mapping[str, np.ndarray], slots: np.ndarray
    ) -> None:
        self.held = held
        self.source = source
        self.slots = slots

    def __getitem__(self, name: str) -> np.ndarray:
        col = self.held.get(name)
        if col is None:
            col = self.source[name].take(self.slots)
            self.held[name] = col
        return col

    def __contains__(self, name: object) -> bool:
        return name in self.held or name in self.source

    def __iter__(self) -> Iterator[str]:
        return iter(self.held)

    def __len__(self) -> int:
        return len(self.held)

    def rows(self, rows: np.ndarray, names: Iterable[str] | None) -> Columns:
        """The columns ``names`` (default: the held ones) of ``rows``; the ones not held
        are read from the store for those rows only."""
        slots = self.slots[rows]
        held: dict[str, np.ndarray] = {}
        for name in self.held if names is None else names:
            col = self.held.get(name)
            held[name] = self.source[name].take(slots) if col is None else col[rows]
        return Columns(held, self.source, slots)

    def part(self, start: int, stop: int) -> Columns:
        held = {name: col[start:stop] for name, col in self.held.items()}
        return Columns(held, self.source, self.slots[start:stop])


@dataclass(slots=True)
class Block:
    """Candidate rows to score: column arrays (views or gathered), their slots, and which
    rows are current (None = all).

    The first ``view_len`` rows come from a sorted view: its positions ``view_start`` …
    (a slice), or the ascending positions ``view_rows`` (a filtered slice), so a slot's row
    is found from ``view_pos[slot]``; the remaining rows have sorted slots.  This lets a
    few known slots be found without scanning the block."""

    cols: Mapping[str, np.ndarray]
    slots: np.ndarray
    valid: np.ndarray | None
    view_start: int = -1
    view_len: int = 0
    view_rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.slots)

    def take(self, rows: np.ndarray, names: Iterable[str] | None = None) -> Block:
        """The block's rows ``rows`` (ascending), gathered, with ``names`` (default all)."""
        view_rows = None
        split = int(np.searchsorted(rows, self.view_len))
        if split:
            head = rows[:split]
            view_rows = head + self.view_start if self.view_rows is None else self.view_rows[head]
        if isinstance(self.cols, Columns):
            taken: Mapping[str, np.ndarray] = self.cols.rows(rows, names)
        else:
            cols = self.cols if names is None else {name: self.cols[name] for name in names}
            taken = {name: col[rows] for name, col in cols.items()}
        return Block(
            taken,
            self.slots[rows],
            None if self.valid is None else self.valid[rows],
            self.view_start if split else -1,
            split,
            view_rows,
        )

    def part(self, start: int, stop: int) -> Block:
        """Rows ``start`` to ``stop`` as a block of their own (views, no copy)."""
        head = max(0, min(stop, self.view_len) - start)
        view_rows = None
        if head and self.view_rows is not None:
            view_rows = self.view_rows[start : start + head]
        if isinstance(self.cols, Columns):
            cols: Mapping[str, np.ndarray] = self.cols.part(start, stop)
        else:
            cols = {name: col[start:stop] for name, col in self.cols.items()}
        return Block(
            cols,
            self.slots[start:stop],
            None if self.valid is None else self.valid[start:stop],
            self.view_start + start if head and self.view_rows is None else self.view_start,
            head,
            view_rows,
        )

    def locate(self, view_pos: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding any of ``slots`` (whose view positions are ``view_pos``):
        (rows, index into slots).  O(len(slots) · log len(self))."""
        rows, which = [], []
        if self.view_len:
            if self.view_rows is None:
                pos = view_pos.astype(np.int64) - self.view_start
                hit = np.flatnonzero((pos >= 0) & (pos < self.view_len))
            else:
                at = np.searchsorted(self.view_rows, view_pos)
                pos = np.minimum(at, self.view_len - 1)
                hit = np.flatnonzero(self.view_rows[pos] == view_pos)
            hit = hit[self.slots[pos[hit]] == slots[hit]]
            rows.append(pos[hit])
            which.append(hit)
        tail = self.slots[self.view_len :]
        if len(tail):
            i = np.minimum(np.searchsorted(tail, slots), len(tail) - 1)
            hit = np.flatnonzero(tail[i] == slots)
            rows.append(self.view_len + i[hit])
            which.append(hit)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(which)


def concat(a: Block, b: Block) -> Block:
    """``a``'s rows then ``b``'s (``b`` has no view rows: sorted slots only), with the
    columns both have."""
    cols = {
        name: np.concatenate([col, b.cols[name]]) for name, col in a.cols.items() if name in b.cols
    }
    if isinstance(a.cols, Columns):
        cols = Columns(cols, a.cols.source, np.concatenate([a.slots, b.slots]))
    valid = None
    if a.valid is not None or b.valid is not None:
        valid = np.concatenate(
            [
                a.valid if a.valid is not None else np.ones(len(a), dtype=bool),
                b.valid if b.valid is not None else np.ones(len(b), dtype=bool),
            ]
        )
    if a.view_len < len(a):  # a's own tail and b's would not be sorted together
        raise ValueError("concat: the first block has rows outside a view")
    slots = np.concatenate([a.slots, b.slots])
    return Block(cols, slots, valid, a.view_start, a.view_len, a.view_rows)


# Key bounds of int32 birth keys; searches use the keys' own type (a Python int would make
# numpy convert the whole sorted array to int64 on every search).
_KEY_MIN: Final = int(np.iinfo(np.int32).min)
_KEY_MAX: Final = int(np.iinfo(np.int32).max)


def _key(value: int) -> np.int32:
    return np.int32(min(_KEY_MAX, max(_KEY_MIN, value)))


class SortedView:
    """Eligible members of one sex, sorted by birth key, with the columns the fast path
    reads copied in that order, plus columns derived from them (``derive``)."""

    def __init__(
        self,
        sex: int,
        derive: Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
    ) -> None:
        self.sex = sex
        self.derive = derive
        self.keys = np.zeros(0, dtype=np.int32)
        self.slots = np.zeros(0, dtype=np.int32)
        self.cols: dict[str, np.ndarray] = {}
        self.source: Mapping[str, np.ndarray] = {}
        self.valid = np.zeros(0, dtype=bool)
        self.delta: set[int] = set()
        self.stale = 0
        self.must_any = 0  # every must bit any row of the copy has
        # The rows' token signatures and norms in view order: a bound of their text
        # points read without touching their token rows (`Engine._text_bound`).
        self.sig = np.zeros(0, dtype=np.uint64)
        self.tok_norm = np.zeros(0, dtype=np.float32)

    def rebuild(self, store: ColumnStore) -> None:
        members = np.flatnonzero(store.eligible & (store.cols["sex"] == self.sex))
        order = np.argsort(store.cols["birth"][members], kind="stable")
        slots = members[order].astype(np.int32)
        self.slots = slots
        # Plain arrays even when the store is memory-mapped (a snapshot): a memmap result
        # would carry the subclass's per-operation overhead into every recommend.
        # Large views leave the acceptance tables in the store (`Columns`): only the few
        # rows scored after the bounds read them.  Small views' windows are scored whole,
        # every row reading its tables, and cost little memory: they copy them.
        self.source = store.cols
        names = FAST_COLUMNS if len(slots) < TABLES_COPIED_BELOW else VIEW_COLUMNS
        self.cols = {name: np.asarray(store.cols[name][slots]) for name in names}
        if self.derive is not None:
            self.cols.update(self.derive(self.cols))
        self.keys = self.cols["birth"]
        self.must_any = int(np.bitwise_or.reduce(self.cols["must"])) if len(slots) else 0
        self.sig = signatures(store.tokens, slots)
        self.tok_norm = store.tok_norm.take(slots)
        self.valid = np.ones(len(slots), dtype=bool)
        store.view_pos[slots] = np.arange(len(slots), dtype=np.int32)
        self.delta.clear()
        self.stale = 0

    def invalidate(self, pos: int) -> None:
        if self.valid[pos]:
            self.valid[pos] = False
            self.stale += 1

    def needs_rebuild(self, threshold: int) -> bool:
        # Scoring the unsorted delta costs a gather per column; rebuilding costs a sort of
        # the view.  Small views are cheap to rebuild, so their delta is kept short too.
        limit = min(threshold, max(32, len(self.slots) // 16))
        return len(self.delta) > limit or self.stale > max(limit, len(self.slots) // 4)

    def window(self, lo_key: int, hi_key: int) -> Block:
        """Rows with lo_key <= birth <= hi_key, as column views."""
        start = int(np.searchsorted(self.keys, _key(lo_key), side="left"))
        stop = int(np.searchsorted(self.keys, _key(hi_key), side="right"))
        slots = self.slots[start:stop]
        cols = Columns(
            {name: col[start:stop] for name, col in self.cols.items()}, self.source, slots
        )
        valid = None if self.stale == 0 else self.valid[start:stop]
        return Block(cols, slots, valid, start, stop - start)

    def delta_block(self, store: ColumnStore, lo_key: int, hi_key: int) -> Block | None:
        if not self.delta:
            return None
        slots = np.fromiter(self.delta, dtype=np.int32, count=len(self.delta))
        births = store.cols["birth"][slots]
        slots = slots[(births >= lo_key) & (births <= hi_key)]
        if len(slots) == 0:
            return None
        slots.sort()
        block = store.gather(slots, FAST_COLUMNS)
        if self.derive is not None:
            block.cols.update(self.derive(block.cols))  # type: ignore[attr-defined]
        return block

    @property
    def nbytes(self) -> int:
        return sum(int(c.nbytes) for c in self.cols.values()) + int(
            self.slots.nbytes + self.valid.nbytes + self.sig.nbytes + self.tok_norm.nbytes
        )
