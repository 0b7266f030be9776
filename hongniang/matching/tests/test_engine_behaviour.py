"""Behaviour (collaborative component) and matchmaker boosts."""

from __future__ import annotations

import pytest

from hongniang.matching.engine import (
    EDU_BACHELOR,
    EDU_MASTER,
    INTERACTION_KINDS,
    EngineConfig,
    MinPref,
    Preferences,
    RangePref,
    Weights,
)
from hongniang.matching.tests.test_engine_helpers import build, ids, person

NO_TEXT = EngineConfig(weights=Weights(text=0.0))


def population():
    """Women 1-3 and identical men 10-15 (so only behaviour can separate the men)."""
    women = [person(i, "F", 28) for i in (1, 2, 3)]
    men = [person(i, "M", 30) for i in range(10, 16)]
    return build(*women, *men, config=NO_TEXT)


def test_member_without_history_gets_the_fit_alone():
    e = population()
    e.interaction(2, 11, "like")  # someone else's history
    for r in e.recommend(1):
        assert r.components.collaborative == 0.0
        assert r.score == pytest.approx(r.components.fit)


def test_people_with_similar_taste_liked_this_candidate():
    e = population()
    # 1 and 2 both liked 10; 2 also liked 13 (and messaged him) → 13 suits 1's taste
    e.interaction(1, 10, "like")
    e.interaction(2, 10, "like")
    e.interaction(2, 13, "like")
    e.interaction(2, 13, "message")
    results = e.recommend(1)
    r = {x.candidate_id: x for x in results}
    assert r[13].components.collaborative > 0
    assert r[14].components.collaborative == 0
    assert ids(results).index(13) < ids(results).index(14)
    (item,) = [x for x in r[13].explanations if x.criterion == "collaborative"]
    # says that behaviour moved the score, and by how much
    assert item.text == f"互动行为使分数{item.points:+.1f}：与她眼光相近的会员也喜欢对方"


def test_candidate_who_liked_the_member_is_favoured():
    e = population()
    e.interaction(12, 1, "like")
    results = e.recommend(1)
    assert ids(results)[0] == 12
    (item,) = [x for x in results[0].explanations if x.criterion == "collaborative"]
    assert item.text == f"互动行为使分数{item.points:+.1f}：对方已对她表示好感"
    # the reverse signal: people liked by those who liked 1 are "like 1"; men who liked
    # them may like 1 too
    e.interaction(11, 2, "like")
    e.interaction(12, 2, "like")
    e.interaction(14, 2, "appointment_held")
    r = {x.candidate_id: x for x in e.recommend(1)}
    assert r[14].components.collaborative > 0
    assert r[15].components.collaborative == 0


def test_stopped_appointment_outweighs_positive_evidence():
    e = population()
    e.interaction(12, 1, "like")
    e.interaction(12, 1, "appointment_held")
    e.interaction(12, 1, "appointment_stop")
    e.interaction(12, 1, "appointment_stop")
    results = e.recommend(1)
    r = {x.candidate_id: x for x in results}
    assert r[12].components.collaborative < 0.0  # a "no" counts, it is not ignored
    assert ids(results)[-1] == 12


def test_interaction_kinds_are_validated():
    e = population()
    with pytest.raises(ValueError, match="unknown interaction kind"):
        e.interaction(1, 10, "wink")
    assert set(INTERACTION_KINDS) >= {
        "view",
        "like",
        "message",
        "reply",
        "appointment_held",
        "appointment_continue",
        "appointment_stop",
    }


def test_collaborative_weight_zero_switches_it_off():
    e = build(
        person(1, "F", 28),
        person(10, "M", 30),
        person(11, "M", 30),
        config=EngineConfig(weights=Weights(text=0.0, collaborative=0.0)),
    )
    e.interaction(11, 1, "like")
    assert all(r.components.collaborative == 0 for r in e.recommend(1))


def boosted_population():
    her = person(
        1,
        "F",
        28,
        prefs=Preferences(age=RangePref(28, 34, importance=3), education=MinPref(EDU_MASTER)),
    )
    good = person(10, "M", 30, education=EDU_MASTER)
    weak = person(11, "M", 34, education=EDU_BACHELOR)
    far = person(12, "M", 45, education=EDU_MASTER)  # outside her age window
    married = person(13, "M", 30, education=EDU_MASTER, marital="married")
    return build(her, good, weak, far, married, config=NO_TEXT)


def test_pin_puts_a_candidate_on_top():
    e = boosted_population()
    assert ids(e.recommend(1)) == [10, 11]
    e.boost(1, 11, pin=True)
    results = e.recommend(1)
    assert ids(results) == [11, 10]
    top = results[0]
    assert top.pinned and top.boosted and not results[1].boosted
    assert any(x.criterion == "boost" and x.text == "红娘置顶推荐" for x in top.explanations)
    # the pin is this member's only
    assert not any(r.boosted for r in e.recommend(10))


def test_raise_adds_visible_points_and_unboost_reverts():
    e = boosted_population()
    base = {r.candidate_id: r.score for r in e.recommend(1)}
    e.boost(1, 11, points=30)
    results = e.recommend(1)
    r11 = next(r for r in results if r.candidate_id == 11)
    assert r11.components.boost == 30 and r11.boosted and not r11.pinned
    assert r11.score == pytest.approx(min(100.0, base[11] + 30))
    assert ids(results) == [11, 10]
    assert any(x.criterion == "boost" and x.text == "红娘加分+30" for x in r11.explanations)
    assert e.unboost(1, 11) and not e.unboost(1, 11)
    assert ids(e.recommend(1)) == [10, 11]


def test_boosts_respect_hard_rules_but_lift_the_age_window():
    e = boosted_population()
    e.boost(1, 13, pin=True)  # married: still never shown
    e.boost(1, 12, pin=True)  # 45, outside her soft age window: a pin lifts the window
    results = e.recommend(1)
    assert 13 not in ids(results)
    assert ids(results)[0] == 12 and results[0].pinned
    assert not e.score(1, 13).eligible
    assert e.score(1, 12).eligible and e.score(1, 12).pinned
    e.unboost(1, 12)
    assert 12 not in ids(e.recommend(1))
    assert [f.rule for f in e.score(1, 12).failed_rules] == ["age_window"]


def test_boost_requires_known_members():
    e = boosted_population()
    with pytest.raises(KeyError):
        e.boost(1, 999, pin=True)
