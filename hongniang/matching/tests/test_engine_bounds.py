"""Bound-based skipping (`Engine._score_windows`): scoring only the rows whose upper bound
can reach the top k gives exactly the results of scoring every row — same candidates, same
scores and parts, same order, ties broken the same way (never by birth order)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import (
    REASONS,
    EngineConfig,
    Model,
    Preferences,
    RangePref,
    Weights,
    snapshot,
)
from hongniang.matching.engine import engine as engine_module
from hongniang.matching.engine import store as store_module
from hongniang.matching.engine.encoding import FAST_COLUMNS, birth_key
from hongniang.matching.engine.scoring import Scorer
from hongniang.matching.tests.test_engine_helpers import TODAY, build, person
from hongniang.matching.tests.test_engine_prefilter import profiles

TAGS = ("摄影", "徒步", "读书", "烹饪", "旅游")
ABOUT = ("喜欢摄影和徒步", "周末读书喝茶", "热爱烹饪美食", "到处旅游拍照", "")


def outcome(results: list) -> list[tuple]:
    return [
        (
            r.candidate_id,
            r.score,
            r.fit_a_to_b,
            r.fit_b_to_a,
            r.components,
            r.pinned,
            r.boosted,
        )
        for r in results
    ]


@st.composite
def populations(draw):
    n = draw(st.integers(8, 40))
    people = []
    for i in range(n):
        p = draw(profiles(i))
        people.append(
            replace(
                p,
                hobbies=frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=3))),
                about=draw(st.sampled_from(ABOUT)),
                status="active",
                marital="single" if p.marital == "married" else p.marital,
            )
        )
    later = [
        replace(draw(profiles(n + i)), status="active") for i in range(draw(st.integers(0, 3)))
    ]
    everyone = [p.id for p in people + later]
    pair = st.tuples(st.sampled_from(everyone), st.sampled_from(everyone))
    answers = draw(st.lists(st.tuples(pair, st.booleans(), st.sampled_from(REASONS)), max_size=25))
    interactions = draw(
        st.lists(st.tuples(pair, st.sampled_from(["view", "like", "message"])), max_size=25)
    )
    boosts = draw(st.lists(st.tuples(pair, st.booleans(), st.sampled_from([0.0, 5.0])), max_size=3))
    weights = Weights(
        text=draw(st.sampled_from([0.0, 6.0, 20.0])),
        collaborative=draw(st.sampled_from([0.0, 8.0])),
    )
    # after the build: some members change status or leave (masked out of the views)
    statuses = draw(
        st.lists(
            st.tuples(st.sampled_from(everyone), st.sampled_from(["active", "paused"])), max_size=4
        )
    )
    removed = draw(st.lists(st.sampled_from(everyone), max_size=2))
    changes = (statuses, removed)
    return people, later, answers, interactions, boosts, weights, draw(st.integers(1, 6)), changes


def _with(monkeypatch, prune: bool, seed: int = 1, split: int = 10**9):
    monkeypatch.setattr(engine_module, "_PRUNE_FROM", 0 if prune else 10**9)
    monkeypatch.setattr(engine_module, "_SEED_ROWS", seed)
    monkeypatch.setattr(engine_module, "_SEED_PER_RESULT", 1)
    # halves bounded / scored at once (on the helper thread) from this many rows
    monkeypatch.setattr(engine_module, "_SPLIT_ROWS", split)


# The defaults and a learned-looking model (selective, appeal weighing more).
MODELS = (Model(), Model(intercept=-0.4, fit=0.7, appeal=2.5, selectivity=0.3, liked=0.2))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    populations(),
    st.integers(1, 12),
    st.sampled_from([4, 10**9]),
    st.booleans(),
    st.sampled_from(MODELS),
    st.sampled_from([80.0, 80.0, 30.0, 0.0]),
)
def test_scoring_only_rows_that_can_reach_the_top_k_changes_nothing(
    monkeypatch_module, case, seed, split, reloaded, model, fit_weight
):
    """Whatever happened since the build (members added, answers, behaviour, boosts,
    status changes, removals), whatever the model and the fit's weight (0: the bound is
    no function of fit_a_to_b that can be inverted), and after a snapshot round-trip: the
    same results."""
    people, later, answers, interactions, boosts, weights, k, (statuses, removed) = case
    # views as large ones are: the acceptance tables read from the store (store.Columns)
    monkeypatch_module.setattr(store_module, "TABLES_COPIED_BELOW", 0)
    config = EngineConfig(weights=replace(weights, fit=fit_weight))
    engine = build(*people, config=config)
    engine.set_model(model)
    for p in later:
        engine.upsert(p)  # in the views' delta
    for (a, b), liked, reason in answers:
        if a != b:
            engine.feedback(a, b, liked, () if liked else (reason,))
    for (a, b), kind in interactions:
        if a != b:
            engine.interaction(a, b, kind)
    for (a, b), pin, points in boosts:
        if a != b:
            engine.boost(a, b, pin=pin, points=points)
    if statuses:
        engine.set_statuses([m for m, _ in statuses], [s for _, s in statuses])
    for member in removed:
        engine.remove(member)
    members = [p.id for p in people + later if p.id not in removed]
    _with(monkeypatch_module, prune=False)
    whole = {m: outcome(engine.recommend(m, k=k, explain=False)) for m in members}
    if reloaded:
        with tempfile.TemporaryDirectory() as directory:
            snapshot.save(engine, Path(directory))
            engine, _ = snapshot.load(Path(directory), config, today=TODAY)
            engine.set_model(model)
    _with(monkeypatch_module, prune=True, seed=seed, split=split)
    pruned = {m: outcome(engine.recommend(m, k=k, explain=False)) for m in members}
    monkeypatch_module.undo()
    assert pruned == whole


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_ties_are_broken_by_id_never_by_birth_order(monkeypatch):
    """300 candidates fit her equally; the ids run against the birth order, so a choice
    made by position in the view (birth order) would pick the highest ids."""
    her = person(0, "F", 30, prefs=Preferences(age=RangePref(28, 40)))
    men = [
        replace(
            person(1 + i, "M", 32),
            birth_date=TODAY - timedelta(days=32 * 365 + (i * 7) % 300),
        )
        for i in range(300)
    ]
    engine = build(her, *men, config=EngineConfig(weights=Weights(text=0.0)))
    _with(monkeypatch, prune=True)
    top = engine.recommend(0, k=10, explain=False)
    assert [r.candidate_id for r in top] == list(range(1, 11))
    _with(monkeypatch, prune=False)
    assert outcome(engine.recommend(0, k=10, explain=False)) == outcome(top)


def test_rows_that_cannot_reach_the_top_k_are_not_scored(monkeypatch):
    """Five candidates meet everything she asks; 400 miss most of it.  Only the rows whose
    bound can still reach the top 5 are scored in full."""
    her = person(
        0,
        "F",
        30,
        prefs=Preferences(age=RangePref(28, 40), height=RangePref(180, None, importance=3)),
    )
    tall = [person(1 + i, "M", 32, height_cm=185) for i in range(5)]
    short = [person(100 + i, "M", 33, height_cm=160) for i in range(400)]
    engine = build(her, *tall, *short, config=EngineConfig(weights=Weights(text=0.0)))
    scored = []
    evaluate = Scorer.evaluate_survivors

    def counting(self, me, fb, block, fit_ab=None):
        out = evaluate(self, me, fb, block, fit_ab)
        scored.append(int(out.ok.sum()))
        return out

    monkeypatch.setattr(Scorer, "evaluate_survivors", counting)
    _with(monkeypatch, prune=True, seed=5)
    top = engine.recommend(0, k=5, explain=False)
    assert [r.candidate_id for r in top] == [1, 2, 3, 4, 5]
    assert sum(scored) <= 10  # the seed and the five again, not the 400
    scored.clear()
    _with(monkeypatch, prune=False)
    assert outcome(engine.recommend(0, k=5, explain=False)) == outcome(top)
    assert sum(scored) == 405


def test_rows_that_reach_the_floor_only_by_text_they_lack_are_not_scored(monkeypatch):
    """Every candidate fits her perfectly; five share her words, 400 share none.  The
    bound counts every text point, so all 405 reach the floor set by the five; with their
    real text points the 400 fall short and their side is never scored."""
    her = person(0, "F", 30, hobbies={"摄影", "徒步"}, about="喜欢摄影和徒步，周末读书")
    sharing = [
        person(1 + i, "M", 32, hobbies={"摄影", "徒步"}, about="喜欢摄影和徒步") for i in range(5)
    ]
    others = [person(100 + i, "M", 33, hobbies={"烹饪"}, about="热爱烹饪美食") for i in range(400)]
    engine = build(her, *sharing, *others)
    scored = []
    evaluate = Scorer.evaluate_survivors

    def counting(self, me, fb, block, fit_ab=None):
        out = evaluate(self, me, fb, block, fit_ab)
        scored.append(int(out.ok.sum()))
        return out

    monkeypatch.setattr(Scorer, "evaluate_survivors", counting)
    _with(monkeypatch, prune=True, seed=5)
    monkeypatch.setattr(engine_module, "_SEED_TEXT_POOL", 1000)  # the five are in the seed
    top = engine.recommend(0, k=5, explain=False)
    assert sorted(r.candidate_id for r in top) == [1, 2, 3, 4, 5]
    assert all(r.components.text > 0 for r in top)
    assert sum(scored) <= 10  # the seed and the five again, not the 400
    scored.clear()
    _with(monkeypatch, prune=False)
    assert outcome(engine.recommend(0, k=5, explain=False)) == outcome(top)
    assert sum(scored) == 405


WORDS = tuple(f"词{i:03d}" for i in range(150))  # more tokens than signature bits


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.frozensets(st.sampled_from(WORDS), max_size=12),
            st.sampled_from(ABOUT),
        ),
        min_size=2,
        max_size=30,
    )
)
def test_the_text_bound_is_never_below_the_text_points(texts):
    """The token signatures' bound (`Engine._text_bound`) of every member with every row
    of the other sex's view is at least the real text points (`Engine._text_points`),
    also when tokens share a signature bit (150 words, 64 bits)."""
    people = [
        person(i, "FM"[i % 2], 30, hobbies=words, about=about)
        for i, (words, about) in enumerate(texts)
    ]
    engine = build(*people, config=EngineConfig(weights=Weights(text=20.0)))
    engine.compact()
    today = birth_key(TODAY)
    for p in people:
        me = engine._member(p.id, today)
        view = engine._views[1 - me.row["sex"]]
        pos = np.arange(len(view.slots))
        bound = engine._text_bound(me, view, pos)
        points = engine._text_points(me, view.slots)
        assert (bound >= points).all()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(profiles(0), min_size=2, max_size=12))
def test_the_bound_of_the_candidates_side_is_never_below_their_fit(drawn):
    """`Scorer.candidate_bound` (the candidates' age, height and weight wishes, every
    other criterion met) is at least fit_b_to_a as the pruned path scores it, for every
    candidate passing the hard rules (the others are never scored)."""
    people = [replace(p, id=i, status="active") for i, p in enumerate(drawn)]
    engine = build(*people)
    today = birth_key(TODAY)
    scorer = engine._scorer(today)
    store = engine._store
    slots = np.asarray([store.slot_of(p.id) for p in people], dtype=np.int32)
    block = store.gather(slots, FAST_COLUMNS)
    for p in people:
        me = engine._member(p.id, today)
        fit_ba = scorer.evaluate_survivors(me, None, block, None).fit_ba
        bound = scorer.candidate_bound(me, block.cols)
        eligible = np.asarray([q.id != p.id and engine.score(p.id, q.id).eligible for q in people])
        assert (bound >= fit_ba)[eligible].all()


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-4.0, 2.0),
    st.floats(0.05, 8.0),
    st.floats(1.0, 100.0),
    st.floats(-3.0, 3.0),
    st.floats(-3.0, 3.0),
    st.floats(-5.0, 110.0),
)
def test_no_fit_under_the_threshold_reaches_the_points(intercept, fit, weight, ab, ba, points):
    """`Engine._fit_threshold` (the rows sharing the member's shifts are compared by their
    fit_a_to_b): every fit whose points (float32, as the bound computes them) reach the
    target is at or above the threshold, and the threshold is tight (just above it, the
    points fall short by little)."""
    engine = build(person(0, "F"), config=EngineConfig(weights=Weights(fit=weight)))
    engine.set_model(Model(intercept=intercept, fit=fit))
    one = np.float32(1.0)
    ab32, ba32 = np.float32(ab), np.float32(ba)
    fits = np.concatenate(
        [np.linspace(-0.5, 1.5, 4001, dtype=np.float32), np.float32([-1e6, 0.0, 1.0])]
    )
    got = engine._fit_points(fits, one, ab32, ba32)
    threshold = engine._fit_threshold(points, ab32, ba32)
    assert (fits[got >= points] >= np.float32(threshold)).all()
    if np.isfinite(threshold) and threshold > -1e6:
        # tight: at the threshold the points are within the slack (and a rounding) of it
        at = engine._fit_points(np.float32([threshold]), one, ab32, ba32)[0]
        assert at >= points - 2e-3 - 1e-4 * abs(points)
