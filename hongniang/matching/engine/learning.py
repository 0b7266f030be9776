"""The learning step: a small logistic regression fitted to the agency's own outcomes.

The engine's components become features of one direction ("A says yes to B"): B's fit to
A's stated preferences, B's appeal, A's openness, the collaborative signal, how much B has
of what A declined people for (by A's reasons) and how much B resembles the people A liked
(see `Model`).  `learn` fits them on the older outcomes and keeps the result only if it
orders the latest outcomes better than the defaults.

Plain numpy (Newton's method with an L2 penalty: a handful of features, a few thousand
rows, converges in ~10 steps).  `auc` is the Mann–Whitney statistic with ties counted half;
both are used by the engine's nightly fit and by the offline evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .config import Model
from .feedback import REASONS, FeedbackState

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True, slots=True)
class LogisticFit:
    """Coefficients on standardised features: ``z = intercept + Σ coef·(x - mean)/scale``."""

    intercept: float
    coef: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def logit(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        return self.intercept + z @ np.asarray(self.coef)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.logit(x))

    def raw(self) -> tuple[float, tuple[float, ...]]:
        """The same model on unscaled features: (intercept, coefficients)."""
        coef = np.asarray(self.coef) / np.asarray(self.scale)
        return float(self.intercept - coef @ np.asarray(self.mean)), tuple(coef.tolist())


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, steps: int = 50) -> LogisticFit:
    """Maximum-likelihood logistic regression with an L2 penalty on the (standardised)
    coefficients, not on the intercept.  A constant feature gets coefficient 0."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64)
    if len(x) != len(y) or len(y) == 0:
        raise ValueError("x and y must be non-empty and of equal length")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    penalty = np.full(z.shape[1], float(l2))
    penalty[0] = 0.0
    rate = np.clip(y.mean(), 1e-4, 1 - 1e-4)
    beta = np.zeros(z.shape[1])
    beta[0] = np.log(rate / (1 - rate))
    for _ in range(steps):
        p = sigmoid(z @ beta)
        grad = z.T @ (p - y) + penalty * beta
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return LogisticFit(
        float(beta[0]), tuple(beta[1:].tolist()), tuple(mean.tolist()), tuple(scale.tolist())
    )


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann–Whitney AUC with ties counted half; nan without both classes."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    pos = int(labels.sum())
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]  # average rank of each tie group
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


# --- the engine's learning step -------------------------------------------------------------------

FEATURES = ("fit", "appeal", "openness", "collaborative", "declined", "liked")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One recorded outcome: ``actor`` said yes (or no) to ``target`` at time ``at`` (any
    sortable number: a timestamp).  Answers to recommendations; a mutual yes is two of
    them; an appointment that ended "continue" is a yes in both directions.  ``reasons``:
    the reasons given with a "no" (`REASONS`; most "no"s give none)."""

    actor: int
    target: int
    yes: bool
    at: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Learned:
    """What one run of the learning step found.

    model: the coefficients to use (the defaults unless ``accepted``); trained_on /
    checked_on: outcomes in the older (training) and the latest (check) part; check_auc /
    default_auc: how well the fitted and the default coefficients order the check part's
    answers (AUC of "said yes"); reason: why the defaults were kept, else ''."""

    model: Model
    accepted: bool
    trained_on: int
    checked_on: int
    check_auc: float
    default_auc: float
    reason: str


def outcome_features(engine: Engine, outcomes: Sequence[Outcome], periods: int = 20) -> np.ndarray:
    """The features of each outcome (columns FEATURES) as the agency knew them *before* it:
    outcomes are taken in time order in ``periods`` slices, and each slice's rates,
    collaborative signal and reasons come from the answers of the earlier slices only (the
    answer itself never leaks into its own features).  The fit does not depend on answers.
    The rates use the engine's prior (`Engine.rate_prior`)."""
    return _features(engine, outcomes, (engine.rate_prior,), periods)[0]


def _features(
    engine: Engine, outcomes: Sequence[Outcome], priors: Sequence[float], periods: int = 20
) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    """`outcome_features` (columns 1 and 2, appeal and openness, at the first prior) and
    the (appeal, openness) columns at every prior of ``priors``."""
    from .collab import InteractionGraph

    order = sorted(range(len(outcomes)), key=lambda i: outcomes[i].at)
    x = np.zeros((len(outcomes), len(FEATURES)), dtype=np.float64)
    rates = {prior: np.zeros((len(outcomes), 2), dtype=np.float64) for prior in priors}
    known = InteractionGraph()
    reasons = _ReasonReplay(engine)
    cfg = engine.config
    fits = _fits(engine, outcomes)
    for part in np.array_split(np.asarray(order, dtype=np.int64), max(1, periods)):
        declined, liked = reasons.features([outcomes[i] for i in part.tolist()])
        signals: dict[int, dict[int, float]] = {}
        for prior, columns in rates.items():
            for i in part.tolist():
                o = outcomes[i]
                columns[i] = (known.rates.of(o.target, prior)[1], known.rates.of(o.actor, prior)[0])
        for i in part.tolist():
            o = outcomes[i]
            if o.actor not in signals:
                signals[o.actor] = known.taste_of(o.actor, cfg.collab_fanout)
            x[i, 0] = fits[(o.actor, o.target)]
            x[i, 3] = signals[o.actor].get(o.target, 0.0)
        x[part, 4] = declined
        x[part, 5] = liked
        for i in part.tolist():
            o = outcomes[i]
            known.answer(o.actor, o.target, o.yes, 1.0 if o.yes else -1.0)
            reasons.answer(o)
    x[:, 1:3] = rates[priors[0]]
    return x, rates


class _ReasonReplay:
    """The members' answers replayed in time order into fresh feedback states (the engine's
    own hold the final state), to read what each member's reasons and likes said of a
    candidate *before* their answer to them (`Engine.fresh_feedback`, `replay_answer`,
    `reason_parts`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._states: dict[int, tuple[FeedbackState, dict[str, int]]] = {}

    def _state(self, member_id: int) -> tuple[FeedbackState, dict[str, int]]:
        found = self._states.get(member_id)
        if found is None:
            found = self._states[member_id] = self._engine.fresh_feedback(member_id)
        return found

    def answer(self, o: Outcome) -> None:
        state, row = self._state(o.actor)
        reasons = tuple(r for r in o.reasons if r in REASONS) if not o.yes else ()
        self._engine.replay_answer(state, row, o.target, o.yes, reasons)

    def features(self, part: Sequence[Outcome]) -> tuple[np.ndarray, np.ndarray]:
        """(declined, liked) of each outcome of ``part``, each 0..1, as the actor's earlier
        answers say."""
        declined = np.zeros(len(part))
        liked = np.zeros(len(part))
        by_actor: dict[int, list[int]] = {}
        for j, o in enumerate(part):
            by_actor.setdefault(o.actor, []).append(j)
        for actor, rows in by_actor.items():
            found = self._states.get(actor)
            if found is None:
                continue
            state, row = found
            targets = [part[j].target for j in rows]
            parts = self._engine.reason_parts(actor, state, row, targets)
            if parts is None:
                continue
            declined[rows] = parts[0]
            if parts[1] is not None:
                liked[rows] = parts[1]
        return declined, liked


def _fits(engine: Engine, outcomes: Sequence[Outcome]) -> dict[tuple[int, int], float]:
    """The directional fit of every (actor, target) pair, one vectorised pass per actor."""
    targets: dict[int, set[int]] = {}
    for o in outcomes:
        targets.setdefault(o.actor, set()).add(o.target)
    fits: dict[tuple[int, int], float] = {}
    for actor, wanted in targets.items():
        ids = sorted(wanted)
        values = engine.directional_fits(actor, ids).tolist()
        fits.update(((actor, t), v) for t, v in zip(ids, values, strict=True))
    return fits


def model_logit(model: Model, x: np.ndarray) -> np.ndarray:
    """The directional logit of ``model`` for feature rows (columns FEATURES)."""
    coef = np.array(
        [
            model.fit,
            model.appeal,
            model.selectivity,
            model.collaborative,
            -model.declined,
            model.liked,
        ]
    )
    return model.intercept + np.asarray(x, dtype=np.float64) @ coef


# Beta priors of the rates the learning step compares (pseudo-answers at the average): how
# far a member's few answers are trusted depends on how much members really differ, which
# only the agency's outcomes tell.
PRIORS: tuple[float, ...] = (2.5, 5.0, 10.0, 20.0, 40.0)
# The coefficients the step may set back to their defaults, one at a time (see `learn`).
COMPONENTS = ("fit", "appeal", "selectivity", "collaborative", "declined", "liked")


def fall_back(
    model: Model, score: float, judge: Callable[[Model], float], default: Model | None = None
) -> tuple[Model, float, list[str]]:
    """Set each coefficient of COMPONENTS in turn back to its default when that makes
    ``judge`` (the check AUC) higher.  Returns the model, its score and the names reset."""
    default = default or Model()
    reset: list[str] = []
    for name in COMPONENTS:
        if getattr(model, name) == getattr(default, name):
            continue
        trial = replace(model, **{name: getattr(default, name)})
        value = judge(trial)
        if value > score:
            model, score = trial, value
            reset.append(name)
    return model, score, reset


def learn(
    engine: Engine,
    outcomes: Sequence[Outcome],
    *,
    min_outcomes: int = 200,
    check_share: float = 0.25,
    l2: float = 1.0,
    priors: Sequence[float] = PRIORS,
) -> Learned:
    """Fit the directional yes-model to ``outcomes``: train on the older ones, check on the
    latest ``check_share``.

    For each rate prior of ``priors`` a model is fitted on the older part; the prior whose
    model orders the check part best is kept.  Then each coefficient in turn goes back to
    its default when that orders the check part better (a component the older outcomes
    misjudged falls back alone, not the whole model).  The result is kept only when there
    are enough outcomes (``min_outcomes``, both answers present in both parts) and it
    orders the check part better than the defaults do; otherwise the defaults stay.  A kept
    model is fitted again on all the outcomes (the latest ones are the most telling), with
    the same prior and the same coefficients at their defaults."""
    default = Model()
    ordered = sorted(outcomes, key=lambda o: o.at)
    n_check = int(round(check_share * len(ordered)))
    n_train = len(ordered) - n_check
    y = np.array([o.yes for o in ordered], dtype=bool)

    def keep(reason: str, check_auc: float = float("nan"), base: float = float("nan")):
        return Learned(default, False, n_train, n_check, check_auc, base, reason)

    if len(ordered) < min_outcomes or n_check < 10:
        return keep("too_few")
    y_train, y_check = y[:n_train], y[n_train:]
    if y_train.all() or not y_train.any() or y_check.all() or not y_check.any():
        return keep("one_answer_only")
    own_prior = engine.config.rate_prior
    candidates = tuple(dict.fromkeys((own_prior, *priors)))  # the defaults' prior first
    x, rates = _features(engine, ordered, candidates)

    def with_prior(prior: float) -> np.ndarray:
        out = x.copy()
        out[:, 1:3] = rates[prior]
        return out

    def fitted(rows: np.ndarray, answers: np.ndarray, prior: float) -> Model:
        intercept, coef = fit_logistic(rows, answers, l2=l2).raw()
        # The engine needs a rising fit, non-negative behaviour weights, reasons to decline
        # that lower and likes that raise (its bounds and its explanations rely on it); the
        # check judges the coefficients as they will be used.
        return Model(
            intercept=intercept,
            fit=max(0.05, coef[0]),
            appeal=max(0.0, coef[1]),
            selectivity=max(0.0, coef[2]),
            collaborative=max(0.0, coef[3]),
            declined=max(0.0, -coef[4]),
            liked=max(0.0, coef[5]),
            rate_prior=None if prior == own_prior else prior,
        )

    def checked(model: Model, rows: np.ndarray) -> float:
        return auc(model_logit(model, rows[n_train:]), y_check)

    best: tuple[float, Model, float] | None = None
    for prior in candidates:
        rows = with_prior(prior)
        model = fitted(rows[:n_train], y_train, prior)
        score = checked(model, rows)
        if best is None or score > best[0]:
            best = (score, model, prior)
    assert best is not None
    check_auc, model, prior = best
    rows = with_prior(prior)
    model, check_auc, reset = fall_back(model, check_auc, lambda m: checked(m, rows))
    base = checked(default, with_prior(own_prior))
    if not check_auc > base:
        return keep("not_better", check_auc, base)
    final = fitted(rows, y, prior)
    final = replace(final, **{name: getattr(default, name) for name in reset})
    return Learned(final, True, n_train, n_check, check_auc, base, "")
