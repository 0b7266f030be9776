"""An engine saved to a directory and loaded back, memory-mapped.

    snapshot.save(engine, path, meta={"position": 1234})
    engine, meta = snapshot.load(path, config)

The directory holds one ``.npy`` file per array and JSON files for the few non-array parts
(vocabulary, learned feedback, skipped members, scalars); nothing is pickled, so reading a
snapshot never runs code (``allow_pickle=False`` everywhere).  Arrays an engine changes in
place are mapped copy-on-write (``mmap_mode='c'``): processes share the pages until one of
them writes a row.  Arrays only ever replaced, never written (the behaviour graph), are
mapped read-only.

``save`` writes into ``path`` as given; the caller makes it appear atomically (write to a
temporary directory, then rename).  The sorted views are not stored: ``load`` re-sorts them
(a few milliseconds per 100,000 members).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np

from .collab import _Csr
from .config import EngineConfig
from .encoding import ALL_COLUMNS
from .engine import Boost, Engine
from .feedback import FeedbackState, Reference

FORMAT: Final = 2  # 2: answer rates
MANIFEST: Final = "manifest.json"
_CSR_PARTS: Final = ("keys", "ptr", "nbr", "w")
# Slack saved beyond the last used slot, so that new members after a load rarely force the
# store to grow (which copies every column into private memory).
_HEADROOM: Final = 1024


class SnapshotError(ValueError):
    """The directory does not hold a snapshot this engine can load."""


def config_key(config: EngineConfig) -> str:
    """A stable text of the configuration, to tell whether a snapshot was built with it."""
    data = {
        f.name: dict(value)
        if isinstance(value := getattr(config, f.name), Mapping)
        else asdict(value)
        if is_dataclass(value)
        else value
        for f in fields(config)
    }
    return json.dumps(data, sort_keys=True)


def save(engine: Engine, path: Path, meta: Mapping[str, Any] | None = None) -> None:
    """Write ``engine`` into the (new or empty) directory ``path``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with engine._lock:
        engine._graph.compact()
        store, text = engine._store, engine._text
        size = min(store.capacity, store.high_water + _HEADROOM)
        arrays: dict[str, np.ndarray] = {
            f"col.{name}": store.cols[name][:size] for name, _ in ALL_COLUMNS
        }
        arrays.update(
            {
                "ids": store.ids[:size],
                "alive": store.alive[:size],
                "eligible": store.eligible[:size],
                "tokens": store.tokens[:size],
                "tok_norm": store.tok_norm[:size],
                "text_df": text.df[: len(text.words)],
                "pref_counts": engine._pref_counts,
            }
        )
        for name, csr in (("out", engine._graph._out), ("in", engine._graph._in)):
            for part in _CSR_PARTS:
                arrays[f"graph_{name}.{part}"] = getattr(csr, part)
        rates = engine._graph.rates
        rates.merge()
        arrays["rates.ids"] = rates.ids
        arrays["rates.counts"] = rates.counts
        arrays["rates.total"] = rates.total
        boosts = [(m, c, b) for m, row in engine._boosts.items() for c, b in row.items()]
        arrays["boost.member"] = np.asarray([m for m, _, _ in boosts], dtype=np.int64)
        arrays["boost.candidate"] = np.asarray([c for _, c, _ in boosts], dtype=np.int64)
        arrays["boost.pin"] = np.asarray([b.pin for _, _, b in boosts], dtype=bool)
        arrays["boost.points"] = np.asarray([b.points for _, _, b in boosts], dtype=np.float64)
        shapes = {}
        for name, arr in arrays.items():
            np.save(path / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
            shapes[name] = [list(arr.shape), arr.dtype.str]
        _write_json(path / "words.json", text.words)
        _write_json(
            path / "feedback.json",
            {str(mid): _state_json(state) for mid, state in engine._feedback.items()},
        )
        _write_json(path / "skipped.json", {str(k): v for k, v in engine._skipped.items()})
        manifest = {
            "format": FORMAT,
            "config": config_key(engine.config),
            "size": size,
            "high_water": store.high_water,
            "count": store.count,
            "free": [int(s) for s in store.free],
            "text_docs": int(text.docs),
            "height_sum": list(engine._height_sum),
            "height_n": list(engine._height_n),
            "arrays": shapes,
            "meta": dict(meta or {}),
        }
        # The manifest last: a directory without it is not a snapshot.
        _write_json(path / MANIFEST, manifest)


def read_meta(path: Path) -> dict[str, Any]:
    """The caller's ``meta`` of a saved snapshot, without loading it."""
    return dict(_manifest(Path(path))["meta"])


def load(
    path: Path,
    config: EngineConfig,
    *,
    today: date | None = None,
    region_names: Mapping[int, str] | None = None,
    tag_labels: Mapping[str, str] | None = None,
) -> tuple[Engine, dict[str, Any]]:
    """The engine saved in ``path`` and its ``meta``.

    When ``config`` differs from the one the snapshot was built with (an agency changed its
    hard rules), the derived columns are recomputed for it, vectorised."""
    path = Path(path)
    manifest = _manifest(path)
    shapes: dict[str, list] = manifest["arrays"]
    engine = Engine(
        config, today=today, capacity=64, region_names=region_names, tag_labels=tag_labels
    )
    size = int(manifest["size"])

    def array(name: str, mode: str | None = "c") -> np.ndarray:
        if name not in shapes:
            raise SnapshotError(f"snapshot lacks {name}")
        shape, dtype = shapes[name]
        file = path / f"{name}.npy"
        # An empty array cannot be memory-mapped; it is read (it is empty).
        try:
            arr = np.load(file, mmap_mode=mode if int(np.prod(shape)) else None, allow_pickle=False)
        except (OSError, ValueError) as exc:  # missing, truncated, or an object (pickled) array
            raise SnapshotError(f"{name}: {exc}") from exc
        if list(arr.shape) != shape or arr.dtype.str != dtype:
            raise SnapshotError(f"{name}: shape or type differs from the manifest")
        # A plain array over the same mapped memory: the memmap subclass would add Python
        # overhead to every row read and write (a third of an upsert).
        return np.asarray(arr)

    with engine._lock:
        store, text = engine._store, engine._text
        for name, dtype in ALL_COLUMNS:
            arr = array(f"col.{name}")
            if arr.shape != (size,) or arr.dtype != np.dtype(dtype):
                raise SnapshotError(f"column {name} does not fit this engine")
            store.cols[name] = arr
        store.ids = array("ids")
        store.alive = array("alive")
        store.eligible = array("eligible")
        store.tokens = array("tokens")
        store.tok_norm = array("tok_norm")
        if store.tokens.shape != (size, config.text_tokens):
            raise SnapshotError("the snapshot keeps another number of text tokens")
        for arr in (store.ids, store.alive, store.eligible, store.tok_norm):
            if arr.shape != (size,):
                raise SnapshotError("store arrays of different lengths")
        store.view_pos = np.full(size, -1, dtype=np.int32)
        store.capacity = size
        store.high_water = int(manifest["high_water"])
        store.count = int(manifest["count"])
        store.free = [int(s) for s in manifest["free"]]
        store.idmap.set_capacity(size)
        live = np.flatnonzero(store.alive[: store.high_water])
        store.idmap.set_many(store.ids[live].astype(np.int64), live.astype(np.int32))

        words = _read_json(path / "words.json")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise SnapshotError("bad vocabulary")
        df = array("text_df", None)
        text.words = words
        text.vocab = {w: i for i, w in enumerate(words)}
        capacity = max(1024, 1 << max(0, len(words) - 1).bit_length())
        text.df = np.zeros(capacity, dtype=np.int32)
        text.df[: len(df)] = df
        text._table = np.zeros(capacity, dtype=np.float32)
        text.docs = int(manifest["text_docs"])

        engine._pref_counts = np.array(array("pref_counts", None), dtype=np.int64)
        engine._height_sum = [float(v) for v in manifest["height_sum"]]
        engine._height_n = [int(v) for v in manifest["height_n"]]
        graph = engine._graph
        graph._out = _Csr(*(array(f"graph_out.{p}", "r") for p in _CSR_PARTS))
        graph._in = _Csr(*(array(f"graph_in.{p}", "r") for p in _CSR_PARTS))
        # Rates change with every answer: private copies, never memory-mapped.
        graph.rates.ids = np.array(array("rates.ids", None), dtype=np.int64)
        graph.rates.counts = np.array(array("rates.counts", None), dtype=np.float32)
        graph.rates.total = np.array(array("rates.total", None), dtype=np.float64)
        boost_cols = [array(f"boost.{p}", None) for p in ("member", "candidate", "pin", "points")]
        for m, c, pin, points in zip(*(col.tolist() for col in boost_cols), strict=True):
            engine._boosts.setdefault(int(m), {})[int(c)] = Boost(bool(pin), float(points))
        for key, data in _read_json(path / "feedback.json").items():
            state = _state_from_json(data)
            engine._feedback[int(key)] = state
            slot = store.slot_of(int(key))
            if state.bounds_set and slot >= 0:
                engine._bounded.add(slot)
        engine._skipped = {int(k): str(v) for k, v in _read_json(path / "skipped.json").items()}
        if manifest["config"] != config_key(config):
            engine.reconfigure(config)
        else:
            for view in engine._views:
                view.rebuild(store)
    return engine, dict(manifest["meta"])


def _manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = _read_json(path / MANIFEST)
    except FileNotFoundError as exc:
        raise SnapshotError(f"no snapshot in {path}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError("unknown snapshot format")
    return manifest


def _write_json(file: Path, data: Any) -> None:
    file.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{file.name}: {exc}") from exc


def _state_json(state: FeedbackState) -> dict[str, Any]:
    return {
        "rejected": sorted(state.rejected),
        "liked": sorted(state.liked),
        "avoid": {attr: [[c, s] for c, s in codes.items()] for attr, codes in state.avoid.items()},
        "repellers": [
            {"values": r.values, "dims": list(r.dims), "source": r.source_id, "reason": r.reason}
            for r in state.repellers
        ],
        "likes": list(state.likes),
        "origin": {key: [cid, reason] for key, (cid, reason) in state.origin.items()},
        "bounds_set": state.bounds_set,
    }


def _state_from_json(data: dict[str, Any]) -> FeedbackState:
    try:
        return FeedbackState(
            rejected={int(i) for i in data["rejected"]},
            liked={int(i) for i in data["liked"]},
            avoid={
                str(attr): {int(c): float(s) for c, s in codes}
                for attr, codes in data["avoid"].items()
            },
            repellers=deque(
                Reference(
                    {str(k): float(v) for k, v in r["values"].items()},
                    tuple(str(d) for d in r["dims"]),
                    int(r["source"]),
                    str(r["reason"]),
                )
                for r in data["repellers"]
            ),
            likes=deque({str(k): float(v) for k, v in f.items()} for f in data["likes"]),
            origin={str(k): (int(v[0]), str(v[1])) for k, v in data["origin"].items()},
            bounds_set=bool(data["bounds_set"]),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise SnapshotError(f"bad feedback entry: {exc}") from exc
