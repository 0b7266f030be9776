"""Filter first: the integer pre-filter keeps exactly the rows the scorer finds eligible,
and recommend no longer depends on where a candidate sits in the birth-date order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import (
    ChoicePref,
    EngineConfig,
    MaxPref,
    MinPref,
    Preferences,
    Profile,
    RangePref,
    RegionPref,
    RequiredPref,
    Rules,
    SamePref,
    Tolerances,
    Weights,
    age_on,
)
from hongniang.matching.engine import engine as engine_module
from hongniang.matching.engine import store as store_module
from hongniang.matching.engine.encoding import birth_key
from hongniang.matching.engine.prefilter import age_reach
from hongniang.matching.tests.test_engine_helpers import TODAY, born, build, person

CITIES = (440300, 440100, 310100, None)
ALL_ROWS = (-(2**31) + 1, 2**31 - 1)


def _opt(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def weight(draw) -> dict:
    return {"must": draw(st.booleans()), "importance": draw(st.integers(0, 3))}


@st.composite
def preferences(draw) -> Preferences:
    def pref(make):
        return draw(_opt(st.just(None).map(lambda _: make(**draw(weight())))))

    low = draw(st.integers(18, 45))
    high = draw(_opt(st.integers(low, low + 15)))
    h_low = draw(_opt(st.integers(150, 180)))
    w_high = draw(_opt(st.integers(45, 90)))
    city = draw(st.sampled_from(CITIES[:3]))
    return Preferences(
        age=pref(
            lambda **w: RangePref(low if high is None else draw(_opt(st.just(low))), high, **w)
        ),
        height=pref(lambda **w: RangePref(h_low, None if h_low else 185, **w)),
        weight=pref(lambda **w: RangePref(None, w_high or 80, **w)),
        education=pref(lambda **w: MinPref(draw(st.integers(0, 6)), **w)),
        income=pref(lambda **w: MinPref(draw(st.integers(0, 7)), **w)),
        marital=pref(
            lambda **w: ChoicePref(
                draw(st.sampled_from([{"single"}, {"single", "divorced"}, {"widowed"}])), **w
            )
        ),
        children=pref(lambda **w: ChoicePref({"none"}, **w)),
        car=pref(lambda **w: RequiredPref(**w)),
        house=pref(lambda **w: RequiredPref(**w)),
        region=pref(
            lambda **w: RegionPref(
                city // 10000 * 10000,
                city if draw(st.booleans()) else None,
                hukou=draw(st.booleans()),
                **w,
            )
        ),
        smoking=pref(lambda **w: MaxPref(draw(st.integers(0, 2)), **w)),
        drinking=pref(lambda **w: MaxPref(draw(st.integers(0, 2)), **w)),
        ethnicity=pref(lambda **w: SamePref(**w)),
        religion=pref(lambda **w: SamePref(**w)),
    )


@st.composite
def profiles(draw, member_id: int) -> Profile:
    city = draw(st.sampled_from(CITIES))
    return Profile(
        id=member_id,
        sex=draw(st.sampled_from("MF")),
        birth_date=born(draw(st.integers(18, 60)), draw(st.integers(0, 364))),
        height_cm=draw(_opt(st.integers(150, 190))),
        weight_kg=draw(_opt(st.integers(40, 95))),
        education=draw(_opt(st.integers(0, 6))),
        income=draw(_opt(st.integers(0, 7))),
        marital=draw(st.sampled_from(["single", "single", "divorced", "widowed"])),
        children=draw(st.sampled_from(["none", "not_with_me", "with_me", None])),
        city=city,
        hukou_province=draw(_opt(st.sampled_from([440000, 310000]))),
        car=draw(_opt(st.booleans())),
        house=draw(_opt(st.booleans())),
        smoking=draw(_opt(st.integers(0, 2))),
        drinking=draw(_opt(st.integers(0, 2))),
        ethnicity=draw(st.sampled_from([1, 1, 2, None])),
        religion=draw(st.sampled_from([0, 0, 1, None])),
        prefs=draw(preferences()),
    )


@st.composite
def cases(draw) -> tuple[list[Profile], list[Profile], EngineConfig]:
    n = draw(st.integers(2, 14))
    people = [draw(profiles(i)) for i in range(n)]
    # Members added after the build sit in the views' delta (a gathered, unsorted block).
    later = [draw(profiles(n + i)) for i in range(draw(st.integers(0, 4)))]
    config = EngineConfig(
        rules=Rules(
            age_window=draw(st.booleans()),
            unknown_fails_must=draw(st.booleans()),
            min_age_female=draw(st.sampled_from([20, 25])),
        ),
        tolerances=Tolerances(age_years=draw(st.integers(1, 8))),
    )
    return people, later, config


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_prefilter_keeps_exactly_the_rows_the_scorer_finds_eligible(case):
    people, later, config = case
    # views as large ones are: the acceptance tables read from the store (store.Columns);
    # small views copy them, as every other test's do
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_module, "TABLES_COPIED_BELOW", 0)
        engine = build(*people, config=config)
    for p in later:
        engine.upsert(p)
    store = engine._store
    today_key = birth_key(TODAY)
    for p in people + later:
        me = engine._member(p.id, today_key)
        q = engine._query(me, today_key, (), False)
        for sex in (0, 1):
            view = engine._views[sex]
            blocks = [(view.window(*ALL_ROWS), view.must_any)]
            delta = view.delta_block(store, *ALL_ROWS)
            if delta is not None:
                blocks.append((delta, None))
            for block, must_any in blocks:
                if not len(block):
                    continue
                # the reference: score every row and keep those passing every hard rule
                scored = q.scorer.evaluate(me, None, block, sex)
                expected = set(block.slots[scored.ok].tolist())
                got = engine._survivors(q, sex, block, must_any)
                kept = got.slots if got.valid is None else got.slots[got.valid]
                assert set(kept.tolist()) == expected, (p, sex)
                rows = q.prefilters[sex].survivors(block, -1 if must_any is None else must_any)
                assert set(block.slots[rows].tolist()) == expected
                # after the member's side (`Engine._bounds`), the candidates' must-haves
                fit_ab, ok = q.scorer.member_side(me, block, sex)
                age = me.row["age"]
                ok &= (block.cols["acc_age_lo"] <= age) & (block.cols["acc_age_hi"] >= age)
                ba = q.prefilters[sex].mask_ba(block, -1 if must_any is None else must_any)
                assert set(block.slots[ok & ba].tolist()) == expected, (p, sex)
                # the survivors' scores are the scorer's (its fast path, rules not re-read)
                if expected:
                    keep = np.flatnonzero(ok & ba)
                    sub = block.take(keep)
                    fast = q.scorer.evaluate_survivors(me, None, sub, fit_ab[keep])
                    assert fast.ok.all()
                    np.testing.assert_allclose(fast.fit_ab, scored.fit_ab[keep], atol=1e-5)
                    np.testing.assert_allclose(fast.fit_ba, scored.fit_ba[keep], atol=1e-5)


def test_the_age_reach_is_read_off_the_credit_function():
    # credit = 1 - distance / tolerance: still positive one year short of the tolerance
    for years in range(1, 12):
        assert age_reach(Tolerances(age_years=years)) == years - 1


def test_a_member_with_many_candidates_gets_the_best_not_the_oldest():
    """Text used to be scored only for the first 8,192 eligible rows in birth order, so
    the youngest candidates (the end of the order) could never win on text.  Here the
    best candidates are the youngest: they must make the top k."""
    me = person(0, "M", 30, hobbies={"摄影", "徒步", "书法"}, about="喜欢摄影和徒步，练习书法")
    # 9,000 women aged 25 to 49, one a day apart, who all fit him perfectly and share
    # nothing with him; the 30 youngest also share his interests.
    crowd = [
        replace(person(1 + i, "F", hobbies={"烹饪"}), birth_date=TODAY - timedelta(days=9200 + i))
        for i in range(9000)
    ]
    best = set(range(1, 31))
    crowd = [
        replace(p, hobbies={"摄影", "徒步", "书法"}, about="喜欢摄影和徒步") if p.id in best else p
        for p in crowd
    ]
    engine = build(me, *crowd, config=EngineConfig(weights=Weights(text=6.0)))
    top = engine.recommend(0, k=30, explain=False)
    assert {r.candidate_id for r in top} == best
    assert all(r.components.text > 0 for r in top)
    ages = {p.id: age_on(p.birth_date, TODAY) for p in crowd}
    assert max(ages[r.candidate_id] for r in top) <= 26  # the young end, where they are


def test_scoring_a_window_in_two_halves_changes_nothing(monkeypatch):
    rng = np.random.default_rng(3)
    people = [
        person(
            i,
            "MF"[i % 2],
            int(rng.integers(22, 45)),
            height_cm=int(rng.integers(150, 190)),
            education=int(rng.integers(2, 7)),
            city=int(rng.choice([440300, 440100, 310100])),
            hobbies=set(rng.choice(["摄影", "徒步", "烹饪", "读书"], 2).tolist()),
            prefs=Preferences(
                age=RangePref(int(rng.integers(22, 30)), int(rng.integers(30, 45))),
                education=MinPref(int(rng.integers(0, 6)), must=bool(rng.random() < 0.2)),
                height=RangePref(int(rng.integers(150, 175)), None, importance=2),
            ),
        )
        for i in range(400)
    ]
    engine = build(*people)

    def tops():
        return {
            p.id: [(r.candidate_id, r.score) for r in engine.recommend(p.id, k=20)]
            for p in people[:60]
        }

    whole = tops()
    monkeypatch.setattr(engine_module, "_SPLIT_ROWS", 8)
    assert tops() == whole
