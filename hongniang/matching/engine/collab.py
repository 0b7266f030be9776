"""Behaviour graph, answer rates and the collaborative signal.

Edges actor → target carry the summed weight of the actor's answers and interactions with
the target (a yes +1, a no -1, a view 0.1, a held appointment 3, a stopped one -3 …).  They
are kept compacted in sorted arrays (CSR, by actor and by target) plus a small dict of
recent changes, so memory stays ~40 bytes per edge at millions of edges and lookups are
O(log E + degree).

Two normalised signals come out of it (see ``InteractionGraph.scores`` and ``AnswerRates``):

* rates: each member's smoothed yes-rate (how selective they are: the actor effect) and
  chosen-rate (how often others say yes to them: the partner effect), with a Beta prior at
  the agency's average so a new member starts there; expressed as logit offsets from the
  average, so they add to a logistic model;
* collaborative similarity, normalised by degree and using yes and no, in both directions:
  "taste" (A→B: people who answer like A said yes to B) and "reciprocal" (B→A: B answers
  like the people who said yes to A; B's own yes to A counts double).  Both lie in -1..1,
  so they order one member's candidates instead of separating active from inactive members.

Neighbour lists are capped at the ``fanout`` strongest edges so popular members cannot blow
up the cost.
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

    def has(self, owner: int, nbr: int) -> bool:
        """Whether the edge owner → nbr is in the arrays (neighbours are sorted per owner)."""
        i = int(np.searchsorted(self.keys, owner))
        if i < len(self.keys) and self.keys[i] == owner:
            lo, hi = int(self.ptr[i]), int(self.ptr[i + 1])
            j = lo + int(np.searchsorted(self.nbr[lo:hi], nbr))
            return j < hi and self.nbr[j] == nbr
        return False

    def degrees(self, ids: np.ndarray) -> np.ndarray:
        """Neighbours of each id in the arrays (0 for an id without edges)."""
        if len(self.keys) == 0:
            return np.zeros(len(ids), dtype=np.float32)
        i = np.minimum(np.searchsorted(self.keys, ids), len(self.keys) - 1)
        found = self.keys[i] == ids
        return np.where(found, self.ptr[i + 1] - self.ptr[i], 0).astype(np.float32)

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
    """Collaborative evidence per candidate id (parallel arrays, ids sorted)."""

    ids: np.ndarray
    taste: np.ndarray  # -1..1: would the member say yes to the candidate (A→B)
    reciprocal: np.ndarray  # -1..1: would the candidate say yes to the member (B→A)
    direct: np.ndarray  # bool: the candidate already said yes to (or liked) the member


# Columns of AnswerRates.counts.
GIVEN, SAID_YES, RECEIVED, CHOSEN = range(4)


class AnswerRates:
    """Answers given and received per member id: how selective (yes-rate) and how chosen
    (chosen-rate) each member is.  Every answer counts, explained or not."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)  # sorted; rows of ``counts``
        self.counts = np.zeros((0, 4), dtype=np.float32)
        self._recent: dict[int, np.ndarray] = {}  # not yet merged into the arrays
        self.total = np.zeros(4, dtype=np.float64)
        # per prior (the learning step compares several); emptied by every change
        self._offsets: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def add(self, actor: int, target: int, yes: bool) -> None:
        for member, given, yes_col in ((actor, GIVEN, SAID_YES), (target, RECEIVED, CHOSEN)):
            row = self._recent.get(member)
            if row is None:
                row = self._recent[member] = np.zeros(4, dtype=np.float32)
            row[given] += 1.0
            row[yes_col] += float(yes)
        self.total[[GIVEN, RECEIVED]] += 1.0
        self.total[[SAID_YES, CHOSEN]] += float(yes)
        self._offsets = {}

    def forget(self, member_id: int) -> None:
        """Drop the member's own counts (others keep the answers they gave or received)."""
        self.merge()
        i = int(np.searchsorted(self.ids, member_id))
        if i < len(self.ids) and self.ids[i] == member_id:
            self.ids = np.delete(self.ids, i)
            self.counts = np.delete(self.counts, i, axis=0)
            self._offsets = {}

    def merge(self) -> None:
        if not self._recent:
            return
        new_ids = np.fromiter(self._recent, dtype=np.int64, count=len(self._recent))
        new_rows = np.stack(list(self._recent.values()))
        ids = np.concatenate([self.ids, new_ids])
        rows = np.concatenate([self.counts, new_rows])
        uniq, inverse = np.unique(ids, return_inverse=True)
        counts = np.zeros((len(uniq), 4), dtype=np.float32)
        np.add.at(counts, inverse, rows)
        self.ids, self.counts = uniq, counts
        self._recent.clear()

    def mean(self) -> float:
        """The agency's yes-rate (0.4, the usual share, before any answer)."""
        given = self.total[GIVEN]
        return float(self.total[SAID_YES] / given) if given else 0.4

    def offsets(self, prior: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, selectivity, appeal): logit of each member's smoothed yes-rate and
        chosen-rate minus the logit of the agency's average (Beta prior with ``prior``
        pseudo-answers at the average).  0 for a member without answers; cached (per
        prior: the learning step compares several)."""
        found = self._offsets.get(prior)
        if found is None:
            self.merge()
            mean = min(max(self.mean(), 0.01), 0.99)
            base = np.log(mean / (1.0 - mean))
            c = self.counts.astype(np.float64)
            yes = (c[:, SAID_YES] + prior * mean) / (c[:, GIVEN] + prior)
            chosen = (c[:, CHOSEN] + prior * mean) / (c[:, RECEIVED] + prior)
            sel = (np.log(yes / (1.0 - yes)) - base).astype(np.float32)
            app = (np.log(chosen / (1.0 - chosen)) - base).astype(np.float32)
            found = self._offsets[prior] = (self.ids, sel, app)
        return found

    def knows(self, member_id: int) -> bool:
        """Whether the member has given or received any answer."""
        if member_id in self._recent:
            return True
        i = int(np.searchsorted(self.ids, member_id))
        return i < len(self.ids) and self.ids[i] == member_id

    def of(self, member_id: int, prior: float) -> tuple[float, float]:
        ids, sel, app = self.offsets(prior)
        i = int(np.searchsorted(ids, member_id))
        if i < len(ids) and ids[i] == member_id:
            return float(sel[i]), float(app[i])
        return 0.0, 0.0

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.counts.nbytes)


class InteractionGraph:
    def __init__(self, compact_min: int = 1024) -> None:
        self._out = _Csr.empty()
        self._in = _Csr.empty()
        self._delta: dict[tuple[int, int], float] = {}
        self._delta_out: dict[int, set[int]] = {}
        self._delta_in: dict[int, set[int]] = {}
        # Neighbours gained since the last compaction (edges not yet in the arrays), per
        # member and direction: degrees are then two look-ups, each edge counted once.
        self._new_out: dict[int, int] = {}
        self._new_in: dict[int, int] = {}
        # Compact when recent changes reach a quarter of the compacted edges: amortised
        # O(log E) per change, and lookups rarely need the slower dict merge.
        self._compact_min = compact_min
        # Removed members whose compacted edges are masked until the next compaction.
        self._forgotten: set[int] = set()
        self.rates = AnswerRates()

    def add(self, actor: int, target: int, weight: float) -> None:
        if self._forgotten and (actor in self._forgotten or target in self._forgotten):
            self.compact()  # purge the forgotten edges first: a returning member starts afresh
        key = (actor, target)
        if key not in self._delta and not self._out.has(actor, target):
            self._new_out[actor] = self._new_out.get(actor, 0) + 1
            self._new_in[target] = self._new_in.get(target, 0) + 1
        self._delta[key] = self._delta.get(key, 0.0) + weight
        self._delta_out.setdefault(actor, set()).add(target)
        self._delta_in.setdefault(target, set()).add(actor)
        if len(self._delta) >= max(self._compact_min, len(self._out.nbr) // 4):
            self.compact()

    def answer(self, actor: int, target: int, yes: bool, weight: float) -> None:
        """An answer to a recommendation: an edge, and a count in the rates."""
        self.add(actor, target, weight)
        self.rates.add(actor, target, yes)

    def compact(self) -> None:
        if not self._delta and not self._forgotten:
            return
        keys = np.array(list(self._delta), dtype=np.int64).reshape(-1, 2)
        weights = np.fromiter(self._delta.values(), dtype=np.float32, count=len(self._delta))
        owner = np.concatenate([np.repeat(self._out.keys, np.diff(self._out.ptr)), keys[:, 0]])
        nbr = np.concatenate([self._out.nbr, keys[:, 1]])
        w = np.concatenate([self._out.w, weights])
        if self._forgotten:
            gone = np.fromiter(self._forgotten, dtype=np.int64, count=len(self._forgotten))
            keep = ~np.isin(owner, gone) & ~np.isin(nbr, gone)
            owner, nbr, w = owner[keep], nbr[keep], w[keep]
            self._forgotten.clear()
        owner, nbr, w = _sum_pairs(owner, nbr, w)
        self._out = _Csr.build(owner, nbr, w)
        self._in = _Csr.build(nbr, owner, w)
        self._delta.clear()
        self._delta_out.clear()
        self._delta_in.clear()
        self._new_out.clear()
        self._new_in.clear()

    def forget(self, member_id: int) -> None:
        """A removed member's edges and counts are gone at once (the compacted edges are
        masked until the next compaction drops them)."""
        for target in self._delta_out.pop(member_id, ()):
            self._delta.pop((member_id, target), None)
            self._delta_in.get(target, set()).discard(member_id)
            if not self._out.has(member_id, target):
                self._new_in[target] -= 1
        for actor in self._delta_in.pop(member_id, ()):
            self._delta.pop((actor, member_id), None)
            self._delta_out.get(actor, set()).discard(member_id)
            if not self._out.has(actor, member_id):
                self._new_out[actor] -= 1
        self._new_out.pop(member_id, None)
        self._new_in.pop(member_id, None)
        if member_id in self._out.keys or member_id in self._in.keys:
            self._forgotten.add(member_id)
        self.rates.forget(member_id)

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
        if self._forgotten and len(nbr):
            gone = np.fromiter(self._forgotten, dtype=np.int64, count=len(self._forgotten))
            keep = ~np.isin(nbr, gone) & ~np.isin(owner, gone)
            owner, nbr, w = owner[keep], nbr[keep], w[keep]
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
        return self._out.nbytes + self._in.nbytes + self.rates.nbytes

    # --- scoring -------------------------------------------------------------------------------

    def _signed(
        self, seeds: np.ndarray, outgoing: bool, fanout: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edges (seed, neighbour, sign) of ``seeds``, the sign being the summed weight
        clipped to -1..1 (a yes or a held appointment is +1, a no -1, a view +0.1); each
        seed keeps its ``fanout`` strongest edges."""
        if len(seeds) == 0:
            return _EMPTY_I, _EMPTY_I, _EMPTY_F
        seeds = np.unique(seeds)
        owner, nbr, w = self._edges(seeds, outgoing)
        keep = w != 0
        owner, nbr, w = owner[keep], nbr[keep], w[keep]
        if len(w) == 0:
            return _EMPTY_I, _EMPTY_I, _EMPTY_F
        order = np.lexsort((-np.abs(w), owner))
        owner, nbr, w = owner[order], nbr[order], w[order]
        first = np.ones(len(owner), dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
        keep = np.arange(len(owner)) - group_start < fanout
        return owner[keep], nbr[keep], np.clip(w[keep], -1.0, 1.0).astype(np.float32)

    def _degree(self, ids: np.ndarray, outgoing: bool) -> np.ndarray:
        """Distinct neighbours of each id (at least 1); an edge changed since the last
        compaction is counted once, not again for its recent change."""
        csr, new = (self._out, self._new_out) if outgoing else (self._in, self._new_in)
        deg = csr.degrees(ids)
        if new:
            deg += np.fromiter((new.get(x, 0) for x in ids.tolist()), np.float32, len(ids))
        return np.maximum(deg, 1.0)

    def _degrees_of(self, ids: np.ndarray) -> np.ndarray:
        """Out-degrees of many (repeated) ids, each distinct id looked up once."""
        uniq, inverse = np.unique(ids, return_inverse=True)
        return self._degree(uniq, True)[inverse]

    def scores(self, member_id: int, fanout: int, shrink: float = 1.0) -> CollabScores | None:
        """Collaborative evidence for every candidate reachable from ``member_id``, using
        yes and no; None when the member's neighbourhood has no answers at all.

        taste (A→B): members U who answered the same people as A the same way
            (sim = Σ_t s(A,t)·s(U,t) / √(deg A · deg U)); their answers to B, averaged with
            |sim| as weights and shrunk toward 0 by ``shrink`` pseudo-weight.
        reciprocal (B→A): members V who answered A; B's similarity to each V (the same
            cosine over their answers) weighs V's answer to A.  B's own answer to A counts
            double.  Both lie in -1..1 and do not grow with how active anyone is."""
        me = np.asarray([member_id], dtype=np.int64)
        _, mine, s_mine = self._signed(me, outgoing=True, fanout=fanout)
        _, fans, s_fans = self._signed(me, outgoing=False, fanout=fanout)
        order, back = np.argsort(mine), np.argsort(fans)  # by id, for the look-ups below
        mine, s_mine, fans, s_fans = mine[order], s_mine[order], fans[back], s_fans[back]
        if len(mine) == 0 and len(fans) == 0:
            return None
        # The inner hops follow fewer edges: three hops of `fanout` would be fanout³ paths.
        inner = max(10, fanout // 2)
        taste_ids, taste = self._taste(member_id, mine, s_mine, inner, shrink)
        recip_ids, recip = self._reciprocal(member_id, fans, s_fans, inner, shrink)
        ids = np.union1d(taste_ids, recip_ids)
        ids = ids[ids != member_id]
        t = np.zeros(len(ids), dtype=np.float32)
        r = np.zeros(len(ids), dtype=np.float32)
        t[np.searchsorted(ids, taste_ids[taste_ids != member_id])] = taste[taste_ids != member_id]
        r[np.searchsorted(ids, recip_ids[recip_ids != member_id])] = recip[recip_ids != member_id]
        direct = np.zeros(len(ids), dtype=bool)
        if len(fans):
            at = np.minimum(np.searchsorted(ids, fans), max(len(ids) - 1, 0))
            hit = (ids[at] == fans) & (s_fans > 0) if len(ids) else np.zeros(0, dtype=bool)
            direct[at[hit]] = True
        return CollabScores(ids=ids, taste=t, reciprocal=r, direct=direct)

    def taste_of(self, member_id: int, fanout: int) -> dict[int, float]:
        """The `scores` taste (A→B) alone, by candidate id (the learning step reads only
        this direction, and the reciprocal hop costs most of `scores`)."""
        me = np.asarray([member_id], dtype=np.int64)
        _, mine, s_mine = self._signed(me, outgoing=True, fanout=fanout)
        order = np.argsort(mine)
        ids, taste = self._taste(member_id, mine[order], s_mine[order], max(10, fanout // 2), 1.0)
        keep = ids != member_id
        return dict(zip(ids[keep].tolist(), taste[keep].tolist(), strict=True))

    def _taste(
        self, member_id: int, mine: np.ndarray, s_mine: np.ndarray, fanout: int, shrink: float
    ) -> tuple[np.ndarray, np.ndarray]:
        if len(mine) == 0:
            return _EMPTY_I, _EMPTY_F
        # co-answerers U of my targets t: s(A,t)·s(U,t), summed by U
        t_owner, peers, s_peer = self._signed(mine, outgoing=False, fanout=fanout)
        contrib = (
            s_peer * s_mine[np.searchsorted(mine, t_owner)]
            if len(mine) > 1
            else (s_peer * s_mine[0])
        )
        sim_ids, sim = _sum_by(peers, contrib)
        keep = sim_ids != member_id
        sim_ids, sim = sim_ids[keep], sim[keep]
        sim = sim / np.sqrt(self._degree(sim_ids, True) * max(len(mine), 1))
        sim_ids, sim = _strongest(sim_ids, sim, fanout)
        # their answers to candidates B
        owner, cand, s_cand = self._signed(sim_ids, outgoing=True, fanout=fanout)
        weight = sim[np.searchsorted(sim_ids, owner)]
        ids, num = _sum_by(cand, weight * s_cand)
        _, den = _sum_by(cand, np.abs(weight))
        return ids, (num / (den + shrink)).astype(np.float32)

    def _reciprocal(
        self, member_id: int, fans: np.ndarray, s_fans: np.ndarray, fanout: int, shrink: float
    ) -> tuple[np.ndarray, np.ndarray]:
        if len(fans) == 0:
            return _EMPTY_I, _EMPTY_F
        # V answered me; V's answers t; others B who answered t: triples (V, t, B)
        v_owner, targets, s_vt = self._signed(fans, outgoing=True, fanout=fanout)
        keep = targets != member_id
        v_owner, targets, s_vt = v_owner[keep], targets[keep], s_vt[keep]
        uniq_t = np.unique(targets)
        t_owner, others, s_bt = self._signed(uniq_t, outgoing=False, fanout=fanout)
        # join (V, t) with (t, B) on t
        order = np.argsort(targets, kind="stable")
        v_owner, targets, s_vt = v_owner[order], targets[order], s_vt[order]
        lo = np.searchsorted(targets, t_owner, side="left")
        hi = np.searchsorted(targets, t_owner, side="right")
        counts = hi - lo
        total = int(counts.sum())
        direct_ids, direct_s = fans, s_fans
        if total:
            rep = np.repeat(np.arange(len(t_owner)), counts)
            idx = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
            b = others[rep]
            v = v_owner[idx]
            prod = s_bt[rep] * s_vt[idx]
            keep = (b != v) & (b != member_id)
            b, v, prod = b[keep], v[keep], prod[keep]
            # sim(B, V) per pair, normalised by both degrees
            order = np.lexsort((v, b))
            b, v, prod = b[order], v[order], prod[order]
            first = np.ones(len(b), dtype=bool)
            first[1:] = (b[1:] != b[:-1]) | (v[1:] != v[:-1])
            starts = np.flatnonzero(first)
            if len(starts):
                pb, pv = b[starts], v[starts]
                sim = np.add.reduceat(prod, starts)
                sim = sim / np.sqrt(self._degrees_of(pb) * self._degrees_of(pv))
                answer = s_fans[np.searchsorted(fans, pv)]
                ids, num = _sum_by(pb, sim * answer)
                _, den = _sum_by(pb, np.abs(sim))
            else:
                ids, num, den = _EMPTY_I, _EMPTY_F, _EMPTY_F
        else:
            ids, num, den = _EMPTY_I, _EMPTY_F, _EMPTY_F
        # a candidate's own answer to the member counts double
        all_ids = np.union1d(ids, direct_ids)
        n = np.zeros(len(all_ids))
        d = np.zeros(len(all_ids))
        if len(ids):
            n[np.searchsorted(all_ids, ids)] += num
            d[np.searchsorted(all_ids, ids)] += den
        at = np.searchsorted(all_ids, direct_ids)
        n[at] += 2.0 * direct_s
        d[at] += 2.0 * np.abs(direct_s)
        return all_ids, (n / (d + shrink)).astype(np.float32)


def _sum_by(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(keys) == 0:
        return _EMPTY_I, _EMPTY_F
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, np.bincount(inverse, weights=values, minlength=len(uniq))


def _strongest(ids: np.ndarray, w: np.ndarray, fanout: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``fanout`` entries with the largest |w|, still sorted by id."""
    if len(w) > fanout:
        top = np.sort(np.argpartition(-np.abs(w), fanout)[:fanout])
        ids, w = ids[top], w[top]
    return ids, w


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
