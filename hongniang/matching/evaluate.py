"""Offline evaluation of the matching engine on a realistic synthetic population.

    python -m hongniang.matching.evaluate [--members 1000 --seed 7 --per-member 24]

The population is built so that stated preferences alone cannot win, as in published
studies of real dating (stated preferences predict little of who likes whom; how selective
a person is and how often a person is chosen carry most of the signal).  Every member has

* a latent *appeal* (how often others say yes: the partner effect) and *openness* (how often
  they say yes: the actor effect; popular members tend to be pickier);
* a hidden taste: a latent trait vector that others react to and a taste vector for the
  traits of others, neither of which is in the profile (the lifestyle, visible through
  hobbies and the self-description, explains a little of it);
* a few hidden deal-breakers (age, height, education, income, region, smoking, marital
  status, children) of modest weight, which the stated preferences describe only partly
  (ranges shifted, criteria left out, importances guessed).

The agency proposes eligible pairs (both sides' must-haves met) to both sides over time;
each side answers yes or no (about 40 % yes, about one pair in six mutual); a "no" names a
reason only when a visible deal-breaker exists, and then only half the time; a mutual yes
becomes an appointment that ends "continue" or "stop".

Reported for the held-out pairs, with mutual yes as the label: AUC over all pairs, the
mean per-member AUC, and the success of each member's top-1 and top-3 candidates (share
that were mutual), in three settings: without history (nothing answered yet), with
history (a random quarter of the pairs held out, the rest known) and a strict temporal
split (only answers before the cut known; members who joined late are cold).  Variants:
random order, age difference, stated-preference fit, the product of the smoothed yes- and
chosen-rates, a learned model (logistic regression on the pair's visible attributes,
trained on the known answers), the strong logistic regression a reviewer would fit (the
same with both members' smoothed rates as log-odds, their sums and products), and the
engine.  `bench/quality_sweep.py` runs it over seeds and population regimes (`Regime`).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from hongniang.matching.engine import (
    ChoicePref,
    Engine,
    EngineConfig,
    MaxPref,
    MinPref,
    Preferences,
    Profile,
    RangePref,
    RegionPref,
    RequiredPref,
    Weights,
)
from hongniang.matching.engine.learning import Learned, Outcome, auc, fit_logistic, learn

TODAY = date(2025, 6, 1)
SETTINGS = ("no history", "history", "temporal")
VARIANTS = ("random", "age difference", "stated fit", "rates product", "learned model", "engine")
# The stronger baseline (`_strong_logistic`), reported by `run_evaluation(strong=True)`.
STRONG = "strong logistic"

# Hidden utility: u(A→B) = APPEAL·appeal_B + OPENNESS·openness_A + TASTE·taste_A·trait_B
#   + STYLE·[same lifestyle] - BREAKS·Σ deal-breaker severities + noise;  yes when u > cut.
APPEAL = 1.0
OPENNESS = 1.0
TASTE = 1.0
STYLE = 0.25
BREAKS = 0.2
NOISE = 0.6
TRAIT_DIM = 4
YES_RATE = 0.40
PICKY = -0.4  # openness = PICKY·appeal + noise: popular members tend to be pickier


@dataclass(frozen=True, slots=True)
class Regime:
    """How a population answers (the defaults are the constants above, the evaluation's
    own population).  `bench/quality_sweep.py` varies them to regimes real agencies may
    have: yes_rate; appeal / openness (how much who a person is and how selective they are
    weigh); taste (the hidden taste); breaks (the deal-breakers); picky (the correlation of
    appeal and openness); cold_share (members whose answers are unknown: new members)."""

    yes_rate: float = YES_RATE
    appeal: float = APPEAL
    openness: float = OPENNESS
    taste: float = TASTE
    breaks: float = BREAKS
    picky: float = PICKY
    cold_share: float = 0.0


_CITIES = (440300, 440100, 441900, 310100, 320500, 330100)  # 深圳 广州 东莞 上海 苏州 杭州
_CITY_P = np.array([0.25, 0.2, 0.1, 0.2, 0.1, 0.15])
_PROVINCES = (44, 31, 32, 33, 43, 36)
_LIFESTYLES = (
    (
        ("爬山", "徒步", "露营", "骑行"),
        ("外向", "阳光"),
        ("周末常去爬山徒步", "喜欢露营看星星", "热爱骑行", "向往大自然"),
    ),
    (
        ("读书", "书法", "音乐", "绘画"),
        ("安静", "文艺"),
        ("喜欢读书写字", "平时练习书法", "爱听古典音乐", "偶尔画画"),
    ),
    (
        ("烹饪", "烘焙", "宠物", "养花"),
        ("温柔", "顾家"),
        ("喜欢下厨做饭", "会烘焙甜点", "家里养了猫", "阳台种满了花"),
    ),
    (
        ("健身", "跑步", "游泳", "篮球"),
        ("活泼", "自律"),
        ("坚持健身跑步", "每周游泳", "经常打篮球", "参加过马拉松"),
    ),
    (
        ("电影", "游戏", "动漫", "唱歌"),
        ("幽默", "随和"),
        ("喜欢看电影追剧", "下班玩玩游戏", "喜欢动漫", "周末和朋友唱歌"),
    ),
    (
        ("旅游", "摄影", "美食", "自驾"),
        ("开朗", "独立"),
        ("喜欢旅游摄影", "到处品尝美食", "喜欢自驾游", "去过很多城市"),
    ),
)
_GENERIC = ("性格随和", "工作稳定", "孝顺父母", "认真对待感情", "生活规律", "真诚善良")


# --- population -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Hidden:
    """What a member really is and wants (the engine never sees this)."""

    age_lo: int
    age_hi: int
    height_min: int  # 0 = none
    height_max: int  # 999 = none
    edu_min: int
    income_min: int
    same_province: bool
    same_city: bool
    smoke_max: int
    singles_only: bool
    no_children: bool
    appeal: float
    openness: float
    trait: np.ndarray
    taste: np.ndarray


@dataclass(slots=True)
class Population:
    profiles: list[Profile]
    hidden: list[Hidden]
    lifestyle: np.ndarray
    joined: np.ndarray  # 0..1, when each member joined the agency
    cut: float  # the utility above which an answer is yes
    rng: np.random.Generator
    regime: Regime = Regime()

    def by_id(self, member_id: int) -> Profile:
        return self.profiles[member_id]


def _age(p: Profile) -> int:
    return (
        TODAY.year
        - p.birth_date.year
        - ((TODAY.month, TODAY.day) < (p.birth_date.month, p.birth_date.day))
    )


def make_population(n: int, seed: int, regime: Regime | None = None) -> Population:
    regime = regime or Regime()
    rng = np.random.default_rng(seed)
    sex = np.array(["M", "F"])[np.arange(n) % 2]
    male = sex == "M"
    age = np.clip(np.round(rng.normal(31, 5, n)), 20, 48).astype(int)
    age[male] = np.maximum(age[male], 22)
    height = np.round(np.where(male, rng.normal(172, 6, n), rng.normal(161, 5, n))).astype(int)
    weight = np.round(height**2 / 10000 * rng.normal(21.5, 2.2, n)).astype(int)
    edu = rng.choice(7, n, p=[0.02, 0.06, 0.17, 0.27, 0.32, 0.13, 0.03])
    income = np.clip(np.round(edu * 0.8 + (age - 25) * 0.12 + rng.normal(0, 1.1, n)), 0, 7).astype(
        int
    )
    marital = rng.choice(3, n, p=[0.8, 0.17, 0.03])
    kids = np.where(marital == 0, 0, rng.choice(3, n, p=[0.4, 0.3, 0.3]))
    city = rng.choice(len(_CITIES), n, p=_CITY_P)
    house = rng.random(n) < 0.15 + 0.08 * income
    car = rng.random(n) < 0.1 + 0.08 * income
    smoke = np.where(
        male, rng.choice(3, n, p=[0.55, 0.3, 0.15]), rng.choice(3, n, p=[0.93, 0.05, 0.02])
    )
    lifestyle = rng.integers(0, len(_LIFESTYLES), n)
    # Popular members tend to be pickier (appeal and openness correlate negatively).
    appeal = rng.normal(0, 1, n)
    openness = regime.picky * appeal + rng.normal(0, 0.9, n)
    trait = rng.normal(0, 1, (n, TRAIT_DIM))
    trait[:, 0] += 0.5 * (lifestyle - 2.5) / 1.7  # the lifestyle shows a little of the trait
    taste = 0.7 * trait + rng.normal(0, 0.7, (n, TRAIT_DIM))  # people like people like them

    profiles: list[Profile] = []
    hidden: list[Hidden] = []
    for i in range(n):
        m = bool(male[i])
        style = _LIFESTYLES[lifestyle[i]]
        other = _LIFESTYLES[rng.integers(0, len(_LIFESTYLES))]
        hobbies = set(rng.choice(style[0], 2, replace=False)) | {str(rng.choice(other[0]))}
        about = "，".join(
            [
                *rng.choice(style[2], 2, replace=False),
                str(rng.choice(_GENERIC)),
                str(rng.choice(other[2])),
            ]
        )
        h = _hidden_taste(
            rng,
            m,
            int(age[i]),
            int(height[i]),
            int(edu[i]),
            int(income[i]),
            int(marital[i]),
            int(smoke[i]),
        )
        h.appeal, h.openness = float(appeal[i]), float(openness[i])
        h.trait, h.taste = trait[i], taste[i]
        hidden.append(h)
        code = _CITIES[city[i]]
        hukou = code // 10000 * 10000 if rng.random() < 0.7 else int(rng.choice(_PROVINCES)) * 10000
        born = TODAY - timedelta(days=int(age[i]) * 365 + int(rng.integers(0, 360)))
        profiles.append(
            Profile(
                id=i,
                sex=str(sex[i]),
                birth_date=born,
                height_cm=int(height[i]),
                weight_kg=int(weight[i]),
                education=int(edu[i]),
                income=int(income[i]),
                marital=("single", "divorced", "widowed")[marital[i]],
                children=("none", "not_with_me", "with_me")[kids[i]],
                city=code,
                hukou_province=hukou,
                house=bool(house[i]),
                car=bool(car[i]),
                smoking=int(smoke[i]),
                drinking=int(rng.choice(3, p=[0.5, 0.4, 0.1])),
                ethnicity=1 if rng.random() < 0.92 else int(rng.integers(2, 10)),
                religion=0 if rng.random() < 0.85 else int(rng.integers(1, 3)),
                hobbies=frozenset(hobbies),
                personality=frozenset(rng.choice(style[1], 1)),
                about=about,
                prefs=_stated(rng, h, m, code),
            )
        )
    pop = Population(profiles, hidden, lifestyle, rng.random(n), 0.0, rng, regime)
    pop.cut = _calibrate(pop, rng)
    return pop


def _calibrate(pop: Population, rng: np.random.Generator) -> float:
    """The cut giving the regime's yes-rate over random opposite-sex pairs."""
    n = len(pop.profiles)
    a = rng.integers(0, n, 6000)
    b = a + 1 + 2 * rng.integers(0, (n - 1) // 2, 6000)  # opposite parity = other sex
    b = b % n
    u = np.array([utility(pop, int(x), int(y)) for x, y in zip(a, b, strict=True)])
    u += rng.normal(0, NOISE, len(u))
    return float(np.quantile(u, 1.0 - pop.regime.yes_rate))


def _hidden_taste(
    rng: np.random.Generator,
    male: bool,
    age: int,
    height: int,
    edu: int,
    income: int,
    marital: int,
    smoke: int,
) -> Hidden:
    if male:
        lo, hi = age - 7 + int(rng.integers(-2, 3)), age + 1 + int(rng.integers(-1, 3))
        h_min, h_max = 0, height + int(rng.integers(-2, 6))
        edu_min, income_min = max(0, edu - 2), 0
        smoke_max = 2
    else:
        lo, hi = age - 2 + int(rng.integers(-2, 2)), age + 6 + int(rng.integers(-2, 4))
        h_min, h_max = height + 6 + int(rng.integers(-3, 8)), 999
        edu_min = max(0, min(edu, 4) - int(rng.integers(0, 2)))
        income_min = max(0, income - int(rng.integers(0, 3))) if rng.random() < 0.7 else 0
        smoke_max = 0 if rng.random() < 0.4 else 1
    lo = max(lo, 22 if not male else 20)
    region = rng.random()
    empty = np.zeros(TRAIT_DIM)
    return Hidden(
        age_lo=lo,
        age_hi=max(hi, lo + 2),
        height_min=h_min,
        height_max=h_max,
        edu_min=edu_min,
        income_min=income_min,
        same_province=region < 0.65,
        same_city=region < 0.25,
        smoke_max=min(2, max(smoke, smoke_max)),
        singles_only=marital == 0 and rng.random() < 0.6,
        no_children=marital == 0 and rng.random() < 0.7,
        appeal=0.0,
        openness=0.0,
        trait=empty,
        taste=empty,
    )


def _stated(rng: np.random.Generator, h: Hidden, male: bool, city: int) -> Preferences:
    """A noisy, incomplete statement of the hidden deal-breakers."""

    def imp() -> int:
        return int(rng.integers(1, 4))

    def maybe(p: float) -> bool:
        return bool(rng.random() < p)

    low = max(18, h.age_lo + int(rng.integers(-3, 3)))
    age = RangePref(
        low,
        max(low + 1, h.age_hi + int(rng.integers(-2, 4))),
        must=maybe(0.1),
        importance=imp(),
    )
    height = None
    if h.height_min and maybe(0.8):
        height = RangePref(
            h.height_min + int(rng.integers(-4, 3)), None, must=maybe(0.1), importance=imp()
        )
    elif h.height_max < 999 and maybe(0.5):
        height = RangePref(None, h.height_max + int(rng.integers(-2, 5)), importance=imp())
    education = None
    if maybe(0.7):
        education = MinPref(
            max(0, h.edu_min + int(rng.integers(-1, 2))), must=maybe(0.15), importance=imp()
        )
    income = (
        MinPref(max(0, h.income_min - int(rng.integers(0, 2))), importance=imp())
        if h.income_min and maybe(0.7)
        else None
    )
    region = None
    if h.same_province and maybe(0.7):
        wanted_city = city if h.same_city and maybe(0.6) else None
        region = RegionPref(city // 10000 * 10000, wanted_city, importance=imp())
    smoking = MaxPref(h.smoke_max, importance=imp()) if h.smoke_max < 2 and maybe(0.7) else None
    marital = (
        ChoicePref(frozenset({"single"}), importance=imp())
        if h.singles_only and maybe(0.7)
        else None
    )
    children = (
        ChoicePref(frozenset({"none"}), importance=imp()) if h.no_children and maybe(0.6) else None
    )
    house = RequiredPref(importance=1) if not male and maybe(0.2) else None
    return Preferences(
        age=age,
        height=height,
        education=education,
        income=income,
        region=region,
        smoking=smoking,
        marital=marital,
        children=children,
        house=house,
    )


# --- hidden utility ------------------------------------------------------------------------------


def violations(pop: Population, a: int, b: int) -> list[tuple[str, float]]:
    """Hidden deal-breakers of ``a`` that ``b`` trips, as (reason, severity)."""
    h, pa, pb = pop.hidden[a], pop.profiles[a], pop.profiles[b]
    out: list[tuple[str, float]] = []
    age = _age(pb)
    if age > h.age_hi:
        out.append(("too_old", 1.0 + 0.3 * (age - h.age_hi)))
    if age < h.age_lo:
        out.append(("too_young", 1.0 + 0.3 * (h.age_lo - age)))
    if pb.height_cm < h.height_min:
        out.append(("too_short", 0.8 + 0.15 * (h.height_min - pb.height_cm)))
    if pb.height_cm > h.height_max:
        out.append(("too_tall", 0.8 + 0.15 * (pb.height_cm - h.height_max)))
    if pb.education < h.edu_min:
        out.append(("education", 0.9 * (h.edu_min - pb.education)))
    if pb.income < h.income_min:
        out.append(("income", 0.6 * (h.income_min - pb.income)))
    if (h.same_province and pb.province != pa.province) or (h.same_city and pb.city != pa.city):
        out.append(("too_far", 1.2 if pb.province != pa.province else 0.8))
    if pb.smoking > h.smoke_max:
        out.append(("smoking", 1.0))
    if h.singles_only and pb.marital != "single":
        out.append(("marital", 1.5))
    if h.no_children and pb.children != "none":
        out.append(("children", 1.5))
    return out


def utility(pop: Population, a: int, b: int) -> float:
    """How much ``a`` likes ``b`` before answer noise (see the constants above)."""
    ha, hb, r = pop.hidden[a], pop.hidden[b], pop.regime
    penalty = min(4.0, sum(sev for _, sev in violations(pop, a, b)))
    same_style = float(pop.lifestyle[a] == pop.lifestyle[b])
    return (
        r.appeal * hb.appeal
        + r.openness * ha.openness
        + r.taste * float(ha.taste @ hb.trait) / math.sqrt(TRAIT_DIM)
        + STYLE * same_style
        - r.breaks * penalty
    )


def answer(
    pop: Population, a: int, b: int, rng: np.random.Generator | None = None
) -> tuple[bool, tuple[str, ...]]:
    """A simulated, noisy answer of ``a`` to ``b``: most "no"s give no reason."""
    rng = rng if rng is not None else pop.rng
    if utility(pop, a, b) + rng.normal(0, NOISE) > pop.cut:
        return True, ()
    found = sorted(violations(pop, a, b), key=lambda v: -v[1])
    if found and rng.random() < 0.5:
        return False, (found[0][0],)
    return False, ()


# --- the agency's history ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    """A pair the agency proposed to both sides, and both answers."""

    a: int
    b: int
    t: float
    yes_ab: bool
    yes_ba: bool
    reasons_ab: tuple[str, ...]
    reasons_ba: tuple[str, ...]
    continued: bool  # a mutual yes whose appointment ended "continue"

    @property
    def mutual(self) -> bool:
        return self.yes_ab and self.yes_ba


def make_history(pop: Population, per_member: int, rng: np.random.Generator) -> list[Pair]:
    """About ``per_member`` proposed pairs per member, each eligible under both sides' hard
    rules, in time order."""
    rules = Engine.build(pop.profiles, EngineConfig(), today=TODAY)
    n = len(pop.profiles)
    # Everyone a member may be proposed (both sides' hard rules): one recommend each,
    # the same set as asking `score(a, b).eligible` pair by pair, and far cheaper.
    eligible: dict[int, set[int]] = {}

    def allowed(a: int, b: int) -> bool:
        if a not in eligible:
            eligible[a] = {r.candidate_id for r in rules.recommend(a, k=n, explain=False)}
        return b in eligible[a]

    seen: set[tuple[int, int]] = set()
    pairs: list[Pair] = []
    for a in rng.permutation(n).tolist():
        wanted, tries = per_member // 2, 0
        while wanted and tries < 20 * per_member:
            tries += 1
            b = int(rng.integers(0, n))
            key = (min(a, b), max(a, b))
            if (a - b) % 2 == 0 or key in seen or not allowed(a, b):
                continue
            seen.add(key)
            wanted -= 1
            yes_ab, why_ab = answer(pop, a, b, rng)
            yes_ba, why_ba = answer(pop, b, a, rng)
            keep = yes_ab and yes_ba and utility(pop, a, b) + utility(pop, b, a) > 2 * pop.cut
            t = max(pop.joined[a], pop.joined[b]) + rng.exponential(0.4)
            pairs.append(Pair(a, b, float(t), yes_ab, yes_ba, why_ab, why_ba, bool(keep)))
    pairs.sort(key=lambda p: p.t)
    return pairs


def outcomes(pairs: Sequence[Pair]) -> list[Outcome]:
    """What the learning step reads: both answers of each pair (with the reasons of a
    "no"), and a "continue" as a yes."""
    out = []
    for p in pairs:
        out += [
            Outcome(p.a, p.b, p.yes_ab, p.t, p.reasons_ab),
            Outcome(p.b, p.a, p.yes_ba, p.t, p.reasons_ba),
        ]
        if p.continued:
            out += [Outcome(p.a, p.b, True, p.t + 0.01), Outcome(p.b, p.a, True, p.t + 0.01)]
    return out


def replay(engine: Engine, pairs: Sequence[Pair]) -> None:
    """Give the engine what the agency records: answers, then appointments."""
    for p in pairs:
        engine.feedback(p.a, p.b, p.yes_ab, p.reasons_ab)
        engine.feedback(p.b, p.a, p.yes_ba, p.reasons_ba)
        if p.mutual:
            kind = "appointment_continue" if p.continued else "appointment_stop"
            for x, y in ((p.a, p.b), (p.b, p.a)):
                engine.interaction(x, y, "appointment_held")
                engine.interaction(x, y, kind)


# --- variants ------------------------------------------------------------------------------------

# A scorer gets the known pairs and returns score(member, candidate).
Scorer = Callable[[int, int], float]


def _answer_counts(pop: Population, known: Sequence[Pair]) -> tuple[np.ndarray, ...]:
    """Per member: answers given, yeses given, answers received, yeses received."""
    n = len(pop.profiles)
    given, said_yes = np.zeros(n), np.zeros(n)
    received, chosen = np.zeros(n), np.zeros(n)
    for p in known:
        for x, y, yes in ((p.a, p.b, p.yes_ab), (p.b, p.a, p.yes_ba)):
            given[x] += 1
            said_yes[x] += yes
            received[y] += 1
            chosen[y] += yes
    return given, said_yes, received, chosen


def _rates(pop: Population, known: Sequence[Pair], prior: float = 10.0) -> np.ndarray:
    """Smoothed yes-rate (column 0) and chosen-rate (column 1) per member, Beta prior at
    the known average with ``prior`` pseudo-answers."""
    given, said_yes, received, chosen = _answer_counts(pop, known)
    mean = said_yes.sum() / max(given.sum(), 1.0) if known else YES_RATE
    return np.stack(
        [(said_yes + prior * mean) / (given + prior), (chosen + prior * mean) / (received + prior)],
        axis=1,
    )


def _rates_product(pop: Population, known: Sequence[Pair]) -> Scorer:
    r = _rates(pop, known)
    return lambda a, b: float(r[a, 0] * r[b, 1] * r[b, 0] * r[a, 1])


def _pair_features(pop: Population, fits: Scorer, a: int, b: int) -> list[float]:
    pa, pb = pop.profiles[a], pop.profiles[b]
    man, woman = (pa, pb) if pa.sex == "M" else (pb, pa)
    hobbies = len(pa.hobbies & pb.hobbies) / max(1, len(pa.hobbies | pb.hobbies))
    return [
        *fits(a, b),
        abs(_age(pa) - _age(pb)),
        _age(man) - _age(woman),
        man.height_cm - woman.height_cm,
        man.education - woman.education,
        man.income - woman.income,
        pa.education + pb.education,
        pa.income + pb.income,
        float(pa.city == pb.city),
        float(pa.province == pb.province),
        hobbies,
    ]


def _learned(pop: Population, known: Sequence[Pair], fits: Callable) -> Scorer:
    rows = [_pair_features(pop, fits, p.a, p.b) for p in known]
    model = fit_logistic(np.array(rows), np.array([p.mutual for p in known]), l2=1.0)
    return lambda a, b: float(model.logit(np.array(_pair_features(pop, fits, a, b)))[0])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _strong_features(
    pop: Population, fits: Callable, odds: np.ndarray, a: int, b: int, own: np.ndarray | None
) -> list[float]:
    """What a reviewer's logistic regression reads: the visible attributes and both fits,
    the log-odds of both members' smoothed yes- and chosen-rates, and their sums and
    products per direction (A's yes-rate with B's chosen-rate, and the reverse)."""
    r = odds[[a, b]] if own is None else own
    ab, ba = r[0, 0] + r[1, 1], r[1, 0] + r[0, 1]  # A says yes to B; B says yes to A
    fit_ab, fit_ba = fits(a, b)
    return [
        *_pair_features(pop, fits, a, b),
        *r.ravel().tolist(),
        ab,
        ba,
        ab + ba,
        ab * ba,
        fit_ab * ba,
        fit_ba * ab,
    ]


def _strong_logistic(pop: Population, known: Sequence[Pair], fits: Callable) -> Scorer:
    """The stronger baseline a reviewer would fit: a logistic regression of the mutual yes
    on visible attributes, both fits and both members' smoothed rates (as log-odds, with
    their per-direction sums and products), trained on the known pairs.  A training pair's
    rates leave out its own two answers (else the rates would contain the label)."""
    prior = 10.0
    given, said_yes, received, chosen = _answer_counts(pop, known)
    mean = said_yes.sum() / max(given.sum(), 1.0)

    def rates(a: int, b: int, drop: Pair | None) -> np.ndarray:
        out = np.zeros((2, 2))
        for row, x in enumerate((a, b)):
            g, s, r, c = given[x], said_yes[x], received[x], chosen[x]
            if drop is not None:  # x's own answer to the other and the other's to x
                yes_xy = drop.yes_ab if x == drop.a else drop.yes_ba
                yes_yx = drop.yes_ba if x == drop.a else drop.yes_ab
                g, s, r, c = g - 1, s - yes_xy, r - 1, c - yes_yx
            out[row] = ((s + prior * mean) / (g + prior), (c + prior * mean) / (r + prior))
        return _logit(out)

    odds = _logit(_rates(pop, known, prior))
    rows = [_strong_features(pop, fits, odds, p.a, p.b, rates(p.a, p.b, p)) for p in known]
    model = fit_logistic(np.array(rows), np.array([p.mutual for p in known]), l2=1.0)
    return lambda a, b: float(
        model.logit(np.array(_strong_features(pop, fits, odds, a, b, None)))[0]
    )


def _engine_scorer(engine: Engine) -> Scorer:
    """The engine's unclipped score, from one recommend per member (as the library asks)."""
    ranked: dict[int, dict[int, float]] = {}
    n = len(engine)

    def score(a: int, b: int) -> float:
        if a not in ranked:
            results = engine.recommend(a, k=n, explain=False)
            ranked[a] = {r.candidate_id: r.components.total for r in results}
        found = ranked[a].get(b)
        return found if found is not None else engine.score(a, b, explain=False).components.total

    return score


# --- metrics -------------------------------------------------------------------------------------


def _metrics(
    rows: list[tuple[int, float, bool]], rng: np.random.Generator, min_per_member: int = 3
) -> dict[str, float]:
    """AUC, mean per-member AUC, top-1 and top-3 success over (member, score, label) rows."""
    members = np.array([r[0] for r in rows])
    scores = np.array([r[1] for r in rows], dtype=np.float64)
    labels = np.array([r[2] for r in rows], dtype=bool)
    jitter = rng.random(len(rows))  # breaks ties at random for the top-k
    aucs, top1, top3 = [], [], []
    order = np.lexsort((jitter, -scores, members))
    bounds = np.flatnonzero(np.diff(members[order])) + 1
    for group in np.split(order, bounds):
        if len(group) < min_per_member:
            continue
        top1.append(labels[group[0]])
        top3.append(labels[group[:3]].mean())
        value = auc(scores[group], labels[group])
        if not math.isnan(value):
            aucs.append(value)
    return {
        "auc": auc(scores, labels),
        "member_auc": float(np.mean(aucs)) if aucs else float("nan"),
        "top1": float(np.mean(top1)) if top1 else float("nan"),
        "top3": float(np.mean(top3)) if top3 else float("nan"),
    }


def _score_rows(scorer: Scorer, test: Sequence[Pair]) -> list[tuple[int, float, bool]]:
    """Each held-out pair is ranked from both sides."""
    rows = []
    for p in test:
        rows.append((p.a, scorer(p.a, p.b), p.mutual))
        rows.append((p.b, scorer(p.b, p.a), p.mutual))
    return rows


def evaluate_setting(
    pop: Population,
    known: Sequence[Pair],
    test: Sequence[Pair],
    *,
    engine_factory: Callable[[Sequence[Pair]], Engine],
    fits: Callable,
    seed: int = 12345,
    strong: bool = False,
) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    noise = np.random.default_rng(seed + 1)
    scorers: dict[str, Scorer | None] = {
        "random": lambda a, b: float(noise.random()),
        "age difference": lambda a, b: -abs(_age(pop.profiles[a]) - _age(pop.profiles[b])),
        "stated fit": lambda a, b: float(np.mean(fits(a, b))),
        "rates product": _rates_product(pop, known) if known else None,
        "learned model": _learned(pop, known, fits) if known else None,
        STRONG: _strong_logistic(pop, known, fits) if known and strong else None,
        "engine": _engine_scorer(engine_factory(known)),
    }
    return {
        name: _metrics(_score_rows(scorer, test), rng)
        for name, scorer in scorers.items()
        if scorer is not None
    }


def run_evaluation(
    n_members: int = 1000,
    seed: int = 7,
    *,
    per_member: int = 24,
    test_share: float = 0.25,
    settings: Sequence[str] = SETTINGS,
    config: EngineConfig | None = None,
    regime: Regime | None = None,
    strong: bool = False,
) -> dict[str, dict]:
    """Build a population and its history, and score every variant in ``settings``
    (with ``strong``, also the strong logistic baseline).  A regime with a ``cold_share``
    leaves that share of the members without known answers in every setting (new members).

    Returns {setting: {variant: {"auc", "member_auc", "top1", "top3"}}} plus "_population"."""
    regime = regime or Regime()
    pop = make_population(n_members, seed, regime)
    rng = np.random.default_rng(seed + 100)
    pairs = make_history(pop, per_member, rng)
    shuffled = rng.permutation(len(pairs))
    n_test = int(round(test_share * len(pairs)))
    random_test = [pairs[i] for i in sorted(shuffled[:n_test].tolist())]
    random_known = [pairs[i] for i in sorted(shuffled[n_test:].tolist())]
    cut = len(pairs) - n_test  # pairs are in time order
    temporal_known, temporal_test = pairs[:cut], pairs[cut:]
    if regime.cold_share > 0:  # their own rng: the default run's draws stay the same
        picked = np.random.default_rng(seed + 200).random(n_members) < regime.cold_share
        random_known = [p for p in random_known if not (picked[p.a] or picked[p.b])]
        temporal_known = [p for p in temporal_known if not (picked[p.a] or picked[p.b])]

    stated = Engine.build(pop.profiles, EngineConfig(weights=_FIT_ONLY), today=TODAY)
    fit = _fit_matrix(stated, n_members)

    def fits(a: int, b: int) -> tuple[float, float]:
        return float(fit[a, b]), float(fit[b, a])

    learned: dict[str, Learned] = {}

    def engine_factory(known: Sequence[Pair]) -> Engine:
        engine = Engine.build(pop.profiles, config or EngineConfig(), today=TODAY)
        replay(engine, known)
        if known:  # the nightly learning step, on what the agency knows
            result = learn(engine, outcomes(known))
            learned[setting] = result
            engine.set_model(result.model)
        return engine

    out: dict[str, dict] = {}
    for setting, known, test in (
        ("no history", [], random_test),
        ("history", random_known, random_test),
        ("temporal", temporal_known, temporal_test),
    ):
        if setting not in settings:
            continue
        out[setting] = evaluate_setting(
            pop, known, test, engine_factory=engine_factory, fits=fits, seed=seed, strong=strong
        )
    yes = np.mean([x for p in pairs for x in (p.yes_ab, p.yes_ba)])
    out["_population"] = {
        "members": n_members,
        "pairs": len(pairs),
        "test_pairs": n_test,
        "yes_rate": float(yes),
        "mutual_rate": float(np.mean([p.mutual for p in pairs])),
        "continued": float(sum(p.continued for p in pairs)),
    }
    out["_learned"] = learned
    return out


def _fit_matrix(engine: Engine, n: int) -> np.ndarray:
    """fit[a, b]: how well b meets a's stated preferences (0..1); the sexes alternate by id."""
    fit = np.zeros((n, n), dtype=np.float32)
    for a in range(n):
        others = list(range((a + 1) % 2, n, 2))
        fit[a, others] = engine.directional_fits(a, others)
    return fit


_FIT_ONLY = Weights(text=0, collaborative=0)


def format_table(metrics: dict[str, dict]) -> str:
    lines = [
        "| setting | variant | AUC | per-member AUC | top-1 | top-3 |",
        "|---|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        if setting not in metrics:
            continue
        shown = [*VARIANTS[:-1], STRONG, VARIANTS[-1]]
        for variant in shown:
            if variant == STRONG and STRONG not in metrics[setting]:
                continue
            m = metrics[setting].get(variant)
            if m is None:
                lines.append(f"| {setting} | {variant} | — | — | — | — |")
                continue
            lines.append(
                f"| {setting} | {variant} | {m['auc']:.3f} | {m['member_auc']:.3f} "
                f"| {m['top1']:.3f} | {m['top3']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-member", type=int, default=24)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    metrics = run_evaluation(args.members, args.seed, per_member=args.per_member, strong=True)
    pop = metrics["_population"]
    print(
        f"members={pop['members']} seed={args.seed} pairs={pop['pairs']} "
        f"(held out {pop['test_pairs']}) yes={pop['yes_rate']:.3f} "
        f"mutual={pop['mutual_rate']:.3f} continued={pop['continued']:.0f}"
    )
    print(format_table(metrics))
    for setting, result in metrics["_learned"].items():
        m = result.model
        print(
            f"learning step ({setting}): accepted={result.accepted} {result.reason} "
            f"trained on {result.trained_on}, checked on {result.checked_on}, "
            f"check AUC {result.check_auc:.3f} vs defaults {result.default_auc:.3f}; "
            f"intercept {m.intercept:.2f} fit {m.fit:.2f} appeal {m.appeal:.2f} "
            f"openness {m.selectivity:.2f} collaborative {m.collaborative:.2f} "
            f"declined {m.declined:.2f} liked {m.liked:.2f}"
        )
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
