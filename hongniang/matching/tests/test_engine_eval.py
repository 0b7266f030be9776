"""The offline evaluation: a population stated preferences cannot win, and the metrics."""

from __future__ import annotations

import numpy as np
import pytest

from hongniang.matching import evaluate
from hongniang.matching.engine.learning import auc, fit_logistic


@pytest.fixture(scope="module")
def metrics():
    return evaluate.run_evaluation(500, seed=7, per_member=24)


SEEDS = (1, 2, 3, 4, 5)
BASELINES = ("random", "age difference", "stated fit", "rates product", "learned model")


@pytest.fixture(scope="module")
def seeds():
    """200 members per seed, history and temporal split only: about 8 s of CPU each."""
    return {
        seed: evaluate.run_evaluation(
            200, seed=seed, per_member=24, settings=("history", "temporal"), strong=True
        )
        for seed in SEEDS
    }


@pytest.mark.parametrize("setting", ["history", "temporal"])
def test_the_engine_with_history_beats_every_baseline(seeds, setting):
    """With answers known (a random quarter held out, or only earlier answers known), the
    engine orders the held-out pairs better than every baseline (random, age difference,
    stated fit, the product of the smoothed rates, a learned model on visible attributes)
    on every seed.  Margins measured over seeds 1-5 at 200 members, against the best
    baseline of each seed (the rates product nearly always):

    - AUC: history +0.019..+0.061, temporal +0.017..+0.040 — asserted > 0.01 on each seed;
    - per-member AUC: history +0.043..+0.091, temporal +0.014..+0.061 — asserted > 0.005;
    - top-1 success: history +0.000 (seed 5: the same share as the rates product)..+0.065,
      temporal +0.017..+0.046; top-3: history +0.007..+0.037, temporal +0.000 (seed 2)..
      +0.033 — asserted never behind on any seed and ahead by > 0.01 (top-1) and > 0.005
      (top-3) on the mean over the seeds (history +0.032 / +0.018, temporal +0.031 /
      +0.017).  Top-k shares over ~190 members move by ±0.03 between seeds; at 1,000
      members (README) the engine is ahead on both on every seed checked."""
    top1, top3 = [], []
    for seed, metrics in seeds.items():
        results = metrics[setting]
        engine = results["engine"]
        best = {key: max(results[v][key] for v in BASELINES) for key in engine}
        assert engine["auc"] > best["auc"] + 0.01, (seed, results)
        assert engine["member_auc"] > best["member_auc"] + 0.005, (seed, results)
        assert engine["top1"] >= best["top1"], (seed, results)
        assert engine["top3"] >= best["top3"], (seed, results)
        top1.append(engine["top1"] - best["top1"])
        top3.append(engine["top3"] - best["top3"])
    assert np.mean(top1) > 0.01 and np.mean(top3) > 0.005, (top1, top3)


def test_the_engine_beats_the_strong_logistic_regression_a_reviewer_would_fit(seeds):
    """The stronger baseline: a logistic regression of the mutual yes on visible attributes,
    both fits and both members' smoothed rates (log-odds, per-direction sums and products),
    trained on the known pairs.  Engine minus it over seeds 1-5 at 200 members, measured:

    - AUC: history +0.019..+0.029, temporal +0.002..+0.041 (mean +0.019);
    - per-member AUC: history +0.002..+0.035 (mean +0.019), temporal -0.013..+0.037
      (mean +0.023);
    - top-1 / top-3 over both settings: mean +0.013 / +0.008 (single seeds -0.039..+0.044:
      ~190 members' top-1 moves by ±0.03 between seeds).

    Asserted: AUC > +0.01 on each seed with history and > 0 in the temporal split, both
    means > +0.01; per-member AUC never 0.02 behind and ahead by > 0.01 on the mean; top-1
    and top-3 ahead on the mean over seeds and settings.  (At 600 members and three seeds
    the lead is smaller, +0.004..+0.007 AUC: `bench/quality_sweep.py`, README.)"""
    strong = evaluate.STRONG
    lead: dict[str, dict[str, list[float]]] = {}
    for setting in ("history", "temporal"):
        lead[setting] = {key: [] for key in ("auc", "member_auc", "top1", "top3")}
        for metrics in seeds.values():
            engine, other = metrics[setting]["engine"], metrics[setting][strong]
            for key, values in lead[setting].items():
                values.append(engine[key] - other[key])
    assert min(lead["history"]["auc"]) > 0.01, lead
    assert min(lead["temporal"]["auc"]) > 0.0, lead
    for setting in ("history", "temporal"):
        assert np.mean(lead[setting]["auc"]) > 0.01, lead
        assert min(lead[setting]["member_auc"]) > -0.02, lead
        assert np.mean(lead[setting]["member_auc"]) > 0.01, lead
    for key in ("top1", "top3"):
        assert np.mean(lead["history"][key] + lead["temporal"][key]) > 0.0, lead


def test_population_answers_like_real_members(metrics):
    pop = metrics["_population"]
    assert 0.34 < pop["yes_rate"] < 0.46  # most answers are "no"
    assert 0.11 < pop["mutual_rate"] < 0.22  # about one pair in six is mutual
    assert pop["test_pairs"] > 1000


def test_stated_preferences_alone_are_weak_and_rates_are_strong(metrics):
    cold, warm = metrics["no history"], metrics["history"]
    assert 0.5 < cold["stated fit"]["auc"] < 0.65
    assert abs(cold["random"]["auc"] - 0.5) < 0.05
    # how selective and how chosen people are carries most of the signal
    assert warm["rates product"]["auc"] > cold["stated fit"]["auc"] + 0.1
    for setting in ("history", "temporal"):
        for variant in evaluate.VARIANTS:
            m = metrics[setting][variant]
            assert 0.0 <= m["top1"] <= 1.0 and 0.0 <= m["top3"] <= 1.0


def test_answers_follow_the_hidden_taste_and_most_no_give_no_reason():
    pop = evaluate.make_population(60, seed=3)
    rng = np.random.default_rng(0)
    men = [i for i, p in enumerate(pop.profiles) if p.sex == "M"]
    women = [i for i, p in enumerate(pop.profiles) if p.sex == "F"]
    declined = unexplained = 0
    for a in women:
        for b in men:
            liked, reasons = evaluate.answer(pop, a, b, rng)
            if liked:
                continue
            declined += 1
            unexplained += not reasons
            assert set(reasons) <= {reason for reason, _ in evaluate.violations(pop, a, b)}
    assert declined > 300
    assert unexplained > declined / 2


def test_regimes_change_the_population_as_named():
    """The sweep's regimes (`bench/quality_sweep.py`): the yes-rate follows the regime, and
    without popular-but-picky appeal and openness are unrelated."""
    few = evaluate.run_evaluation(
        120, seed=4, per_member=16, settings=("history",), regime=evaluate.Regime(yes_rate=0.25)
    )
    assert 0.19 < few["_population"]["yes_rate"] < 0.31
    pop = evaluate.make_population(120, seed=4, regime=evaluate.Regime(picky=0.0, appeal=2.0))
    assert pop.regime.appeal == 2.0
    appeal = np.array([h.appeal for h in pop.hidden])
    openness = np.array([h.openness for h in pop.hidden])
    assert abs(np.corrcoef(appeal, openness)[0, 1]) < 0.25  # not popular-but-picky


def test_the_engine_only_sees_stated_preferences():
    """Hidden tastes are not copied into the profiles the engine is built from."""
    pop = evaluate.make_population(200, seed=5)
    exact = stated = 0
    for p, h in zip(pop.profiles, pop.hidden, strict=True):
        if p.prefs.age is not None:
            stated += 1
            exact += (p.prefs.age.low, p.prefs.age.high) == (h.age_lo, h.age_hi)
    assert stated == len(pop.profiles)
    assert exact < 0.25 * stated  # a noisy statement, not the truth


def test_auc_counts_ties_half_and_logistic_recovers_a_planted_slope():
    assert auc(np.array([1.0, 2.0, 3.0]), np.array([False, False, True])) == 1.0
    assert auc(np.array([1.0, 1.0]), np.array([False, True])) == 0.5
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (4000, 2))
    y = rng.random(4000) < 1 / (1 + np.exp(-(0.5 + 2.0 * x[:, 0])))
    intercept, coef = fit_logistic(x, y, l2=0.1).raw()
    assert intercept == pytest.approx(0.5, abs=0.15)
    assert coef[0] == pytest.approx(2.0, abs=0.2) and abs(coef[1]) < 0.15
