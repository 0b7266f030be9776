"""Structured explanations (and their Chinese text) for a scored pair.

Credits come from the same vectorised code that ranked the pair (``Scorer.evaluate`` with
``detail=True``); this module only turns numbers into ``Explanation`` items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Final

from . import messages as msg
from .encoding import AGE_NO_HIGH, BODY_NO_HIGH, CRITERION_BIT
from .feedback import FeedbackState
from .messages import render
from .results import A_TO_B, B_TO_A, BOTH, Direction, Explanation, Outcome, RuleFailure

Row = Mapping[str, int]


def _outcome(credit: float) -> Outcome:
    if credit >= 1.0:
        return "ok"
    if credit == 0.0:
        return "fail"
    return "partial"


def _span(lo: int | None, hi: int | None, unit: str) -> str:
    if lo is not None and hi is not None:
        return render("span.both", low=lo, high=hi, unit=unit)
    if lo is not None:
        return render("span.low", low=lo, unit=unit)
    return render("span.high", high=hi, unit=unit)


def _range_bounds(name: str, owner: Row) -> tuple[int | None, int | None]:
    cols = {"age": ("p_age_lo", "p_age_hi"), "height": ("p_h_lo", "p_h_hi")}
    lo_col, hi_col = cols.get(name, ("p_w_lo", "p_w_hi"))
    no_high = AGE_NO_HIGH if name == "age" else BODY_NO_HIGH
    lo, hi = owner[lo_col], owner[hi_col]
    return (lo if lo > 0 else None), (hi if hi < no_high else None)


def _bits(mask: int, labels: tuple[str, ...]) -> str:
    return "、".join(label for i, label in enumerate(labels) if mask >> i & 1)


def criterion_text(
    name: str, owner: Row, other: Row, credit: float, names: Mapping[int, str] | None
) -> str:
    """Why ``other`` earns ``credit`` under ``owner``'s preference ``name``."""
    who = msg.pronoun(owner["sex"])
    outcome = "unknown" if credit < 0 else _outcome(credit)
    if name in ("age", "height", "weight"):
        lo, hi = _range_bounds(name, owner)
        unit = msg.UNITS[name]
        span = _span(lo, hi, unit)
        value = other[name]
        label = msg.CRITERION_LABELS[name]
        if outcome == "unknown":
            return render("range.unknown", owner=who, label=label, span=span)
        if outcome == "ok":
            return render("range.ok", owner=who, label=label, span=span, value=value, unit=unit)
        below = lo is not None and value < lo
        dist = lo - value if below else value - (hi if hi is not None else value)
        key = f"range.{'below' if below else 'above'}.{outcome}"
        return render(key, owner=who, label=label, span=span, value=value, unit=unit, dist=dist)
    if name in ("education", "income"):
        labels = msg.EDUCATION_LABELS if name == "education" else msg.INCOME_LABELS
        minimum = owner["p_edu" if name == "education" else "p_inc"]
        value = other["edu" if name == "education" else "income"]
        if outcome == "unknown":
            return render(f"{name}.unknown", owner=who, minimum=labels[minimum])
        return render(
            f"{name}.{outcome}",
            owner=who,
            minimum=labels[minimum],
            value=labels[value],
            dist=minimum - value,
        )
    if name in ("smoking", "drinking"):
        limits = msg.SMOKING_LIMITS if name == "smoking" else msg.DRINKING_LIMITS
        labels = msg.SMOKING_LABELS if name == "smoking" else msg.DRINKING_LABELS
        limit = limits[owner["p_smoke" if name == "smoking" else "p_drink"]]
        if outcome == "unknown":
            return render("habit.unknown", owner=who, limit=limit)
        value = labels[other["smoke" if name == "smoking" else "drink"]]
        return render(f"habit.{outcome}", owner=who, limit=limit, value=value)
    if name in ("marital", "children"):
        labels = msg.MARITAL_LABELS if name == "marital" else msg.CHILDREN_LABELS
        allowed = _bits(owner[f"p_{name}"], labels)
        if outcome == "unknown":
            return render("choice.unknown", owner=who, allowed=allowed)
        return render(f"choice.{outcome}", owner=who, allowed=allowed, value=labels[other[name]])
    if name in ("car", "house"):
        thing, lack = msg.REQUIRED_LABELS[name]
        key = "unknown" if outcome == "unknown" else ("ok" if credit >= 1.0 else "fail")
        return render(f"required.{key}", owner=who, thing=thing, lack=lack)
    if name == "region":
        if owner["p_hukou"]:
            place = msg.place_name(owner["p_prov"] * 10000, names)
            if outcome == "unknown":
                return render("hukou.unknown", owner=who, place=place)
            theirs = msg.place_name(other["hukou"] * 10000, names)
            key = "ok" if credit >= 1.0 else "fail"
            return render(f"hukou.{key}", owner=who, place=place, theirs=theirs)
        code = owner["p_city"] * 100 if owner["p_city"] else owner["p_prov"] * 10000
        place = msg.place_name(code, names)
        if outcome == "unknown":
            return render("region.unknown", owner=who, place=place)
        theirs_code = other["city"] * 100 if other["city"] else other["prov"] * 10000
        theirs = msg.place_name(theirs_code, names)
        return render(f"region.{outcome}", owner=who, place=place, theirs=theirs)
    # ethnicity / religion: "same as mine"
    label = msg.CRITERION_LABELS[name]
    if outcome == "unknown":
        return render("same.unknown", owner=who, label=label)
    if name == "ethnicity":
        value = msg.ETHNICITY_LABELS.get(other["eth"], str(other["eth"]))
        mine = msg.ETHNICITY_LABELS.get(owner["eth"], str(owner["eth"]))
    else:
        value, mine = msg.RELIGION_LABELS[other["rel"]], msg.RELIGION_LABELS[owner["rel"]]
    key = "ok" if credit >= 1.0 else "fail"
    return render(f"same.{key}", owner=who, label=label, value=value, mine=mine)


def _with_must(text: Callable[[], str]) -> str:
    return text() + msg.TEMPLATES["must"]


_KEYS: Final = {name: (f"imp_{name}", CRITERION_BIT[name]) for name in CRITERION_BIT}


def criterion_item(
    name: str,
    direction: Direction,
    owner: Row,
    other: Row,
    credit: float,
    unknown_credit: float,
    names: Mapping[int, str] | None,
) -> Explanation:
    imp_key, bit = _KEYS[name]
    imp = owner[imp_key]
    soft = unknown_credit if credit < 0 else credit
    points = round(100.0 * imp * soft / owner["imp_sum"], 2) if imp > 0 else 0.0
    outcome: Outcome = "ok" if soft >= 1.0 else ("fail" if soft == 0.0 else "partial")
    if owner["must"] & bit:
        render = partial(_with_must, partial(criterion_text, name, owner, other, credit, names))
        return Explanation(name, direction, outcome, points, True, render)
    render = partial(criterion_text, name, owner, other, credit, names)
    return Explanation(name, direction, outcome, points, False, render)


def must_failure(
    name: str,
    direction: Direction,
    owner: Row,
    other: Row,
    credit: float,
    names: Mapping[int, str] | None,
) -> RuleFailure:
    text = render(
        "rule.must",
        text=criterion_text(name, owner, other, credit, names),
        must=msg.TEMPLATES["must"],
    )
    return RuleFailure("must", direction, name, text)


def window_failure(direction: Direction, owner: Row, other: Row) -> RuleFailure:
    lo, hi = _range_bounds("age", owner)
    text = render(
        "rule.age_window",
        value=other["age"],
        owner=msg.pronoun(owner["sex"]),
        span=_span(lo, hi, msg.UNITS["age"]),
    )
    return RuleFailure("age_window", direction, "age", text)


def _bound_detail(col: str, value: int) -> str:
    if col == "fb_edu_lo":
        shown: object = msg.EDUCATION_LABELS[max(0, min(value, 6))]
    elif col == "fb_inc_lo":
        shown = msg.INCOME_LABELS[max(0, min(value, 7))]
    elif col == "fb_smoke_hi":
        shown = msg.SMOKING_LABELS[max(0, min(value, 2))]
    elif col == "fb_drink_hi":
        shown = msg.DRINKING_LABELS[max(0, min(value, 2))]
    else:
        shown = value
    return msg.BOUND_DETAILS[col].format(value=shown)


def _avoid_detail(attr: str, code: int, names: Mapping[int, str] | None) -> str:
    if attr == "prov":
        return "在" + msg.place_name(code * 10000, names)
    if attr == "city":
        return "在" + msg.place_name(code * 100, names)
    if attr == "marital":
        return msg.MARITAL_LABELS[code]
    return msg.CHILDREN_LABELS[code]


def feedback_items(
    detail: Mapping[str, float],
    member: Row,
    candidate: Row,
    mine: FeedbackState | None,
    theirs: FeedbackState | None,
    moved: tuple[float, float, float],
    names: Mapping[int, str] | None,
) -> list[Explanation]:
    """Feedback explanation items whose points add up to the feedback component.

    ``detail`` maps the per-source keys of ``Scorer.evaluate(detail=True)`` to this
    candidate's values; ``moved``: the points the member's own reasons to decline, their
    likes and the candidate's reasons against the member moved the score (the yes-model
    weighs them, `Engine._feedback_points`).  Each group's points are shared among its
    sources by their size."""
    items: list[Explanation] = []
    who = msg.pronoun(member["sex"])
    declined, liked, reciprocal = moved
    own = {k: v for k, v in detail.items() if k.startswith("fb:") and k != "fb:like" and v > 0}
    total = sum(own.values())
    for key, value in own.items():
        points = round(declined * value / total, 2)
        text = partial(_moved, partial(_own_text, key, who, member, candidate, mine, names), points)
        items.append(Explanation("feedback", A_TO_B, "fail", points, render=text))
    like = detail.get("fb:like", 0.0)
    if like > 0.005:
        points = round(liked, 2)
        text = partial(_moved, partial(render, "fb.like", owner=who), points)
        items.append(Explanation("feedback", A_TO_B, "ok", points, render=text))
    recip = {k: v for k, v in detail.items() if k.startswith("fbr:") and v > 0}
    total = sum(recip.values())
    for key, value in recip.items():
        col = key[4:]
        origin = theirs.origin.get(col) if theirs is not None else None
        reason = msg.REASON_LABELS[origin[1]] if origin else ""
        points = round(reciprocal * value / total, 2)
        text = partial(
            _moved,
            partial(
                render,
                "fb.reciprocal",
                reason=reason,
                detail=_bound_detail(col, candidate[col]),
                owner=who,
            ),
            points,
        )
        items.append(Explanation("feedback", B_TO_A, "fail", points, render=text))
    return items


def _own_text(
    key: str,
    who: str,
    member: Row,
    candidate: Row,
    mine: FeedbackState | None,
    names: Mapping[int, str] | None,
) -> str:
    origin = mine.origin if mine is not None else {}
    if key.startswith("fb:avoid:"):
        attr = key[len("fb:avoid:") :]
        code = candidate[attr]
        reason = origin.get(f"{attr}:{code}", (0, "too_far"))[1]
        return render(
            "fb.avoid",
            owner=who,
            reason=msg.REASON_LABELS[reason],
            detail=_avoid_detail(attr, code, names),
        )
    if key.startswith("fb:repeller:"):
        index = int(key.rsplit(":", 1)[1])
        ref = mine.repellers[index] if mine is not None and index < len(mine.repellers) else None
        reason = ref.reason if ref is not None else "not_my_type"
        return render("fb.repeller", owner=who, reason=msg.REASON_LABELS[reason])
    col = key[3:]
    reason = origin.get(col, (0, ""))[1]
    return render(
        "fb.bound",
        owner=who,
        reason=msg.REASON_LABELS.get(reason, ""),
        detail=_bound_detail(col, member[col]),
    )


def _collab_text(who: str, flags: tuple[int, ...], points: float) -> str:
    """Names what moved the behaviour part: the candidate's own answers, how often they are
    chosen and say yes, and what people with similar answers did."""
    direct, taste, reciprocal, appeal, openness, own_open, own_appeal = (tuple(flags) + (0,) * 7)[
        :7
    ]
    parts = []
    if direct:
        parts.append(render("collab.direct", owner=who))
    if appeal:
        parts.append(render("collab.appeal_high" if appeal > 0 else "collab.appeal_low"))
    if openness:
        parts.append(render("collab.open" if openness > 0 else "collab.picky"))
    if taste:
        parts.append(render("collab.taste" if taste > 0 else "collab.taste_no", owner=who))
    if reciprocal and not direct:
        key = "collab.reciprocal" if reciprocal > 0 else "collab.reciprocal_no"
        parts.append(render(key, owner=who))
    if own_open:
        parts.append(render("collab.own_open" if own_open > 0 else "collab.own_picky", owner=who))
    if own_appeal:
        key = "collab.own_appeal_high" if own_appeal > 0 else "collab.own_appeal_low"
        parts.append(render(key, owner=who))
    return render("collab.moved", points=points, why="；".join(parts))


def _moved(text: Callable[[], str], points: float) -> str:
    """A feedback item's sentence, saying how far it moved the score."""
    return render("fb.moved", points=points, why=text())


def _shared_text(words: Callable[[], list[str]], labels: Mapping[str, str], points: float) -> str:
    shown = list(dict.fromkeys(labels.get(w, w) for w in words()))  # codes → labels, once
    return render("text.shared", words="、".join(shown), points=points)


def component_items(
    member: Row,
    text_points: float,
    shared_words: Callable[[], list[str]],
    collab_points: float,
    collab_flags: tuple[int, ...],
    boost_points: float,
    pinned: bool,
    tag_labels: Mapping[str, str] | None = None,
) -> list[Explanation]:
    who = msg.pronoun(member["sex"])
    items: list[Explanation] = []
    if text_points > 0.005:
        points = round(text_points, 2)
        text = partial(_shared_text, shared_words, tag_labels or {}, points)
        items.append(Explanation("text", BOTH, "ok", points, render=text))
    if abs(collab_points) > 0.005:  # behaviour can lower a score too: say so
        points = round(collab_points, 2)
        text = partial(_collab_text, who, collab_flags, points)
        outcome = "ok" if points > 0 else "partial"
        items.append(Explanation("collaborative", BOTH, outcome, points, render=text))
    if pinned:
        text = partial(render, "boost.pin")
        items.append(Explanation("boost", BOTH, "ok", round(boost_points, 2), render=text))
    elif boost_points:
        text = partial(render, "boost.points", points=boost_points)
        outcome: Outcome = "ok" if boost_points > 0 else "fail"
        items.append(Explanation("boost", BOTH, outcome, round(boost_points, 2), render=text))
    return items


def rule_text(rule: str, who: str, **values: object) -> str:
    return render(f"rule.{rule}", who=who, **values)
