"""Directional fit, partial credit, importance, reciprocity, explanations, text similarity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import (
    EDU_BACHELOR,
    EDU_HIGH_SCHOOL,
    EDU_JUNIOR_COLLEGE,
    EDU_MASTER,
    ChoicePref,
    EngineConfig,
    MaxPref,
    MinPref,
    Model,
    Preferences,
    RangePref,
    RegionPref,
    Weights,
)
from hongniang.matching.tests.test_engine_helpers import build, ids, person

NO_TEXT = EngineConfig(weights=Weights(text=0.0))


def by_id(results):
    return {r.candidate_id: r for r in results}


def test_a_single_soft_criterion_missed_lowers_the_score_and_never_zeroes_it():
    """With one stated (soft) criterion a miss gives that direction fit 0; the pair is still
    shown, below the ones that meet it.  Only a must-have excludes."""
    her = person(1, "F", 28, prefs=Preferences(education=MinPref(EDU_MASTER)))
    e = build(
        her,
        person(2, "M", 30, education=EDU_MASTER),
        person(3, "M", 30, education=EDU_HIGH_SCHOOL),  # 3 levels below: credit 0
        config=NO_TEXT,
    )
    r = by_id(e.recommend(1))
    assert r[3].fit_a_to_b == 0.0
    assert 0 < r[3].score < r[2].score
    assert r[3].components.fit == pytest.approx(80 * math.sqrt(0.2 * 0.8) / 0.8, abs=0.01)
    must = build(
        person(1, "F", 28, prefs=Preferences(education=MinPref(EDU_MASTER, must=True))),
        person(2, "M", 30, education=EDU_MASTER),
        person(3, "M", 30, education=EDU_HIGH_SCHOOL),
        config=NO_TEXT,
    )
    assert ids(must.recommend(1)) == [2]


def test_one_sided_fit_ranks_below_mutual_fit():
    him = person(
        1,
        "M",
        30,
        height_cm=170,
        education=EDU_BACHELOR,
        prefs=Preferences(age=RangePref(25, 30), education=MinPref(EDU_BACHELOR)),
    )
    mutual = person(2, "F", 28, prefs=Preferences(height=RangePref(168, None)))
    # she is exactly what he wants, but he is not what she wants
    one_sided = person(
        3,
        "F",
        28,
        prefs=Preferences(
            height=RangePref(185, None, importance=3), education=MinPref(EDU_MASTER, importance=3)
        ),
    )
    e = build(him, mutual, one_sided, config=NO_TEXT)
    results = e.recommend(1)
    assert ids(results) == [2, 3]
    r = by_id(results)
    assert r[2].fit_a_to_b == r[3].fit_a_to_b == pytest.approx(100.0)
    assert r[2].fit_b_to_a == pytest.approx(100.0)
    assert r[3].fit_b_to_a < 40.0
    # reciprocal combination (product of the two directional probabilities): the
    # one-sided pair is well below the mutual one, but a soft miss never zeroes it
    assert 0 < r[3].components.fit < 0.8 * r[2].components.fit
    # and the same pair seen from her side has the directions swapped
    back = e.score(3, 1)
    assert back.fit_a_to_b == pytest.approx(r[3].fit_b_to_a, abs=1e-3)
    assert back.fit_b_to_a == pytest.approx(r[3].fit_a_to_b, abs=1e-3)


def test_age_near_miss_gets_partial_credit_decaying_with_distance():
    him = person(1, "M", 33, prefs=Preferences(age=RangePref(25, 30)))
    e = build(him, *[person(10 + d, "F", 30 + d) for d in range(5)], config=NO_TEXT)
    results = e.recommend(1)
    assert ids(results) == [10, 11, 12, 13, 14]  # 0..4 years over: in order
    fits = [r.fit_a_to_b for r in results]
    assert fits == pytest.approx([100.0, 80.0, 60.0, 40.0, 20.0])
    two_over = by_id(results)[12]
    (age_item,) = [x for x in two_over.explained("a_to_b") if x.criterion == "age"]
    assert age_item.outcome == "partial"
    assert age_item.text == "年龄32岁，超出他25–30岁的范围2岁"


def test_education_one_level_below_minimum_is_partial():
    her = person(1, "F", 28, prefs=Preferences(education=MinPref(EDU_BACHELOR)))
    e = build(
        her,
        person(2, "M", 30, education=EDU_MASTER),
        person(3, "M", 30, education=EDU_JUNIOR_COLLEGE),
        person(4, "M", 30, education=EDU_HIGH_SCHOOL),
        config=NO_TEXT,
    )
    r = by_id(e.recommend(1))
    assert (r[2].fit_a_to_b, r[3].fit_a_to_b, r[4].fit_a_to_b) == pytest.approx((100, 50, 0))
    texts = {cid: r[cid].explained("a_to_b")[0].text for cid in r}
    assert texts[2] == "她要求本科以上：对方硕士 ✓"
    assert texts[3] == "她要求本科以上：对方大专，差1级"
    assert texts[4] == "她要求本科以上：对方高中/中专 ✗"
    assert [r[c].explained("a_to_b")[0].outcome for c in (2, 3, 4)] == ["ok", "partial", "fail"]


def test_region_other_city_and_children_elsewhere_are_near_misses():
    her = person(
        1,
        "F",
        28,
        prefs=Preferences(region=RegionPref(440000, 440300), children=ChoicePref({"none"})),
    )
    e = build(
        her,
        person(2, "M", 30, city=440300, children="none"),
        person(3, "M", 30, city=440100, children="not_with_me"),
        person(4, "M", 30, city=310100, children="with_me", marital="divorced"),
        config=NO_TEXT,
    )
    r = by_id(e.recommend(1))
    assert r[2].fit_a_to_b == pytest.approx(100)
    assert r[3].fit_a_to_b == pytest.approx(50)  # both criteria half
    assert r[4].fit_a_to_b == pytest.approx(0)
    assert {x.criterion: x.outcome for x in r[3].explained("a_to_b")} == {
        "region": "partial",
        "children": "partial",
    }


def test_importance_weights_the_criteria():
    her = person(
        1,
        "F",
        28,
        prefs=Preferences(
            height=RangePref(175, None, importance=3), education=MinPref(EDU_MASTER, importance=1)
        ),
    )
    short_master = person(2, "M", 30, height_cm=160, education=EDU_MASTER)
    tall_bachelor = person(3, "M", 30, height_cm=180, education=EDU_BACHELOR)
    e = build(her, short_master, tall_bachelor, config=NO_TEXT)
    results = e.recommend(1)
    assert ids(results) == [3, 2]
    r = by_id(results)
    assert r[3].fit_a_to_b == pytest.approx(100 * (3 * 1.0 + 1 * 0.5) / 4)
    assert r[2].fit_a_to_b == pytest.approx(100 * (3 * 0.0 + 1 * 1.0) / 4)
    # importance 0 is "don't care"
    relaxed = build(
        person(
            1,
            "F",
            28,
            prefs=Preferences(
                height=RangePref(175, None, importance=0), education=MinPref(EDU_MASTER)
            ),
        ),
        short_master,
        tall_bachelor,
        config=NO_TEXT,
    )
    assert ids(relaxed.recommend(1)) == [2, 3]


def test_explanations_cover_both_directions_and_add_up():
    him = person(
        1,
        "M",
        36,
        education=EDU_MASTER,
        prefs=Preferences(
            age=RangePref(25, 32, importance=2), education=MinPref(EDU_BACHELOR), smoking=MaxPref(0)
        ),
    )
    her = person(
        2,
        "F",
        30,
        smoking=1,
        prefs=Preferences(age=RangePref(25, 32), education=MinPref(EDU_BACHELOR, importance=3)),
    )
    e = build(him, her, config=NO_TEXT)
    (res,) = e.recommend(1)
    ab, ba = res.explained("a_to_b"), res.explained("b_to_a")
    assert {x.criterion for x in ab} == {"age", "education", "smoking"}
    assert {x.criterion for x in ba} == {"age", "education"}
    assert sum(x.points for x in ab) == pytest.approx(res.fit_a_to_b, abs=0.05)
    assert sum(x.points for x in ba) == pytest.approx(res.fit_b_to_a, abs=0.05)
    text = {(x.direction, x.criterion): x.text for x in res.explanations}
    assert text["b_to_a", "age"] == "年龄36岁，超出她25–32岁的范围4岁"
    assert text["b_to_a", "education"] == "她要求本科以上：对方硕士 ✓"
    assert text["a_to_b", "smoking"] == "他希望对方不吸烟：对方偶尔吸烟，部分符合"
    assert all(x.text for x in res.explanations)
    # the score of the pair agrees with the recommendation
    single = e.score(1, 2)
    assert single.score == pytest.approx(res.score, abs=1e-3)
    assert [x.text for x in single.explanations] == [x.text for x in res.explanations]


def test_explanations_are_only_built_for_the_returned_top_k(monkeypatch):
    from hongniang.matching.engine import engine as engine_module

    seen: list[int] = []
    original = engine_module.Engine._explain

    def spy(self, me, slots, *args):
        seen.append(len(slots))
        return original(self, me, slots, *args)

    monkeypatch.setattr(engine_module.Engine, "_explain", spy)
    wants = Preferences(age=RangePref(24, 32))
    e = build(person(1, "M", 30, prefs=wants), *[person(i, "F", 25 + i % 8) for i in range(2, 40)])
    results = e.recommend(1, k=5)
    assert seen == [5] and all(r.explanations for r in results)
    assert all(r.explanations == () for r in e.recommend(1, k=5, explain=False))
    assert seen == [5]


def test_explanations_describe_the_moment_of_the_recommendation():
    him = person(1, "M", 30, prefs=Preferences(age=RangePref(25, 32)))
    e = build(him, person(2, "F", 28), config=NO_TEXT)
    (before,) = e.recommend(1)
    e.upsert(person(2, "F", 31))  # she corrects her birth date afterwards
    (after,) = e.recommend(1)
    assert before.explained("a_to_b")[0].text == "他要求年龄25–32岁：对方28岁 ✓"
    assert after.explained("a_to_b")[0].text == "他要求年龄25–32岁：对方31岁 ✓"


def test_recommend_and_score_agree():
    him = person(
        1,
        "M",
        31,
        hobbies={"旅游", "摄影"},
        about="周末喜欢爬山",
        prefs=Preferences(age=RangePref(24, 30), education=MinPref(EDU_BACHELOR)),
    )
    others = [
        person(
            i,
            "F",
            22 + i % 10,
            education=i % 7,
            hobbies={"旅游"} if i % 3 else {"读书"},
            about="喜欢爬山和旅游" if i % 2 else "安静读书",
            prefs=Preferences(height=RangePref(170 + i % 6, None)),
        )
        for i in range(2, 30)
    ]
    e = build(him, *others)
    for r in e.recommend(1, k=50):
        single = e.score(1, r.candidate_id)
        assert single.eligible
        assert single.score == pytest.approx(r.score, abs=1e-3)
        assert single.components.text == pytest.approx(r.components.text, abs=1e-3)
        assert single.fit_b_to_a == pytest.approx(r.fit_b_to_a, abs=1e-3)


def test_text_similarity_adds_a_small_explained_part():
    me = person(
        1,
        "F",
        28,
        hobbies={"摄影", "徒步"},
        personality={"开朗"},
        about="喜欢摄影和徒步，周末常去爬山",
    )
    alike = person(2, "M", 30, hobbies={"摄影", "爬山"}, about="热爱摄影，经常徒步旅行")
    unlike = person(3, "M", 30, hobbies={"游戏"}, about="下班玩游戏看动漫")
    e = build(me, alike, unlike)
    results = e.recommend(1)
    assert ids(results) == [2, 3]
    r = by_id(results)
    assert 0 < r[2].components.text <= EngineConfig().weights.text
    assert r[3].components.text == 0
    (item,) = [x for x in r[2].explanations if x.criterion == "text"]
    assert item.text.startswith(f"兴趣与自我介绍相近，分数{item.points:+.1f}；共同点：")
    assert "摄影" in item.text
    # symmetric
    assert e.score(2, 1).components.text == pytest.approx(r[2].components.text, abs=1e-4)
    # switched off, the two tie on everything else and order by id
    off = build(me, alike, unlike, config=NO_TEXT)
    assert [x.components.text for x in off.recommend(1)] == [0, 0]


def test_member_without_preferences_accepts_everyone():
    e = build(person(1, "M", 30), person(2, "F", 27))
    (r,) = e.recommend(1)
    assert r.fit_a_to_b == r.fit_b_to_a == pytest.approx(100.0)
    assert r.explanations == () or all(x.criterion == "text" for x in r.explanations)


fit_pairs = st.tuples(
    st.integers(22, 45),
    st.integers(20, 45),
    st.integers(150, 190),
    st.integers(0, 6),
    st.integers(18, 40),
    st.integers(0, 12),
    st.integers(150, 185),
    st.integers(0, 6),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
)


@settings(max_examples=60, deadline=None)
@given(fit_pairs)
def test_reciprocal_combination_properties(values):
    age_m, age_f, height_m, edu_m, lo, span, min_h, min_edu, i1, i2, i3 = values
    him = person(
        1,
        "M",
        age_m,
        height_cm=height_m,
        education=edu_m,
        prefs=Preferences(age=RangePref(lo, lo + span, importance=i1)),
    )
    her = person(
        2,
        "F",
        age_f,
        prefs=Preferences(
            height=RangePref(min_h, None, importance=i2), education=MinPref(min_edu, importance=i3)
        ),
    )
    e = build(him, her, config=NO_TEXT)
    ab, ba = e.score(1, 2), e.score(2, 1)
    assert ab.eligible == ba.eligible
    if not ab.eligible:
        return
    a, b = ab.fit_a_to_b / 100, ab.fit_b_to_a / 100
    assert ba.fit_a_to_b / 100 == pytest.approx(b, abs=1e-4)
    assert ab.components.fit == pytest.approx(ba.components.fit, abs=1e-3)  # symmetric
    m = Model()

    def p(fit: float) -> float:  # one direction's probability of a yes
        return 1 / (1 + math.exp(-(m.intercept + m.fit * fit)))

    mutual = math.sqrt(p(a) * p(b)) / p(1.0)
    assert ab.components.fit == pytest.approx(80 * mutual, abs=1e-3)
    # never above the better direction, never below the worse one, never zero
    assert 80 * p(min(a, b)) / p(1.0) - 1e-3 <= ab.components.fit
    assert ab.components.fit <= 80 * p(max(a, b)) / p(1.0) + 1e-3
    assert ab.components.fit > 0
    recs = e.recommend(1)
    assert ids(recs) == [2] and recs[0].score == pytest.approx(ab.score, abs=1e-3)


@st.composite
def window_population(draw):
    n = draw(st.integers(6, 24))
    men = [
        person(
            100 + i,
            "M",
            draw(st.integers(22, 45)),
            education=draw(st.integers(0, 6)),
            hobbies=draw(st.sets(st.sampled_from(["旅游", "摄影", "读书"]), max_size=2)),
        )
        for i in range(n)
    ]
    low = draw(st.integers(24, 34))
    her = person(
        1,
        "F",
        30,
        hobbies={"摄影"},
        prefs=Preferences(
            age=RangePref(low, low + draw(st.integers(0, 6)), importance=draw(st.integers(1, 3))),
            education=MinPref(draw(st.integers(0, 6)), importance=draw(st.integers(0, 3))),
        ),
    )
    likes = draw(st.lists(st.sampled_from([m.id for m in men]), max_size=4))
    return her, men, likes, draw(st.integers(1, 5))


@settings(max_examples=60, deadline=None)
@given(window_population())
def test_scoring_the_age_window_bound_first_never_changes_the_top_k(monkeypatch_module, case):
    from hongniang.matching.engine import engine as engine_module

    her, men, likes, k = case
    e = build(her, *men)
    for man in likes:
        e.interaction(man, 1, "like")
    monkeypatch_module.setattr(engine_module, "_PRUNE_FROM", 0)  # bound first, small seed
    monkeypatch_module.setattr(engine_module, "_SEED_ROWS", 1)
    monkeypatch_module.setattr(engine_module, "_SEED_PER_RESULT", 1)
    lazy = [(r.candidate_id, round(r.score, 3)) for r in e.recommend(1, k=k)]
    monkeypatch_module.setattr(engine_module, "_PRUNE_FROM", 10**9)  # every row scored
    whole = [(r.candidate_id, round(r.score, 3)) for r in e.recommend(1, k=k)]
    monkeypatch_module.undo()
    assert lazy == whole


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp
