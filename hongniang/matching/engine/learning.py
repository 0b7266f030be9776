"""The learning step: a small logistic regression fitted to the agency's own outcomes.

Plain numpy (Newton's method with an L2 penalty: a handful of features, a few thousand
rows, converges in ~10 steps).  `auc` is the Mann–Whitney statistic with ties counted half;
both are used by the engine's nightly fit and by the offline evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
