"""Answer rates, the normalised collaborative signal, degree counting, forgetting, and the
learning step with its fallback."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import (
    EDU_DOCTORATE,
    EDU_HIGH_SCHOOL,
    EDU_MASTER,
    EngineConfig,
    MinPref,
    Model,
    Preferences,
    Weights,
)
from hongniang.matching.engine.collab import CHOSEN, GIVEN, AnswerRates, InteractionGraph
from hongniang.matching.engine.learning import (
    COMPONENTS,
    Outcome,
    fall_back,
    learn,
    model_logit,
    outcome_features,
)
from hongniang.matching.tests.test_engine_helpers import build, ids, person

NO_TEXT = EngineConfig(weights=Weights(text=0.0))


# --- rates ----------------------------------------------------------------------------------------


def test_rates_are_smoothed_toward_the_agency_average():
    rates = AnswerRates()
    for target in range(100, 110):
        rates.add(1, target, yes=True)  # 1 says yes to everyone
        rates.add(2, target, yes=False)  # 2 to no one
    ids, openness, appeal = rates.offsets(prior=10.0)
    pairs = zip(openness.tolist(), appeal.tolist(), strict=True)
    row = dict(zip(ids.tolist(), pairs, strict=True))
    assert rates.mean() == pytest.approx(0.5)
    # 10 yes + 10 pseudo-answers at 0.5 → 15/20 = 0.75: logit(0.75) - logit(0.5)
    assert row[1][0] == pytest.approx(np.log(3.0), abs=1e-5)
    assert row[2][0] == pytest.approx(-np.log(3.0), abs=1e-5)
    # each target was answered twice, once yes: exactly the average → 0
    assert row[100][1] == pytest.approx(0.0, abs=1e-6)
    assert rates.of(999, 10.0) == (0.0, 0.0)  # a new member starts at the average


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(6, 11), st.booleans()), max_size=60))
def test_rates_count_every_answer_once_and_stay_finite(answers):
    rates = AnswerRates()
    for actor, target, yes in answers:
        rates.add(actor, target, yes)
    rates.merge()
    counts = dict(zip(rates.ids.tolist(), rates.counts.tolist(), strict=True))
    assert sum(c[GIVEN] for c in counts.values()) == len(answers)
    assert sum(c[CHOSEN] for c in counts.values()) == sum(yes for *_, yes in answers)
    _, openness, appeal = rates.offsets(10.0)
    assert np.isfinite(openness).all() and np.isfinite(appeal).all()


def test_an_unexplained_no_counts_through_the_rates():
    e = build(person(1, "F", 28), *[person(i, "M", 30) for i in range(10, 16)], config=NO_TEXT)
    for cid in range(10, 15):
        e.feedback(cid, 1, liked=False)  # no reason given
    rates = e._graph.rates
    assert rates.of(1, e.config.rate_prior)[1] < 0  # she is chosen less than average
    assert all(rates.of(cid, e.config.rate_prior)[0] < 0 for cid in range(10, 15))


# --- degree, normalisation, forgetting -----------------------------------------------------------


def test_an_edge_changed_after_compaction_is_counted_once():
    g = InteractionGraph(compact_min=10_000)
    g.add(1, 10, 1.0)
    g.add(1, 11, 1.0)
    g.compact()
    g.add(1, 10, 1.0)  # the same edge again, now also in the recent changes
    g.add(1, 12, 1.0)  # a new one
    assert g._degree(np.array([1]), True).tolist() == [3.0]
    assert g._degree(np.array([10]), False).tolist() == [1.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("add"), st.integers(0, 6), st.integers(0, 6)),
            st.tuples(st.just("compact"), st.just(0), st.just(0)),
            st.tuples(st.just("forget"), st.integers(0, 6), st.just(0)),
        ),
        max_size=40,
    )
)
def test_degrees_count_each_distinct_neighbour_once(ops):
    """Degrees kept as edges arrive equal a count of distinct neighbours, whether the edge
    is compacted, recent, or both, and after members are forgotten."""
    g = InteractionGraph(compact_min=8)
    edges: set[tuple[int, int]] = set()
    for op, a, b in ops:
        if op == "add" and a != b:
            g.add(a, b, 1.0)
            edges.add((a, b))
        elif op == "compact":
            g.compact()
        elif op == "forget":
            g.forget(a)
            edges = {(x, y) for x, y in edges if a not in (x, y)}
        if g._forgotten:  # masked compacted edges still count until the next compaction
            continue
        members = np.arange(7)
        out = [max(1, sum(x == m for x, _ in edges)) for m in range(7)]
        into = [max(1, sum(y == m for _, y in edges)) for m in range(7)]
        assert g._degree(members, True).tolist() == out
        assert g._degree(members, False).tolist() == into


def test_collaborative_signal_is_bounded_and_does_not_grow_with_activity():
    g = InteractionGraph()
    # 1 and 2 answered 10..13 alike; 2 said yes to 20.  Busy 3 answered 10..13 alike too,
    # and many others, and said yes to 21.
    for t in range(10, 14):
        for m in (1, 2, 3):
            g.answer(m, t, True, 1.0)
    g.answer(2, 20, True, 1.0)
    g.answer(3, 21, True, 1.0)
    for t in range(100, 160):
        g.answer(3, t, t % 2 == 0, 1.0 if t % 2 == 0 else -1.0)
    s = g.scores(1, fanout=50)
    taste = dict(zip(s.ids.tolist(), s.taste.tolist(), strict=True))
    assert min(s.taste) >= -1.0 and max(s.taste) <= 1.0
    assert taste[20] > taste.get(21, 0.0) > 0.0  # the busy peer is less alike (degree)
    # a "no" from people who answer alike lowers the signal
    g.answer(2, 22, False, -1.0)
    s = g.scores(1, fanout=50)
    assert dict(zip(s.ids.tolist(), s.taste.tolist(), strict=True))[22] < 0


def test_removing_a_member_forgets_their_edges_and_counts():
    e = build(person(1, "F", 28), person(2, "F", 29), person(10, "M", 30), person(11, "M", 31))
    e.feedback(10, 1, liked=True)
    e.feedback(1, 10, liked=True)
    e._graph.compact()
    e.feedback(10, 2, liked=True)  # a recent change, not yet compacted
    e.interaction(11, 10, "like")
    assert e.remove(10)
    g = e._graph
    assert len(g.out_edges(1)[0]) == 0 and len(g.in_edges(1)[0]) == 0
    assert len(g.in_edges(2)[0]) == 0
    assert 10 not in g.out_edges(11)[0]
    assert g.rates.of(10, 10.0) == (0.0, 0.0)
    g.compact()  # the masked edges are dropped for good
    assert 10 not in g._out.keys and 10 not in g._out.nbr
    # a member who comes back starts afresh, and new answers count
    e.upsert(person(10, "M", 30))
    e.feedback(10, 1, liked=True)
    assert g.out_edges(10)[0].tolist() == [1]


# --- a planted popular-but-picky structure -------------------------------------------------------


def test_a_popular_but_picky_candidate_is_recognised_and_ranked_accordingly():
    """Man 100 is chosen by every woman but says yes to none; man 101 is chosen as often and
    says yes to everyone.  For a new woman both fit equally; 101 should come first, and the
    explanation says why."""
    women = [person(i, "F", 28) for i in range(1, 12)]
    men = [person(i, "M", 30) for i in (100, 101, 102, 103)]
    e = build(*women, *men, config=NO_TEXT)
    for w in range(2, 12):
        e.feedback(w, 100, liked=True)
        e.feedback(w, 101, liked=True)
        e.feedback(100, w, liked=False)
        e.feedback(101, w, liked=True)
        e.feedback(w, 102, liked=False)
    rates = e._graph.rates
    openness100, appeal100 = rates.of(100, 10.0)
    openness101, appeal101 = rates.of(101, 10.0)
    assert appeal100 > 0 and appeal101 > 0 and openness100 < 0 < openness101
    results = e.recommend(1)
    order = ids(results)
    assert order[0] == 101
    assert order.index(100) > order.index(101)
    (item,) = [x for x in results[0].explanations if x.criterion == "collaborative"]
    assert "对方常被其他会员接受" in item.text and "对方对推荐常表示愿意" in item.text


# --- the learning step ----------------------------------------------------------------------------


def _planted(n_women: int = 30, n_men: int = 30, seed: int = 1):
    """Outcomes where appeal and openness decide: each man has a latent appeal, each woman
    an openness; the women's stated wish (a master's degree) says nothing, as in real
    data, so the defaults' large fit weight only adds noise."""
    rng = np.random.default_rng(seed)
    wish = Preferences(education=MinPref(EDU_MASTER))
    women = [person(i, "F", 28, prefs=wish) for i in range(n_women)]
    men = [
        person(1000 + i, "M", 30, education=int(rng.integers(EDU_HIGH_SCHOOL, EDU_DOCTORATE + 1)))
        for i in range(n_men)
    ]
    e = build(*women, *men, config=NO_TEXT)
    appeal = rng.normal(0, 1.5, n_men)
    openness = rng.normal(0, 1.5, n_women)
    out = []
    t = 0.0
    for _ in range(12):
        for w in range(n_women):
            m = int(rng.integers(0, n_men))
            p = 1 / (1 + np.exp(-(appeal[m] + openness[w] - 0.4)))
            out.append(Outcome(w, 1000 + m, bool(rng.random() < p), t))
            t += 1.0
    return e, out


def test_learning_fits_the_outcomes_and_beats_the_defaults():
    e, outcomes = _planted()
    result = learn(e, outcomes)
    assert result.accepted and result.reason == ""
    assert result.trained_on + result.checked_on == len(outcomes)
    assert result.check_auc > result.default_auc
    assert result.model.appeal > 0.3 and result.model.selectivity > 0.3
    assert result.model.fit < Model().fit  # the stated wish mattered little
    x = outcome_features(e, outcomes)
    assert x.shape == (len(outcomes), 6)
    first = len(outcomes) // 20  # the first of 20 periods knows no answers: no leak
    assert (x[:first, 1:] == 0).all() and (x[first:, 1:] != 0).any()


def test_learning_keeps_the_defaults_without_enough_or_varied_outcomes():
    e, outcomes = _planted()
    few = learn(e, outcomes[:100])
    assert not few.accepted and few.reason == "too_few" and few.model == Model()
    same = [Outcome(o.actor, o.target, True, o.at) for o in outcomes]
    assert learn(e, same).reason == "one_answer_only"


def test_learning_keeps_the_defaults_when_the_fit_is_no_better():
    e, outcomes = _planted(seed=3)
    rng = np.random.default_rng(0)
    noise = [Outcome(o.actor, o.target, bool(rng.random() < 0.4), o.at) for o in outcomes]
    result = learn(e, noise)
    if not result.accepted:  # pure noise: the fit must not be taken for an improvement
        assert result.reason == "not_better" and result.model == Model()
    else:
        assert result.check_auc > result.default_auc


def test_model_logit_matches_the_engine_coefficients():
    m = Model()
    x = np.array([[1.0, 0, 0, 0, 0, 0], [0.0, 0, 0, 0, 0, 0], [1.0, 0, 0, 0, 1, 0]])
    expected = [np.log(4.0), -np.log(4.0), np.log(4.0) - m.declined]
    assert model_logit(m, x) == pytest.approx(expected, abs=1e-3)
    with pytest.raises(ValueError):
        Model(fit=0.0)


def test_the_members_own_openness_moves_every_score_and_is_explained():
    e = build(person(1, "F", 28), *[person(i, "M", 30) for i in range(10, 20)], config=NO_TEXT)
    before = {r.candidate_id: r.score for r in e.recommend(1)}
    for cid in range(10, 16):
        e.feedback(1, cid, liked=False)  # she says no to most: less likely to say yes
    after = e.recommend(1)
    assert all(r.score < before[r.candidate_id] for r in after)
    assert all(r.components.collaborative < 0 for r in after)
    (item,) = [x for x in after[0].explanations if x.criterion == "collaborative"]
    assert item.outcome == "partial" and "她对推荐很少表示愿意" in item.text


def _planted_reasons(seed: int = 2, n_women: int = 60, n_men: int = 40):
    """Women turn down men above an age cap of their own (stated nowhere) and say so
    ("too_old") half the time; otherwise appeal and openness decide."""
    rng = np.random.default_rng(seed)
    women = [person(i, "F", 28) for i in range(n_women)]
    men = [person(1000 + i, "M", 26 + i % 15) for i in range(n_men)]
    e = build(*women, *men, config=NO_TEXT)
    cap = rng.integers(30, 36, n_women)
    appeal = rng.normal(0, 1.0, n_men)
    openness = rng.normal(0, 1.0, n_women)
    out, t = [], 0.0
    for _ in range(14):
        for w in range(n_women):
            m = int(rng.integers(0, n_men))
            too_old = 26 + m % 15 > cap[w]
            p = 1 / (1 + np.exp(-(appeal[m] + openness[w] - 2.5 * too_old)))
            yes = bool(rng.random() < p)
            reasons = ("too_old",) if not yes and too_old and rng.random() < 0.5 else ()
            out.append(Outcome(w, 1000 + m, yes, t, reasons))
            t += 1.0
    return e, out, cap


def test_reasons_to_decline_are_a_learned_feature_known_only_after_they_were_given():
    e, outcomes, cap = _planted_reasons()
    x = outcome_features(e, outcomes)
    first = len(outcomes) // 20
    assert (x[:first, 4] == 0).all()  # nothing declined yet: nothing known
    late = np.arange(len(outcomes)) >= len(outcomes) // 2
    over = np.array([26 + (o.target - 1000) % 15 > cap[o.actor] for o in outcomes])
    # later on, the men above a woman's cap have often been declined as too old before
    assert x[late & over, 4].mean() > 0.3 > x[late & ~over, 4].mean()
    result = learn(e, outcomes)
    assert result.accepted
    assert result.model.declined > 0.5  # weighed by the outcomes, not fixed points


def test_a_model_that_gives_reasons_no_weight_leaves_the_scores_alone():
    her = person(1, "F", 30)
    men = [person(i, "M", 16 + i) for i in range(10, 20)]  # ages 26 … 35
    e = build(her, *men, config=NO_TEXT)
    e.set_model(Model(declined=0.0, liked=0.0))
    before = {r.candidate_id: r.components.fit for r in e.recommend(1)}
    e.feedback(1, 18, liked=False, reasons=["too_old"])  # the 34-year-old
    e.feedback(1, 11, liked=True)  # the 27-year-old
    after = e.recommend(1)
    assert all(r.components.feedback == 0.0 for r in after)
    assert all(r.components.fit == pytest.approx(before[r.candidate_id]) for r in after)
    e.set_model(Model())
    weighed = {r.candidate_id: r.components.feedback for r in e.recommend(1)}
    assert weighed[12] > 0 and weighed[19] < 0  # 28: like the liked one; 35: too old


def test_replaying_answers_reads_what_they_taught_and_leaves_the_engine_alone():
    """The learning step's replay (`Engine.fresh_feedback`, `replay_answer`, `reason_parts`):
    the same reading as the engine's own feedback, in a state of its own."""
    her = person(1, "F", 30)
    men = [person(i, "M", 16 + i) for i in range(10, 20)]  # ages 26 … 35
    e = build(her, *men, config=NO_TEXT)
    before = [(r.candidate_id, r.score) for r in e.recommend(1)]
    state, row = e.fresh_feedback(1)
    assert e.reason_parts(1, state, row, [12, 19]) is None  # nothing taught yet
    e.replay_answer(state, row, 18, liked=False, reasons=["too_old"])  # the 34-year-old
    e.replay_answer(state, row, 11, liked=True)  # the 27-year-old
    declined, liked = e.reason_parts(1, state, row, [12, 19])
    assert declined[1] > declined[0] and liked[0] > liked[1]
    assert [(r.candidate_id, r.score) for r in e.recommend(1)] == before  # untouched
    with pytest.raises(KeyError):
        e.reason_parts(1, state, row, [999])
    # The engine's own feedback, taught the same answers, reads the same.
    e.feedback(1, 18, liked=False, reasons=["too_old"])
    e.feedback(1, 11, liked=True)
    weighed = {r.candidate_id: r.components.feedback for r in e.recommend(1)}
    assert weighed[12] > 0 > weighed[19]


# --- the rates' prior and the per-component fallback ----------------------------------------------


def test_the_rates_prior_is_learned_and_the_engine_trusts_few_answers_by_it():
    """How far a member's few answers are trusted (the Beta prior of the rates) is part of
    the model: a small prior moves a candidate with two yes far, a large one barely."""
    women = [person(i, "F", 28) for i in (1, 60, 61)]
    e = build(*women, *[person(i, "M", 30) for i in range(10, 14)], config=NO_TEXT)
    e.feedback(60, 10, liked=True)
    e.feedback(61, 10, liked=True)  # two other women said yes to him
    shift = {}
    for prior in (1.0, 100.0):
        e.set_model(Model(rate_prior=prior))
        assert e.rate_prior == prior
        shift[prior] = {r.candidate_id: r.components.collaborative for r in e.recommend(1)}[10]
    assert shift[1.0] > shift[100.0] > 0
    e.set_model(Model())
    assert e.rate_prior == e.config.rate_prior
    with pytest.raises(ValueError):
        Model(rate_prior=0.0)


def test_learning_picks_a_rates_prior_among_the_candidates_and_refits_on_everything():
    e, outcomes = _planted()
    result = learn(e, outcomes, priors=(40.0,))
    assert result.accepted
    assert result.model.rate_prior in (None, 40.0)  # None: the engine's own (10)
    again = learn(e, outcomes, priors=(40.0,))
    assert again == result  # deterministic
    # the kept model is fitted again on all the outcomes, not only the older ones
    older = learn(e, outcomes[: result.trained_on], priors=(40.0,))
    assert older.model != result.model


def test_each_coefficient_falls_back_alone_when_the_check_prefers_its_default():
    default = Model()
    fitted = Model(intercept=-0.5, fit=0.3, appeal=1.8, selectivity=1.4, collaborative=0.0)

    def judge(model: Model) -> float:
        # the check likes the default fit weight and a learned appeal, nothing else matters
        return 0.7 + 0.1 * (model.fit == default.fit) + 0.05 * (model.appeal == 1.8)

    model, score, reset = fall_back(fitted, judge(fitted), judge)
    assert reset == ["fit"] and model.fit == default.fit and model.appeal == 1.8
    assert model.collaborative == 0.0 and score == pytest.approx(0.85)
    # nothing better: nothing reset
    same, value, none = fall_back(fitted, 1.0, judge)
    assert same == fitted and value == 1.0 and none == []
    assert set(COMPONENTS) <= set(Model.__dataclass_fields__)
