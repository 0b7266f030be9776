"""Saving the engine to a directory and loading it back (engine level, no Django)."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import REASONS, EngineConfig, Preferences, RangePref, Rules
from hongniang.matching.engine import snapshot as snap
from hongniang.matching.tests.test_engine_helpers import TODAY, build, ids, person

SEXES = ("M", "F")


def population(seed: int, n: int = 60):
    rng = random.Random(seed)
    profiles = []
    for i in range(1, n + 1):
        sex = SEXES[i % 2]
        prefs = (
            Preferences(age=RangePref(22, 22 + rng.randint(5, 20)))
            if rng.random() < 0.5
            else Preferences()
        )
        profiles.append(
            person(
                i,
                sex,
                rng.randint(22, 45),
                height_cm=rng.randint(150, 190),
                about=rng.choice(["喜欢爬山和旅游", "周末读书，喜欢音乐", "热爱烹饪", ""]),
                hobbies=frozenset(rng.sample(["travel", "reading", "music", "cooking"], 2)),
                prefs=prefs,
            )
        )
    return profiles


def busy_engine(seed: int, n: int = 60):
    """An engine with everything a snapshot must keep: answers, behaviour, boosts, a removed
    member (a free slot), a skipped one and a later upsert (rows outside the sorted views)."""
    rng = random.Random(seed)
    e = build(*population(seed, n))
    for _ in range(n):
        a, b = rng.randint(1, n), rng.randint(1, n)
        if a % 2 != b % 2:
            e.feedback(a, b, rng.random() < 0.3, tuple(rng.sample(REASONS, 2)))
            e.interaction(a, b, rng.choice(["like", "view", "appointment_held"]))
    e.boost(1, 2, pin=True)
    e.boost(3, 4, points=20)
    e.remove(5)
    e.skip(7, "the birthday is in the future")
    e.upsert(person(9, "M", 33, about="新来的会员 喜欢摄影"))
    return e


def same_answers(a, b, n: int) -> None:
    for member_id in range(1, n + 1):
        if member_id in a:
            ra = [(r.candidate_id, round(r.score, 4)) for r in a.recommend(member_id, k=10)]
            rb = [(r.candidate_id, round(r.score, 4)) for r in b.recommend(member_id, k=10)]
            assert ra == rb, member_id
    first = a.recommend(2, k=3)
    if first:
        assert [x.text for x in first[0].explanations] == [
            x.text for x in b.recommend(2, k=3)[0].explanations
        ]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000))
def test_a_loaded_snapshot_answers_exactly_like_the_engine_it_was_saved_from(
    tmp_path_factory, seed
):
    e = busy_engine(seed)
    path = tmp_path_factory.mktemp("snap") / "s"
    snap.save(e, path, meta={"position": 41})
    loaded, meta = snap.load(path, e.config, today=TODAY)
    assert meta == {"position": 41}
    assert len(loaded) == len(e) and 5 not in loaded and 9 in loaded
    assert loaded.skipped == e.skipped
    assert loaded.stats()["graph_edges"] == e.stats()["graph_edges"]
    same_answers(e, loaded, 60)


def test_changes_after_a_load_act_alike_and_never_touch_the_files(tmp_path):
    e = busy_engine(3)
    snap.save(e, tmp_path / "s")
    before = {f.name: f.read_bytes() for f in (tmp_path / "s").iterdir()}
    loaded, _ = snap.load(tmp_path / "s", e.config, today=TODAY)
    for engine in (e, loaded):
        engine.upsert(person(2, "F", 26, about="换了新的介绍"))
        engine.upsert(person(200, "F", 27))  # a new member (a free slot, then growth)
        for i in range(300, 1400):  # past the saved headroom: the store grows
            engine.upsert(person(i, SEXES[i % 2], 20 + i % 25))
        engine.feedback(1, 4, False, ("too_old",))
        engine.interaction(6, 8, "like")
        engine.unboost(1, 2)
        engine.remove(3)
    same_answers(e, loaded, 60)
    assert {f.name: f.read_bytes() for f in (tmp_path / "s").iterdir()} == before


def test_loading_with_other_hard_rules_recomputes_what_depends_on_them(tmp_path):
    profiles = population(5)
    e = build(*profiles)
    snap.save(e, tmp_path / "s")
    same_sex = replace(EngineConfig(), rules=Rules(sex_pairing="same", min_age_female=30))
    loaded, _ = snap.load(tmp_path / "s", same_sex, today=TODAY)
    fresh = build(*profiles, config=same_sex)
    same_answers(fresh, loaded, 60)
    assert all(r.candidate_id % 2 == 1 for r in loaded.recommend(1, k=50))


def test_a_snapshot_is_read_without_unpickling_anything(tmp_path):
    e = busy_engine(1)
    snap.save(e, tmp_path / "s")
    # A pickled (object) array in place of a column is refused, not executed.
    np.save(tmp_path / "s" / "col.sex.npy", np.array([object()] * 3), allow_pickle=True)
    with pytest.raises(snap.SnapshotError):
        snap.load(tmp_path / "s", e.config, today=TODAY)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "manifest.json").unlink(),
        lambda d: (d / "manifest.json").write_text("{not json"),
        lambda d: (d / "manifest.json").write_text(json.dumps({"format": 99})),
        lambda d: (d / "ids.npy").unlink(),
        lambda d: np.save(d / "ids.npy", np.zeros(3, dtype=np.int64)),
        lambda d: (d / "feedback.json").write_text('{"1": {"rejected": "x"}}'),
    ],
)
def test_a_damaged_snapshot_is_refused_with_a_clear_error(tmp_path, damage):
    e = busy_engine(2)
    snap.save(e, tmp_path / "s")
    damage(tmp_path / "s")
    with pytest.raises(snap.SnapshotError):
        snap.load(tmp_path / "s", e.config, today=TODAY)


def test_an_empty_engine_round_trips(tmp_path):
    e = build()
    snap.save(e, tmp_path / "s")
    loaded, _ = snap.load(tmp_path / "s", e.config, today=TODAY)
    assert len(loaded) == 0
    loaded.upsert(person(1, "M", 30))
    loaded.upsert(person(2, "F", 30))
    assert ids(loaded.recommend(1)) == [2]


def test_set_statuses_changes_who_is_matched_like_upserting_the_new_status():
    profiles = population(11, 40)
    e = build(*profiles)
    e.set_statuses([2, 4, 6, 999], ["not_offered", "paused", "hidden", "paused"])
    by_upsert = build(*profiles)
    for p in profiles:
        if p.id in (2, 4, 6):
            status = {2: "not_offered", 4: "paused", 6: "active"}[p.id]
            by_upsert.upsert(replace(p, status=status, hidden=p.id == 6))
    same_answers(by_upsert, e, 40)
    assert e.set_statuses([2], ["not_offered"]) == 0  # unchanged
    e.set_statuses([2, 4, 6], ["active", "active", "active"])
    same_answers(build(*profiles), e, 40)
