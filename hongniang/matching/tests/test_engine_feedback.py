"""反选: rejections with reasons and likes change the next recommendations."""

from __future__ import annotations

import pytest

from hongniang.matching.engine import (
    EDU_BACHELOR,
    EDU_HIGH_SCHOOL,
    EDU_JUNIOR_COLLEGE,
    EDU_MASTER,
    REASONS,
    EngineConfig,
    Preferences,
    RangePref,
    Weights,
)
from hongniang.matching.tests.test_engine_helpers import build, ids, person

NO_TEXT = EngineConfig(weights=Weights(text=0.0))


def scores(results):
    """Scores without the behaviour part: every answer also moves the member's own yes-rate
    (and so every score a little, see test_engine_learning); these tests are about what
    the reasons teach."""
    return {r.candidate_id: r.components.total - r.components.collaborative for r in results}


def age_of(member_id: int) -> int:
    return 40 - (member_id - 100)  # ids 100.. are ages 40, 39, … (older first on ties)


def woman_and_men():
    her = person(1, "F", 30, prefs=Preferences(age=RangePref(28, 40, importance=2)))
    men = [person(i, "M", age_of(i)) for i in range(100, 112)]  # ages 40 … 29
    return build(her, *men, config=NO_TEXT)


def test_too_old_rejection_lowers_older_candidates_next_time():
    e = woman_and_men()
    before = e.recommend(1, k=20)
    assert [age_of(c) for c in ids(before)[:3]] == [40, 39, 38]  # ties broken by id
    e.feedback(1, 103, liked=False, reasons=["too_old"])  # the 37-year-old
    after = e.recommend(1, k=20)
    s0, s1 = scores(before), scores(after)
    assert 103 not in s1  # not shown again
    for cid in s1:
        age = age_of(cid)
        if age >= 37:
            assert s1[cid] <= s0[cid] - 25  # full penalty at or above the rejected age
        elif age == 36:
            assert s0[cid] - 25 < s1[cid] < s0[cid]  # fading out just below
        else:
            assert s1[cid] == pytest.approx(s0[cid])
    top5 = [age_of(c) for c in ids(after)[:5]]
    assert max(top5) <= 35
    older = next(r for r in after if r.candidate_id == 100)
    (item,) = [x for x in older.explanations if x.criterion == "feedback"]
    assert item.text == f"以往答复使分数{item.points:+.1f}：她曾以“年龄偏大”婉拒37岁及以上的对象"
    assert item.points == pytest.approx(older.components.feedback, abs=0.01)
    assert item.direction == "a_to_b" and item.outcome == "fail"


def test_rejected_candidates_are_not_reshown_unless_asked():
    e = woman_and_men()
    e.feedback(1, 105, liked=False)
    assert 105 not in ids(e.recommend(1, k=50))
    assert 105 in ids(e.recommend(1, k=50, include_rejected=True))
    # a later like of the same person overrides the rejection
    e.feedback(1, 105, liked=True)
    assert 105 in ids(e.recommend(1, k=50))


def test_like_raises_similar_candidates():
    her = person(1, "F", 30, prefs=Preferences(age=RangePref(26, 40)))
    liked = person(2, "M", 34, height_cm=185, weight_kg=80, education=EDU_MASTER, income=6)
    twin = person(3, "M", 34, height_cm=184, weight_kg=79, education=EDU_MASTER, income=6)
    other = person(4, "M", 27, height_cm=166, weight_kg=60, education=EDU_HIGH_SCHOOL, income=1)
    e = build(her, liked, twin, other, config=NO_TEXT)
    before = scores(e.recommend(1))
    e.feedback(1, 2, liked=True)
    after = scores(e.recommend(1))
    assert after[3] > before[3] + 4  # close to the full like bonus (6)
    assert after[4] == pytest.approx(before[4], abs=0.05)
    assert after[2] > before[2]  # liked ones stay and benefit too
    r = e.score(1, 3)
    assert any(x.criterion == "feedback" and x.outcome == "ok" for x in r.explanations)


def test_too_far_penalises_the_rejected_region_only():
    her = person(1, "F", 30, city=440300)
    shanghai = [person(i, "M", 31, city=310100) for i in (2, 3)]
    guangzhou = person(4, "M", 31, city=440100)
    e = build(her, *shanghai, guangzhou, config=NO_TEXT)
    before = scores(e.recommend(1))
    e.feedback(1, 2, liked=False, reasons=["too_far"])
    after = scores(e.recommend(1))
    assert after[3] < before[3] - 10
    assert after[4] == pytest.approx(before[4])
    assert ids(e.recommend(1)) == [4, 3]


def test_education_reason_penalises_that_level_and_below():
    her = person(1, "F", 30)
    e = build(
        her,
        person(2, "M", 31, education=EDU_JUNIOR_COLLEGE),
        person(3, "M", 31, education=EDU_JUNIOR_COLLEGE),
        person(4, "M", 31, education=EDU_HIGH_SCHOOL),
        person(5, "M", 31, education=EDU_BACHELOR),
        config=NO_TEXT,
    )
    e.feedback(1, 2, liked=False, reasons=["education"])
    after = scores(e.recommend(1))
    assert after[5] > after[3] + 20 and after[5] > after[4] + 20


def test_not_my_type_repels_look_alikes():
    her = person(1, "F", 30)
    rejected = person(2, "M", 45, height_cm=165, weight_kg=90, education=EDU_HIGH_SCHOOL, smoking=2)
    look_alike = person(
        3, "M", 44, height_cm=166, weight_kg=88, education=EDU_HIGH_SCHOOL, smoking=2
    )
    different = person(4, "M", 31, height_cm=180, weight_kg=72, education=EDU_MASTER, smoking=0)
    e = build(her, rejected, look_alike, different, config=NO_TEXT)
    before = scores(e.recommend(1))
    e.feedback(1, 2, liked=False, reasons=["not_my_type"])
    after = scores(e.recommend(1))
    assert after[3] < before[3] - 10
    assert after[4] == pytest.approx(before[4], abs=0.05)


def test_height_reason_direction_follows_the_preference():
    her = person(1, "F", 30, prefs=Preferences(height=RangePref(170, 185, importance=1)))
    e = build(
        her,
        *[person(i, "M", 31, height_cm=h) for i, h in ((2, 168), (3, 167), (4, 190))],
        config=NO_TEXT,
    )
    before = scores(e.recommend(1))
    e.feedback(1, 2, liked=False, reasons=["height"])  # 168 < centre 177.5: too short
    after = scores(e.recommend(1))
    assert after[3] < before[3] - 20
    assert after[4] == pytest.approx(before[4])


def test_a_like_relaxes_a_learned_bound():
    e = woman_and_men()
    e.feedback(1, 103, liked=False, reasons=["too_old"])  # penalise >= 37
    penalised = scores(e.recommend(1, k=20))[102]  # 38
    e.feedback(1, 101, liked=True)  # but she likes the 39-year-old
    relaxed = scores(e.recommend(1, k=20))[102]
    assert relaxed > penalised + 25


def test_candidates_learned_dislikes_count_against_look_alikes_of_them():
    """Reciprocal: a man who rejected a 35-year-old as too old ranks lower for a woman
    of 36 than an identical man without that history."""
    her = person(1, "F", 36)
    picky, open_minded = person(2, "M", 38), person(3, "M", 38)
    former = person(4, "F", 35)
    e = build(her, picky, open_minded, former, config=NO_TEXT)
    e.feedback(2, 4, liked=False, reasons=["too_old"])
    r = {x.candidate_id: x for x in e.recommend(1)}
    assert r[2].score < r[3].score - 10
    (item,) = [x for x in r[2].explanations if x.criterion == "feedback"]
    assert item.direction == "b_to_a"
    assert item.text == f"以往答复使分数{item.points:+.1f}：对方曾以“年龄偏大”婉拒35岁及以上的人"
    assert e.score(1, 2).components.feedback == pytest.approx(r[2].components.feedback, abs=1e-3)


def test_feedback_validates_reasons_and_ids():
    e = woman_and_men()
    with pytest.raises(ValueError, match="unknown feedback reasons"):
        e.feedback(1, 100, liked=False, reasons=["smelly"])
    with pytest.raises(KeyError):
        e.feedback(1, 999, liked=False)
    assert {
        "too_old",
        "too_young",
        "too_far",
        "education",
        "income",
        "height",
        "appearance",
        "marital",
        "children",
        "not_my_type",
    } <= set(REASONS)
