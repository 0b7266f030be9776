"""Behaviour graph and the collaborative signal.

Edges actor → target carry the summed weight of the actor's interactions with the target
(view, like, message, …; a stopped appointment or a rejection subtracts).  They are kept
compacted in sorted arrays (CSR, by actor and by target) plus a small dict of recent
changes, so memory stays ~40 bytes per edge at millions of edges and lookups are
O(log E + degree).

Collaborative score of candidate B for member A, from positive edges only:
  taste:      people whose likes overlap A's likes (co-likers U) liked B
              Σ_U sim(A, U) · w(U, B),  sim(A, U) = Σ_t w(A, t)·w(U, t) / √deg(U)
  reciprocal: B liked A, or B liked people who are liked by the same people as A
              2·w(B, A) + Σ_X sim(A, X) · w(B, X),  sim(A, X) = Σ_u w(u, A)·w(u, X) / √indeg(X)
each squashed by 1 - exp(-s / scale) and averaged.  Neighbour lists are capped at the
``fanout`` heaviest edges so popular members cannot blow up the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float32)


@dataclass(slots=True)
class _Csr:
    keys: np.ndarray  # sorted unique owner ids
    ptr: np.ndarray
    nbr: np.ndarray
    w: np.ndarray

    @classmethod
    def empty(cls) -> _Csr:
        return cls(_EMPTY_I, np.zeros(1, dtype=np.int64), _EMPTY_I, _EMPTY_F)

    @classmethod
    def build(cls, owner: np.ndarray, nbr: np.ndarray, w: np.ndarray) -> _Csr:
        order = np.lexsort((nbr, owner))
        owner, nbr, w = owner[order], nbr[order], w[order]
        keys, starts = np.unique(owner, return_index=True)
        ptr = np.append(starts, len(owner)).astype(np.int64)
        return cls(keys, ptr, nbr, w)

    def get(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            lo, hi = int(self.ptr[i]), int(self.ptr[i + 1])
            return self.nbr[lo:hi], self.w[lo:hi]
        return _EMPTY_I, _EMPTY_F

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.ptr.nbytes + self.nbr.nbytes + self.w.nbytes)


@dataclass(slots=True)
class CollabScores:
    """Collaborative evidence per candidate id (parallel arrays)."""

    ids: np.ndarray
    taste: np.ndarray  # 0..1
    reciprocal: np.ndarray  # 0..1
    direct: np.ndarray  # bool: the candidate liked the member

    @property
    def value(self) -> np.ndarray:
        return 0.5 * (self.taste + self.reciprocal)


class InteractionGraph:
    def __init__(self, compact_min: int = 1024) -> None:
        self._out = _Csr.empty()
        self._in = _Csr.empty()
        self._delta: dict[tuple[int, int], float] = {}
        self._delta_out: dict[int, set[int]] = {}
        self._delta_in: dict[int, set[int]] = {}
        # Compact when recent changes reach a quarter of the compacted edges: amortised
        # O(log E) per change, and lookups rarely need the slower dict merge.
        self._compact_min = compact_min

    def add(self, actor: int, target: int, weight: float) -> None:
        key = (actor, target)
        self._delta[key] = self._delta.get(key, 0.0) + weight
        self._delta_out.setdefault(actor, set()).add(target)
        self._delta_in.setdefault(target, set()).add(actor)
        if len(self._delta) >= max(self._compact_min, len(self._out.nbr) // 4):
            self.compact()

    def compact(self) -> None:
        if not self._delta:
            return
        keys = np.array(list(self._delta), dtype=np.int64).reshape(-1, 2)
        weights = np.fromiter(self._delta.values(), dtype=np.float32, count=len(self._delta))
        owner = np.concatenate([np.repeat(self._out.keys, np.diff(self._out.ptr)), keys[:, 0]])
        nbr = np.concatenate([self._out.nbr, keys[:, 1]])
        w = np.concatenate([self._out.w, weights])
        owner, nbr, w = _sum_pairs(owner, nbr, w)
        self._out = _Csr.build(owner, nbr, w)
        self._in = _Csr.build(nbr, owner, w)
        self._delta.clear()
        self._delta_out.clear()
        self._delta_in.clear()

    def forget(self, member_id: int) -> None:
        """Drop a removed member's edges (at the next compaction)."""
        self.compact()
        out_owner = np.repeat(self._out.keys, np.diff(self._out.ptr))
        keep = (out_owner != member_id) & (self._out.nbr != member_id)
        if keep.all():
            return
        owner, nbr, w = out_owner[keep], self._out.nbr[keep], self._out.w[keep]
        self._out = _Csr.build(owner, nbr, w)
        self._in = _Csr.build(nbr, owner, w)

    def _edges(self, seeds: np.ndarray, outgoing: bool) -> tuple[np.ndarray, ...]:
        """All edges (seed, neighbour, summed weight) of ``seeds``, in one vectorised pass
        over the compacted arrays plus the recent changes."""
        csr = self._out if outgoing else self._in
        owner, nbr, w = _EMPTY_I, _EMPTY_I, _EMPTY_F
        if len(csr.keys) and len(seeds):
            i = np.minimum(np.searchsorted(csr.keys, seeds), len(csr.keys) - 1)
            found = csr.keys[i] == seeds
            starts, ends = csr.ptr[i[found]], csr.ptr[i[found] + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if total:
                offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
                idx = offsets + np.arange(total)
                owner = np.repeat(seeds[found], lengths)
                nbr, w = csr.nbr[idx], csr.w[idx]
        delta_index = self._delta_out if outgoing else self._delta_in
        if delta_index:
            extra_o, extra_n, extra_w = [], [], []
            for seed in seeds.tolist():
                for other in delta_index.get(seed, ()):
                    extra_o.append(seed)
                    extra_n.append(other)
                    pair = (seed, other) if outgoing else (other, seed)
                    extra_w.append(self._delta[pair])
            if extra_o:
                owner = np.concatenate([owner, np.asarray(extra_o, dtype=np.int64)])
                nbr = np.concatenate([nbr, np.asarray(extra_n, dtype=np.int64)])
                w = np.concatenate([w, np.asarray(extra_w, dtype=np.float32)])
                owner, nbr, w = _sum_pairs(owner, nbr, w)
        return owner, nbr, w

    def out_edges(self, actor: int) -> tuple[np.ndarray, np.ndarray]:
        _, nbr, w = self._edges(np.asarray([actor], dtype=np.int64), True)
        return nbr, w

    def in_edges(self, target: int) -> tuple[np.ndarray, np.ndarray]:
        _, nbr, w = self._edges(np.asarray([target], dtype=np.int64), False)
        return nbr, w

    def weight(self, actor: int, target: int) -> float:
        nbr, w = self.out_edges(actor)
        hit = np.flatnonzero(nbr == target)
        return float(w[hit[0]]) if len(hit) else 0.0

    def has_history(self, member_id: int) -> bool:
        return bool(len(self.out_edges(member_id)[0]) or len(self.in_edges(member_id)[0]))

    def edge_count(self) -> int:
        return len(self._out.nbr) + len(self._delta)

    @property
    def nbytes(self) -> int:
        return self._out.nbytes + self._in.nbytes

    # --- scoring -------------------------------------------------------------------------------

    def _hop(
        self, seeds: np.ndarray, seed_w: np.ndarray, outgoing: bool, fanout: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Σ seed weight × edge weight over each seed's ``fanout`` heaviest positive edges,
        by neighbour."""
        if len(seeds) == 0:
            return _EMPTY_I, _EMPTY_F
        order = np.argsort(seeds)
        seeds, seed_w = seeds[order], seed_w[order]
        owner, nbr, w = self._edges(seeds, outgoing)
        keep = w > 0
        owner, nbr, w = owner[keep], nbr[keep], w[keep]
        if len(w) == 0:
            return _EMPTY_I, _EMPTY_F
        # Keep the `fanout` heaviest edges of every seed.
        order = np.lexsort((-w, owner))
        owner, nbr, w = owner[order], nbr[order], w[order]
        first = np.ones(len(owner), dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
        keep = np.arange(len(owner)) - group_start < fanout
        owner, nbr, w = owner[keep], nbr[keep], w[keep]
        contrib = w * seed_w[np.searchsorted(seeds, owner)]
        uniq, inverse = np.unique(nbr, return_inverse=True)
        return uniq, np.bincount(inverse, weights=contrib).astype(np.float32)

    def _degree(self, ids: np.ndarray, outgoing: bool) -> np.ndarray:
        csr = self._out if outgoing else self._in
        deg = np.zeros(len(ids), dtype=np.float32)
        if len(csr.keys):
            i = np.minimum(np.searchsorted(csr.keys, ids), len(csr.keys) - 1)
            found = csr.keys[i] == ids
            deg = np.where(found, csr.ptr[i + 1] - csr.ptr[i], 0).astype(np.float32)
        delta_index = self._delta_out if outgoing else self._delta_in
        if delta_index:
            deg += np.array([len(delta_index.get(int(x), ())) for x in ids], dtype=np.float32)
        return np.maximum(deg, 1.0)

    @staticmethod
    def _top(
        ids: np.ndarray, w: np.ndarray, drop: int, fanout: int
    ) -> tuple[np.ndarray, np.ndarray]:
        keep = ids != drop
        ids, w = ids[keep], w[keep]
        if len(w) > fanout:
            top = np.argpartition(-w, fanout)[:fanout]
            ids, w = ids[top], w[top]
        return ids, w

    def scores(self, member_id: int, fanout: int, scale: float) -> CollabScores | None:
        """Collaborative evidence for every candidate reachable from ``member_id``;
        None when the member has no history at all."""
        me = np.asarray([member_id], dtype=np.int64)
        one = np.ones(1, dtype=np.float32)
        likes, like_w = self._hop(me, one, outgoing=True, fanout=fanout)
        fans, fan_w = self._hop(me, one, outgoing=False, fanout=fanout)
        if len(likes) == 0 and len(fans) == 0:
            return None
        # taste: co-likers of my likes, then what they like
        peers, peer_w = self._hop(likes, like_w, outgoing=False, fanout=fanout)
        peers, peer_w = self._top(peers, peer_w, member_id, fanout)
        peer_w = peer_w / np.sqrt(self._degree(peers, outgoing=True))
        taste_ids, taste = self._hop(peers, peer_w, outgoing=True, fanout=fanout)
        # reciprocal: people liked by my fans are "like me"; who liked them may like me
        similar, sim_w = self._hop(fans, fan_w, outgoing=True, fanout=fanout)
        similar, sim_w = self._top(similar, sim_w, member_id, fanout)
        sim_w = sim_w / np.sqrt(self._degree(similar, outgoing=False))
        recip_ids, recip = self._hop(similar, sim_w, outgoing=False, fanout=fanout)
        all_ids = np.concatenate([taste_ids, recip_ids, fans])
        uniq, inverse = np.unique(all_ids, return_inverse=True)
        n1, n2 = len(taste_ids), len(recip_ids)
        t = np.bincount(inverse[:n1], weights=taste, minlength=len(uniq))
        r = np.bincount(inverse[n1 : n1 + n2], weights=recip, minlength=len(uniq))
        d = np.bincount(inverse[n1 + n2 :], weights=fan_w, minlength=len(uniq))
        r = r + 2.0 * d  # they liked me: the strongest reciprocal evidence
        keep = uniq != member_id
        inv_scale = 1.0 / scale
        return CollabScores(
            ids=uniq[keep],
            taste=(1.0 - np.exp(-t[keep] * inv_scale)).astype(np.float32),
            reciprocal=(1.0 - np.exp(-r[keep] * inv_scale)).astype(np.float32),
            direct=d[keep] > 0,
        )


def _sum_pairs(
    owner: np.ndarray, nbr: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge duplicate (owner, neighbour) edges by summing their weights."""
    order = np.lexsort((nbr, owner))
    owner, nbr, w = owner[order], nbr[order], w[order]
    first = np.ones(len(owner), dtype=bool)
    first[1:] = (owner[1:] != owner[:-1]) | (nbr[1:] != nbr[:-1])
    starts = np.flatnonzero(first)
    return owner[starts], nbr[starts], np.add.reduceat(w, starts).astype(np.float32)
