"""The score as people read it: parts that add up, at the precision they are shown.

``score = clip(fit + text + collaborative + feedback + boost, 0, 100)`` (see README).  Shown
with one decimal each, independently rounded parts need not add up to the rounded total
(0.04 + 0.04 + 0.04 → 0.0 + 0.0 + 0.0 ≠ 0.1).  ``score_line`` rounds the total once and
hands the rounding of the parts out by largest remainder, so the parts shown always add up to
the total shown, and the total shown is the result's score rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from .config import Weights
from .results import Result

PARTS: Final = ("fit", "text", "collaborative", "feedback", "boost")
_TENTHS: Final = 10


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One candidate's score, decomposed for display (every number in points, 0.1 steps).

    total: the score shown, ``round(result.score, 1)``; equals the sum of ``parts`` clipped to
        0..100 (``clipped`` says whether the clip applied).
    parts: points per component, in PARTS order; they add up to ``unclipped``.
    fit_a_to_b / fit_b_to_a: the two directions (0..100); mutual: the pair's mutual
        probability from them (the geometric mean of the two directional probabilities, see
        `Model`) as a share of a pair meeting both sides fully (0..100); ``fit`` = mutual ×
        fit_weight / 100, up to the 0.1 rounding.
    text_similarity: 0..100; ``text`` = text_similarity × text_weight / 100, likewise.
    """

    total: float
    unclipped: float
    clipped: bool
    parts: tuple[tuple[str, float], ...]
    fit_a_to_b: float
    fit_b_to_a: float
    mutual: float
    fit_weight: float
    text_similarity: float
    text_weight: float
    pinned: bool

    def part(self, name: str) -> float:
        return dict(self.parts)[name]

    @property
    def fit(self) -> float:
        return self.part("fit")

    @property
    def text(self) -> float:
        return self.part("text")

    @property
    def collaborative(self) -> float:
        return self.part("collaborative")

    @property
    def feedback(self) -> float:
        return self.part("feedback")

    @property
    def boost(self) -> float:
        return self.part("boost")


def apportion(values: list[float], decimals: int = 1) -> list[float]:
    """``values`` rounded to ``decimals`` so that they add up to their rounded sum
    (largest remainder; ties go to the earlier value)."""
    scale = 10**decimals
    scaled = [v * scale for v in values]
    target = round(round(math.fsum(values), decimals) * scale)  # the sum as it is shown
    floors = [math.floor(v) for v in scaled]
    short = target - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(scaled[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return [f / scale for f in floors]


def score_line(result: Result, weights: Weights) -> ScoreLine:
    """The displayable decomposition of ``result``'s score."""
    comps = result.components
    values = [float(getattr(comps, name)) for name in PARTS]
    parts = apportion(values)
    unclipped = round(sum(parts), 1)
    total = min(100.0, max(0.0, unclipped))
    mutual = 100.0 * comps.fit / weights.fit if weights.fit > 0 else 0.0
    similarity = 100.0 * comps.text / weights.text if weights.text > 0 else 0.0
    return ScoreLine(
        total=total,
        unclipped=unclipped,
        clipped=total != unclipped,
        parts=tuple(zip(PARTS, parts, strict=True)),
        fit_a_to_b=round(result.fit_a_to_b, 1),
        fit_b_to_a=round(result.fit_b_to_a, 1),
        mutual=round(mutual, 1),
        fit_weight=weights.fit,
        text_similarity=round(similarity, 1),
        text_weight=weights.text,
        pinned=result.pinned,
    )
