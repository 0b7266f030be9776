"""Engine configuration: hard rules, component weights, partial-credit tolerances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

# Interaction kinds and how much each says about the actor liking the target.  A stopped
# appointment is evidence against, so it is negative.
INTERACTION_KINDS: Final = (
    "view",
    "like",
    "message",
    "reply",
    "appointment_held",
    "appointment_continue",
    "appointment_stop",
)
DEFAULT_INTERACTION_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "view": 0.1,
        "like": 1.0,
        "message": 1.5,
        "reply": 2.0,
        "appointment_held": 3.0,
        "appointment_continue": 4.0,
        "appointment_stop": -3.0,
    }
)

Pairing = Literal["opposite", "same", "any"]


@dataclass(frozen=True, slots=True)
class Rules:
    """Hard rules: a pair failing any of them is never recommended.

    sex_pairing: 'opposite' (default), 'same' (same-sex agency) or 'any'.
    min_age_male / min_age_female: legal marriage age per sex (PRC: 22 / 20).
    exclude_married: members whose marital status is 'married' are never matched.
    age_window: a candidate whose age earns zero credit under the other side's (soft) age
        preference is not considered — this is what turns the age preference into a
        contiguous slice of the birth-date index.  A matchmaker boost lifts it.
    unknown_fails_must: an unknown attribute cannot satisfy a must-have preference.
    Status (only 'active', not hidden) is always required on both sides.
    """

    sex_pairing: Pairing = "opposite"
    min_age_male: int = 22
    min_age_female: int = 20
    exclude_married: bool = True
    age_window: bool = True
    unknown_fails_must: bool = True

    def __post_init__(self) -> None:
        if self.sex_pairing not in ("opposite", "same", "any"):
            raise ValueError(f"sex_pairing {self.sex_pairing!r}")


@dataclass(frozen=True, slots=True)
class Weights:
    """Points (of 100) each score component can contribute.

    fit: points of a pair that meets both sides' stated preferences fully, with no
        history (the mutual probability of the `Model`, scaled so that pair gets ``fit``).
    text: self-description/hobby similarity × text.
    collaborative: > 0 turns on the behaviour part (rates and collaborative signal through
        the `Model`, on the same scale as ``fit``: what they add to or take from the
        mutual probability); 0 turns it off.

    What the members' answers with reasons teach (反选: declined for a reason, liked) is
    no longer a fixed number of points: it moves the same directional probabilities, with
    the `Model`'s ``declined`` and ``liked`` coefficients, which the learning step fits.
    """

    fit: float = 80.0
    text: float = 6.0
    collaborative: float = 8.0

    def __post_init__(self) -> None:
        for name in ("fit", "text", "collaborative"):
            if getattr(self, name) < 0:
                raise ValueError(f"weight {name} must be >= 0")


@dataclass(frozen=True, slots=True)
class Model:
    """How likely one member is to say yes to another, per direction (a logistic model):

        p(A→B) = σ(intercept + fit·fit_ab + appeal·appeal_B + selectivity·openness_A
                   + collaborative·taste_ab - declined·declined_ab + liked·liked_ab)

    fit_ab: how well B meets A's stated preferences (0..1); appeal_B / openness_A: logit
    offsets of B's smoothed chosen-rate and A's smoothed yes-rate from the agency's average
    (0 without answers); taste_ab: the normalised collaborative signal (-1..1);
    declined_ab: how much B has of what A declined people for, by the reasons A gave
    (0..1: an age at or beyond A's "too old", A's rejected region, a look-alike of someone
    A found "not my type"); liked_ab: how much B resembles the people A said yes to (0..1).
    The same ``declined`` weighs B's reasons against A in p(B→A).  The two
    directions combine as the geometric mean √(p(A→B)·p(B→A)) (the product, on the
    probability scale), so a miss on a soft criterion lowers the score and never zeroes
    it; only must-haves exclude.  The defaults: a candidate meeting nothing the member
    asked for is accepted 20 % of the time, one meeting everything 80 %; what the member
    declined people for, fully present, lowers the logit by 2.0 (a perfect pair's 80
    points become 53), resembling the liked ones raises it by up to 1.0 (+5.6 points).
    The learning step replaces them with coefficients fitted to the agency's outcomes;
    with too few outcomes the defaults stay.
    """

    intercept: float = -1.3863  # logit 0.2
    fit: float = 2.7726  # + this at a perfect fit: logit 0.8
    appeal: float = 1.0
    selectivity: float = 1.0
    collaborative: float = 1.5
    declined: float = 2.0
    liked: float = 1.0
    # Pseudo-answers of the Beta prior of the rates (None: `EngineConfig.rate_prior`): the
    # learning step picks how far a member's few answers are trusted.
    rate_prior: float | None = None

    def __post_init__(self) -> None:
        if self.fit <= 0:
            raise ValueError("the fit coefficient must be > 0 (a better fit never lowers)")
        if self.rate_prior is not None and not 0 < self.rate_prior <= 1000:
            raise ValueError("rate_prior must be in (0, 1000]")
        for name in ("appeal", "selectivity", "collaborative", "declined", "liked"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How fast partial credit decays for a near miss (credit reaches 0 at the tolerance).

    age_years / height_cm / weight_kg: distance outside a range at which credit is 0
        (credit falls linearly: age 2 years outside with 5 → 0.6).
    education_step / income_step / habit_step: credit lost per level below a minimum
        (education, income) or above a maximum (smoking, drinking).
    region_other_city: credit for the right province but another city.
    children_elsewhere: credit for children living elsewhere when only 'none' is wanted.
    unknown: credit for an attribute the other person left blank.
    """

    age_years: int = 5
    height_cm: int = 10
    weight_kg: int = 10
    education_step: float = 0.5
    income_step: float = 1 / 3
    habit_step: float = 0.5
    region_other_city: float = 0.5
    children_elsewhere: float = 0.5
    unknown: float = 0.5

    def __post_init__(self) -> None:
        if min(self.age_years, self.height_cm, self.weight_kg) < 1:
            raise ValueError("range tolerances must be >= 1")
        for name in ("region_other_city", "children_elsewhere", "unknown"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class FeedbackTuning:
    """How rejections and likes are turned into penalties and bonuses.

    margin_*: a rejection for 'too_old' at age x penalises ages >= x fully and fades out
        over this many units below x (and symmetrically for the other bounds).
    max_references: how many 'not_my_type'/'appearance' rejections are remembered as
        look-alike repellers (the most recent ones).
    """

    margin_age: int = 2
    margin_height: int = 4
    margin_level: int = 1
    max_references: int = 3
    max_likes: int = 20


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """All tunables of the engine; the defaults are the product's defaults."""

    rules: Rules = field(default_factory=Rules)
    weights: Weights = field(default_factory=Weights)
    tolerances: Tolerances = field(default_factory=Tolerances)
    feedback: FeedbackTuning = field(default_factory=FeedbackTuning)
    interaction_weights: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_INTERACTION_WEIGHTS)
    )
    # Tokens kept per member for text similarity (hobbies and personality tags first).
    text_tokens: int = 16
    # Collaborative: neighbours followed per hop; and the Beta prior of the yes- and
    # chosen-rates, in pseudo-answers at the agency's average (a new member starts there).
    collab_fanout: int = 50
    rate_prior: float = 10.0
    # Most rows whose text similarity recommend computes (see Engine._text_points): text
    # ranks exactly unless more near-ties than this compete for the top k.
    text_budget: int = 8192
    # Changed rows are kept in a small unsorted buffer; past this many the sorted view of
    # that sex is rebuilt (lazily, at the next recommend).
    rebuild_threshold: int = 2048

    def __post_init__(self) -> None:
        missing = set(INTERACTION_KINDS) - set(self.interaction_weights)
        if missing:
            raise ValueError(f"interaction_weights lacks {sorted(missing)}")
        if not 1 <= self.text_tokens <= 64:
            raise ValueError("text_tokens must be in 1..64")
        object.__setattr__(
            self, "interaction_weights", MappingProxyType(dict(self.interaction_weights))
        )
