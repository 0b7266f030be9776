"""The score as shown: parts that add up to the total, and a documented tie-breaker."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import (
    MinPref,
    Model,
    Preferences,
    RangePref,
    Weights,
    apportion,
    score_line,
)
from hongniang.matching.tests.test_engine_helpers import build, ids, person


@given(st.lists(st.floats(min_value=-40, max_value=100, allow_nan=False), min_size=1, max_size=6))
def test_apportioned_parts_add_up_to_the_rounded_sum(values):
    parts = apportion(values)
    assert math.isclose(sum(parts), round(math.fsum(values), 1), abs_tol=1e-9)
    assert all(abs(p - v) < 0.1 + 1e-9 for p, v in zip(parts, values, strict=True))
    assert all(math.isclose(p * 10, round(p * 10), abs_tol=1e-9) for p in parts)


def _population(seed: int):
    rng = np.random.default_rng(seed)
    people = [person(0, "M", 30, about="喜欢摄影和徒步，周末去爬山", hobbies={"travel"})]
    for i in range(1, 40):
        lo = int(rng.integers(22, 30))
        people.append(
            person(
                i,
                "F",
                int(rng.integers(24, 36)),
                height_cm=int(rng.integers(150, 180)),
                education=int(rng.integers(2, 7)),
                hobbies=set(rng.choice(["travel", "music", "food", "reading"], 2).tolist()),
                about=str(rng.choice(["喜欢摄影", "爱好旅游和美食", "周末去爬山", ""])),
                prefs=Preferences(
                    age=RangePref(lo, lo + int(rng.integers(3, 12)), importance=2),
                    education=MinPref(int(rng.integers(2, 7)), importance=1),
                ),
            )
        )
    return people


def _directional(fit: float) -> float:
    m = Model()
    return 1.0 / (1.0 + math.exp(-(m.intercept + m.fit * fit)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(0, 3))
def test_shown_parts_reproduce_the_shown_total(seed, boosts):
    e = build(*_population(seed))
    for cid in range(1, 1 + boosts):
        e.boost(0, cid, points=float(cid * 7))
    e.interaction(3, 0, "like")
    e.feedback(0, 5, liked=False, reasons=["too_old"])
    weights = e.config.weights
    for r in e.recommend(0, k=30):
        line = score_line(r, weights)
        assert line.total == round(r.score, 1) or math.isclose(line.total, round(r.score, 1))
        assert math.isclose(sum(p for _, p in line.parts), line.unclipped, abs_tol=1e-9)
        assert line.total == min(100.0, max(0.0, line.unclipped))
        # The fit part follows from the two directions: their mutual probability lies
        # between the two one-sided ones, and a miss never zeroes it.
        a, b = line.fit_a_to_b, line.fit_b_to_a
        one_sided = [100 * _directional(x / 100) / _directional(1.0) for x in (a, b)]
        assert min(one_sided) - 0.1 <= line.mutual <= max(one_sided) + 0.1
        assert line.mutual > 0
        # each shown value is within 0.05 of its exact value, a part within 0.1 of its own
        assert abs(line.mutual * line.fit_weight / 100 - line.fit) <= 0.1 + 0.0005 * 80 + 1e-9
        assert abs(line.text_similarity * line.text_weight / 100 - line.text) <= 0.1 + 0.003 + 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_results_are_ordered_by_shown_score_then_weaker_direction_then_id(seed):
    e = build(*_population(seed))
    e.boost(0, 7, pin=True)
    results = e.recommend(0, k=30)
    keys = [
        (not r.pinned, -round(r.score, 1), -min(r.fit_a_to_b, r.fit_b_to_a), r.candidate_id)
        for r in results
    ]
    # weaker-direction values come from float32 arithmetic: compare them at that precision
    for before, after in zip(keys, keys[1:], strict=False):
        if before[:2] != after[:2]:
            assert before[:2] < after[:2]
        elif not math.isclose(before[2], after[2], abs_tol=1e-3):
            assert before[2] < after[2]
        else:
            assert before[3] < after[3]


def test_equal_scores_prefer_the_candidate_both_sides_like_then_the_lower_id():
    """X and W suit him fully and find him 80 % right; Z suits him 90 % and finds him 88 %
    right.  Their mutual probabilities round to the same shown score (74.7); Z's weaker
    direction (88) beats theirs (80), and W's lower id goes before X's."""
    him = person(
        1, "M", 30, height_cm=175, prefs=Preferences(height=RangePref(170, None, importance=1))
    )
    picky = Preferences(height=RangePref(177, None, importance=1))  # 175: 2 cm short → 0.8
    x = person(5, "F", 28, height_cm=172, prefs=picky)
    w = person(2, "F", 28, height_cm=172, prefs=picky)
    z = person(
        9,
        "F",
        28,
        height_cm=169,  # 1 cm short of his 170 → 0.9
        prefs=Preferences(
            height=RangePref(177, None, importance=3), age=RangePref(25, 30, importance=2)
        ),  # (3 × 0.8 + 2 × 1) / 5 = 0.88
    )
    e = build(him, x, z, w)
    results = e.recommend(1)
    assert ids(results) == [9, 2, 5]
    assert len({round(r.score, 1) for r in results}) == 1
    assert results[0].fit_a_to_b < 100 and results[1].fit_a_to_b == 100


def test_a_perfect_fit_both_ways_is_80_points_and_the_line_says_why():
    e = build(person(1, "M", 30), person(2, "F", 28))
    (r,) = e.recommend(1)
    line = score_line(r, Weights())
    assert (r.fit_a_to_b, r.fit_b_to_a, line.mutual) == (100.0, 100.0, 100.0)
    assert line.fit == 80.0 and line.fit_weight == 80.0 and line.total == 80.0


# --- explanation text: no stop words, labels instead of codes, behaviour says what it moved ---


def _text_item(result):
    (item,) = [x for x in result.explanations if x.criterion == "text"]
    return item


def test_shared_words_leave_out_stop_words_single_characters_and_numbers():
    from hongniang.matching.engine.textsim import TextIndex

    index = TextIndex(16)
    profile = person(1, about="我们怎么说呢，可是2024年的我，喜欢摄影！！和 the 徒步……一二三")
    _, words = index.tokens_of(profile)
    assert {"摄影", "徒步"} <= set(words)
    noise = {"我们", "怎么", "可是", "2024", "2024年", "the", "！！", "……", "一二三"}
    assert not noise & set(words)
    assert all(len(w) > 1 for w in words)


def test_two_members_sharing_only_stop_words_have_no_text_similarity():
    a = person(1, "M", 30, about="怎么说呢，可是我们都觉得")
    b = person(2, "F", 28, about="可是怎么办，我们觉得")
    (r,) = build(a, b).recommend(1)
    assert r.components.text == 0


def test_hobbies_and_personality_are_explained_by_their_labels():
    labels = {"travel": "旅游", "diligent": "踏实上进", "outdoors": "户外运动"}
    a = person(1, "M", 30, hobbies={"travel", "outdoors"}, personality={"diligent"})
    b = person(2, "F", 28, hobbies={"travel", "outdoors"}, personality={"diligent"})
    (r,) = build(a, b, tag_labels=labels).recommend(1)
    text = _text_item(r).text
    assert "旅游" in text and "踏实上进" in text and "户外运动" in text
    assert "travel" not in text and "diligent" not in text and "outdoors" not in text


def test_explanations_say_when_behaviour_moved_the_score():
    e = build(person(1, "M", 30), person(2, "F", 28), person(3, "F", 29))
    e.interaction(2, 1, "like")
    e.feedback(1, 3, liked=True)
    r = {x.candidate_id: x for x in e.recommend(1)}
    (collab,) = [x for x in r[2].explanations if x.criterion == "collaborative"]
    assert collab.text.startswith(f"互动行为使分数+{r[2].components.collaborative:.1f}")
    (liked,) = [x for x in r[3].explanations if x.criterion == "feedback"]
    assert liked.text.startswith("以往答复使分数+")
