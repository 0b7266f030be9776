"""反选: what a member's rejections (with reasons) and likes teach the engine.

Three kinds of memory, all scoped to the member who answered:

* learned bounds (columns ``fb_*`` of the member's row): 'too_old' for a 36-year-old sets
  "penalise 36 and older"; 'education' for a 大专 sets "penalise 大专 and below".  Because
  they live in the store they also act in the other direction: a candidate who rejected
  people like the member ranks lower for the member (reciprocal penalty).
* avoided categories (region, marital status, children) from 'too_far', 'marital',
  'children';
* look-alike references: 'not_my_type' / 'appearance' rejections repel candidates similar
  to the rejected one; likes attract candidates similar to the liked ones.

A like relaxes any bound or avoidance it contradicts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from .config import FeedbackTuning
from .encoding import FB_NO_HIGH, FB_NO_LOW

REASON_TOO_OLD: Final = "too_old"
REASON_TOO_YOUNG: Final = "too_young"
REASON_TOO_FAR: Final = "too_far"
REASON_EDUCATION: Final = "education"
REASON_INCOME: Final = "income"
REASON_HEIGHT: Final = "height"  # direction inferred from the member's preferred height
REASON_TOO_SHORT: Final = "too_short"
REASON_TOO_TALL: Final = "too_tall"
REASON_APPEARANCE: Final = "appearance"
REASON_MARITAL: Final = "marital"
REASON_CHILDREN: Final = "children"
REASON_SMOKING: Final = "smoking"
REASON_DRINKING: Final = "drinking"
REASON_NOT_MY_TYPE: Final = "not_my_type"
REASONS: Final = (
    REASON_TOO_OLD,
    REASON_TOO_YOUNG,
    REASON_TOO_FAR,
    REASON_EDUCATION,
    REASON_INCOME,
    REASON_HEIGHT,
    REASON_TOO_SHORT,
    REASON_TOO_TALL,
    REASON_APPEARANCE,
    REASON_MARITAL,
    REASON_CHILDREN,
    REASON_SMOKING,
    REASON_DRINKING,
    REASON_NOT_MY_TYPE,
)

# reason → (bound column, attribute, side); 'lo' bounds penalise values at or below.
_BOUND_REASONS: Final = {
    REASON_TOO_OLD: ("fb_age_hi", "age", "hi"),
    REASON_TOO_YOUNG: ("fb_age_lo", "age", "lo"),
    REASON_TOO_SHORT: ("fb_h_lo", "height", "lo"),
    REASON_TOO_TALL: ("fb_h_hi", "height", "hi"),
    REASON_EDUCATION: ("fb_edu_lo", "edu", "lo"),
    REASON_INCOME: ("fb_inc_lo", "income", "lo"),
    REASON_SMOKING: ("fb_smoke_hi", "smoke", "hi"),
    REASON_DRINKING: ("fb_drink_hi", "drink", "hi"),
}
_MARGIN_OF: Final = {
    "age": "margin_age",
    "height": "margin_height",
    "edu": "margin_level",
    "income": "margin_level",
    "smoke": "margin_level",
    "drink": "margin_level",
}
BODY_DIMS: Final = ("age", "height", "weight")
ALL_DIMS: Final = ("age", "height", "weight", "edu", "income", "smoke", "drink")
_FIRST_STRENGTH: Final = 0.6
_STRENGTH_STEP: Final = 0.2


def _known(attr: str, value: int) -> bool:
    return value > 0 if attr in ("height", "weight", "prov", "city") else value >= 0


@dataclass(slots=True)
class Reference:
    """A rejected candidate remembered as a look-alike repeller."""

    values: dict[str, float]
    dims: tuple[str, ...]
    source_id: int
    reason: str


@dataclass(slots=True)
class FeedbackState:
    """One member's answers."""

    rejected: set[int] = field(default_factory=set)
    liked: set[int] = field(default_factory=set)
    # attribute ('prov', 'city', 'marital', 'children') → code → penalty strength (0..1]
    avoid: dict[str, dict[int, float]] = field(default_factory=dict)
    repellers: deque[Reference] = field(default_factory=deque)
    likes: deque[dict[str, float]] = field(default_factory=deque)
    # bound column → (candidate id, reason) that set it, and avoided (attr, code) → same;
    # for explanations.
    origin: dict[str, tuple[int, str]] = field(default_factory=dict)
    bounds_set: bool = False

    def snapshot(self) -> FeedbackState:
        """A copy of what scoring and explanations read (not the answered sets)."""
        return FeedbackState(
            avoid={attr: dict(codes) for attr, codes in self.avoid.items()},
            repellers=deque(self.repellers),
            likes=deque(self.likes),
            origin=dict(self.origin),
            bounds_set=self.bounds_set,
        )

    def has_signal(self) -> bool:
        return bool(self.bounds_set or self.avoid or self.repellers or self.likes)

    def liked_centroid(self) -> dict[str, float] | None:
        if not self.likes:
            return None
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for feats in self.likes:
            for attr, value in feats.items():
                sums[attr] = sums.get(attr, 0.0) + value
                counts[attr] = counts.get(attr, 0) + 1
        return {attr: sums[attr] / counts[attr] for attr in sums}


def features_of(row: Mapping[str, int]) -> dict[str, float]:
    return {attr: float(row[attr]) for attr in ALL_DIMS if _known(attr, int(row[attr]))}


def learn(
    state: FeedbackState,
    member: Mapping[str, int],
    candidate: Mapping[str, int],
    liked: bool,
    reasons: tuple[str, ...],
    tuning: FeedbackTuning,
    height_centre: float,
) -> dict[str, int]:
    """Update ``state`` with one answer; return the member's new ``fb_*`` column values.

    ``member`` and ``candidate`` are store rows with 'age' and 'id' added.
    ``height_centre`` resolves the direction of a bare 'height' reason.
    """
    bounds = {col: int(member[col]) for col, _, _ in _BOUND_REASONS.values()}
    cid = int(candidate["id"])
    if liked:
        state.liked.add(cid)
        state.rejected.discard(cid)
        _relax(state, bounds, candidate, tuning)
        state.likes.append(features_of(candidate))
        while len(state.likes) > tuning.max_likes:
            state.likes.popleft()
        return bounds

    state.rejected.add(cid)
    state.liked.discard(cid)
    for reason in reasons:
        if reason == REASON_HEIGHT:
            if not _known("height", int(candidate["height"])):
                continue
            reason = REASON_TOO_SHORT if candidate["height"] < height_centre else REASON_TOO_TALL
        if reason in _BOUND_REASONS:
            col, attr, side = _BOUND_REASONS[reason]
            value = int(candidate[attr])
            if not _known(attr, value) or (attr in ("smoke", "drink") and value == 0):
                continue
            current = bounds[col]
            bounds[col] = max(current, value) if side == "lo" else min(current, value)
            state.origin[col] = (cid, reason)
            state.bounds_set = True
        elif reason == REASON_TOO_FAR:
            prov, city = int(candidate["prov"]), int(candidate["city"])
            if prov and prov != member["prov"]:
                _avoid(state, "prov", prov, cid, reason)
            elif city and city != member["city"]:
                _avoid(state, "city", city, cid, reason)
        elif reason == REASON_MARITAL:
            _avoid(state, "marital", int(candidate["marital"]), cid, reason)
        elif reason == REASON_CHILDREN:
            if _known("children", int(candidate["children"])):
                _avoid(state, "children", int(candidate["children"]), cid, reason)
        elif reason in (REASON_NOT_MY_TYPE, REASON_APPEARANCE):
            dims = ALL_DIMS if reason == REASON_NOT_MY_TYPE else BODY_DIMS
            values = {a: v for a, v in features_of(candidate).items() if a in dims}
            state.repellers.append(Reference(values, dims, cid, reason))
            while len(state.repellers) > tuning.max_references:
                state.repellers.popleft()
    return bounds


def validate_reasons(reasons: tuple[str, ...]) -> None:
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise ValueError(f"unknown feedback reasons {unknown}; expected some of {REASONS}")


def _avoid(state: FeedbackState, attr: str, code: int, cid: int, reason: str) -> None:
    codes = state.avoid.setdefault(attr, {})
    previous = codes.get(code)
    codes[code] = _FIRST_STRENGTH if previous is None else min(1.0, previous + _STRENGTH_STEP)
    state.origin[f"{attr}:{code}"] = (cid, reason)


def _relax(
    state: FeedbackState,
    bounds: dict[str, int],
    candidate: Mapping[str, int],
    tuning: FeedbackTuning,
) -> None:
    """A like contradicts any bound or avoidance that would penalise the liked person."""
    for col, attr, side in _BOUND_REASONS.values():
        value = int(candidate[attr])
        if not _known(attr, value):
            continue
        margin = getattr(tuning, _MARGIN_OF[attr])
        if side == "hi" and bounds[col] != FB_NO_HIGH and value > bounds[col] - margin:
            bounds[col] = value + margin
        elif side == "lo" and bounds[col] != FB_NO_LOW and value < bounds[col] + margin:
            bounds[col] = value - margin
    for attr in ("prov", "city", "marital", "children"):
        codes = state.avoid.get(attr)
        if codes is not None:
            codes.pop(int(candidate[attr]), None)
            if not codes:
                del state.avoid[attr]
