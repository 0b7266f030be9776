"""The offline evaluation: the full engine must beat rules-only and random clearly."""

from __future__ import annotations

import pytest

from hongniang.matching import evaluate


@pytest.fixture(scope="module")
def metrics():
    return evaluate.run_evaluation(400, seed=7, rounds=3)


def test_full_engine_beats_rules_only_and_random(metrics):
    random, rules, full = metrics["random"], metrics["rules"], metrics["full"]
    assert metrics["_members"]["evaluated"] >= 100
    # rules alone already beat chance by far
    assert rules["precision@10"] > 2.5 * random["precision@10"]
    assert rules["auc"] > random["auc"] + 0.2
    # feedback, behaviour and text add a clear margin on top of the stated preferences
    assert full["precision@10"] > 1.3 * rules["precision@10"]
    assert full["recall@50"] > rules["recall@50"] + 0.05
    assert full["auc"] > rules["auc"] + 0.03
    assert full["precision@10"] > 4 * random["precision@10"]


def test_feedback_moves_recommendations_in_the_expected_direction(metrics):
    rules, with_feedback = metrics["rules"], metrics["fit+feedback"]
    # fewer of the top 10 trip a deal-breaker the member already gave as a reason
    assert with_feedback["repeat@10"] < rules["repeat@10"] - 0.1
    assert with_feedback["auc"] > rules["auc"]
    assert with_feedback["precision@10"] > rules["precision@10"]


def test_simulated_answers_follow_the_hidden_taste():
    pop = evaluate.make_population(60, seed=3)
    men = [i for i, p in enumerate(pop.profiles) if p.sex == "M"]
    women = [i for i, p in enumerate(pop.profiles) if p.sex == "F"]
    checked = 0
    for a in women:
        for b in men:
            found = evaluate.violations(pop, a, b)
            liked, reasons = evaluate.answer(pop, a, b)
            if liked:
                continue
            checked += 1
            if found:  # a decline names the worst broken deal-breakers
                assert set(reasons) <= {reason for reason, _ in found}
            else:
                assert reasons in (("appearance",), ("not_my_type",))
    assert checked > 100


def test_the_engine_only_sees_stated_preferences():
    """Hidden tastes are not copied into the profiles the engine is built from."""
    pop = evaluate.make_population(200, seed=5)
    exact = 0
    stated = 0
    for p, h in zip(pop.profiles, pop.hidden, strict=True):
        if p.prefs.age is not None:
            stated += 1
            exact += (p.prefs.age.low, p.prefs.age.high) == (h.age_lo, h.age_hi)
    assert stated == len(pop.profiles)
    assert exact < 0.25 * stated  # a noisy statement, not the truth
