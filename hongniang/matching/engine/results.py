"""What the engine returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple

Direction = Literal["a_to_b", "b_to_a", "both"]
Outcome = Literal["ok", "partial", "fail"]

# a_to_b: the candidate judged against the member's preferences (and the candidate's own
# eligibility); b_to_a: the member judged against the candidate's preferences.
A_TO_B: Final = "a_to_b"
B_TO_A: Final = "b_to_a"
BOTH: Final = "both"


def _no_text() -> str:
    return ""


class Explanation(NamedTuple):
    """One line of "why": a criterion in one direction, or a score component.

    criterion: 'age' … 'religion' (see CRITERIA), or 'text', 'collaborative', 'feedback',
        'boost'.
    points: for a criterion, its contribution to that direction's fit (the points of one
        direction sum to fit_a_to_b / fit_b_to_a); for a component, points of the score.
    text: the sentence for people (zh-CN), rendered on access — most results are never
        displayed, so recommend does not pay for their text.  (A NamedTuple because
        thousands are built per recommend and frozen dataclasses are slow to construct.)
    """

    criterion: str
    direction: Direction
    outcome: Outcome
    points: float
    must: bool = False
    render: Callable[[], str] = _no_text

    @property
    def text(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return (
            f"Explanation({self.criterion!r}, {self.direction!r}, {self.outcome!r}, "
            f"{self.points!r}, must={self.must!r}, text={self.text!r})"
        )

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """A hard rule the pair fails.

    rule: 'self' | 'sex' | 'status' | 'married' | 'legal_age' | 'must' | 'age_window'.
    direction: a_to_b when the candidate fails (the member's must, the candidate's status…),
        b_to_a when the member does.
    criterion: for 'must' / 'age_window', the criterion concerned.
    """

    rule: str
    direction: Direction
    criterion: str | None
    text: str


class Components(NamedTuple):
    """Score points by source; their sum, clipped to 0..100, is the score.  (A NamedTuple:
    a recommend makes one per result, and frozen dataclasses are slow to construct.)"""

    fit: float = 0.0
    feedback: float = 0.0
    collaborative: float = 0.0
    text: float = 0.0
    boost: float = 0.0

    @property
    def total(self) -> float:
        return self.fit + self.feedback + self.collaborative + self.text + self.boost


@dataclass(frozen=True, slots=True)
class Result:
    """A candidate for a member.

    score: 0..100 (the clipped sum of components); pinned results are listed first.
    fit_a_to_b: how well the candidate meets the member's preferences, 0..100.
    fit_b_to_a: how well the member meets the candidate's preferences, 0..100.
    eligible: False when the pair fails a hard rule (only ``Engine.score`` returns such
        results); failed_rules then says which, and score is 0.
    explanations: criterion items in both directions plus component items.  They are
        computed from a snapshot taken when the result was made, and turned into items on
        first access, so results that are never displayed cost little.
    """

    member_id: int
    candidate_id: int
    score: float
    fit_a_to_b: float
    fit_b_to_a: float
    components: Components
    boosted: bool = False
    pinned: bool = False
    eligible: bool = True
    failed_rules: tuple[RuleFailure, ...] = ()
    build_explanations: Callable[[], tuple[Explanation, ...]] = field(
        default=tuple, repr=False, compare=False
    )
    # Built on first access (a plain default: a default_factory costs every result a call).
    _explained: tuple[Explanation, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def explanations(self) -> tuple[Explanation, ...]:
        if self._explained is None:
            object.__setattr__(self, "_explained", self.build_explanations())
        return self._explained  # type: ignore[return-value]

    def explained(self, direction: Direction) -> tuple[Explanation, ...]:
        return tuple(e for e in self.explanations if e.direction == direction)
