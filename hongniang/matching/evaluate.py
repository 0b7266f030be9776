"""Offline evaluation of the matching engine on a synthetic population with planted tastes.

    python -m hongniang.matching.evaluate [--members 2000 --seed 7 --rounds 4]

Every synthetic member has *hidden* tastes (true acceptable age range, minimum height or
maximum height, education, income, region, smoking, marital/children deal-breakers, a
liking for people of their own lifestyle, a pickiness threshold) and a hidden
attractiveness.  Their *stated* preferences, which is all the engine sees of their taste,
are a noisy, incomplete version: ranges shifted, criteria left out, importances guessed.
Hobbies, personality tags and the self-description are drawn from the member's lifestyle.

Simulation: in each round every member is shown the current full engine's top picks plus
a few random candidates and answers each (accept / decline with reasons derived from the
hidden taste, plus answer noise); likes may be returned with messages and appointments.
Answers go to the engines through ``feedback`` and behaviour through ``interaction`` —
never the hidden values.

Then, for every member, each variant ranks the candidates the member has *not* answered;
a candidate is relevant when both would accept each other under the hidden tastes
(a mutual match).  Reported: precision@10, recall@50 and AUC, averaged over members with
at least one mutual match left, for random order, rules-only fit, fit + feedback and the
full engine (feedback, collaborative and text); and repeat@10, the share of the top 10
that trip again a deal-breaker the member already gave as a reason for declining
(lower is better: feedback should stop the engine from repeating a mistake).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
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

TODAY = date(2025, 6, 1)
VARIANTS = ("random", "rules", "fit+feedback", "full")

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
    """What a member really wants (the engine never sees this)."""

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
    homophily: float
    threshold: float


@dataclass(slots=True)
class Population:
    profiles: list[Profile]
    hidden: list[Hidden]
    attract: np.ndarray
    lifestyle: np.ndarray
    rng: np.random.Generator

    def by_id(self, member_id: int) -> Profile:
        return self.profiles[member_id]


def _age(p: Profile) -> int:
    return (
        TODAY.year
        - p.birth_date.year
        - ((TODAY.month, TODAY.day) < (p.birth_date.month, p.birth_date.day))
    )


def make_population(n: int, seed: int) -> Population:
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
    attract = rng.normal(0, 1, n)

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
    return Population(profiles, hidden, attract, lifestyle, rng)


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
        homophily=float(rng.uniform(0.0, 1.5)),
        threshold=float(rng.normal(-0.2, 0.4)),
    )


def _stated(rng: np.random.Generator, h: Hidden, male: bool, city: int) -> Preferences:
    """A noisy, incomplete statement of the hidden taste."""

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
    penalty = sum(sev for _, sev in violations(pop, a, b))
    same_style = float(pop.lifestyle[a] == pop.lifestyle[b])
    return float(pop.attract[b]) + pop.hidden[a].homophily * same_style - 1.5 * penalty


def accepts(pop: Population, a: int, b: int) -> bool:
    """Would ``a`` accept ``b`` (noise-free hidden truth)."""
    return utility(pop, a, b) > pop.hidden[a].threshold


def answer(pop: Population, a: int, b: int) -> tuple[bool, tuple[str, ...]]:
    """A simulated, noisy answer of ``a`` to ``b`` with reasons."""
    u = utility(pop, a, b) + pop.rng.normal(0, 0.3)
    if u > pop.hidden[a].threshold:
        return True, ()
    found = sorted(violations(pop, a, b), key=lambda v: -v[1])
    if found:
        return False, tuple(reason for reason, _ in found[:2])
    if pop.attract[b] < 0:
        return False, ("appearance",)
    return False, ("not_my_type",)


# --- simulation ----------------------------------------------------------------------------------


def _engines(pop: Population) -> dict[str, Engine]:
    rules_only = Weights(text=0, collaborative=0, like=0, penalty=0, reciprocal_penalty=0)
    with_feedback = Weights(text=0, collaborative=0)
    return {
        "rules": Engine.build(pop.profiles, EngineConfig(weights=rules_only), today=TODAY),
        "fit+feedback": Engine.build(
            pop.profiles, EngineConfig(weights=with_feedback), today=TODAY
        ),
        "full": Engine.build(pop.profiles, EngineConfig(), today=TODAY),
    }


@dataclass(slots=True)
class _Log:
    answered: list[set[int]]
    reasons: list[set[str]]  # reasons each member gave when declining
    shown: int = 0
    accepted: int = 0


def simulate(
    pop: Population, engines: dict[str, Engine], rounds: int, per_round: int, explore: int
) -> _Log:
    n = len(pop.profiles)
    log = _Log([set() for _ in range(n)], [set() for _ in range(n)])
    full = engines["full"]
    learners = [engines["fit+feedback"], full]
    rng = pop.rng
    sexes = np.array([p.sex for p in pop.profiles])
    for _ in range(rounds):
        for a in rng.permutation(n).tolist():
            shown = [
                r.candidate_id
                for r in full.recommend(a, k=per_round, exclude=log.answered[a], explain=False)
            ]
            pool = np.flatnonzero(sexes != sexes[a])
            extra = [
                int(b) for b in rng.choice(pool, explore, replace=False) if b not in log.answered[a]
            ]
            for b in dict.fromkeys(shown + extra):
                log.answered[a].add(b)
                full.interaction(a, b, "view")
                liked, reasons = answer(pop, a, b)
                log.shown += 1
                for engine in learners:
                    engine.feedback(a, b, liked, reasons)
                if not liked:
                    log.reasons[a].update(reasons)
                    continue
                log.accepted += 1
                full.interaction(a, b, "message")
                if answer(pop, b, a)[0]:
                    full.interaction(b, a, "reply")
                    full.interaction(a, b, "appointment_held")
                    full.interaction(b, a, "appointment_held")
                    keep = utility(pop, a, b) + utility(pop, b, a) > 1.0
                    kind = "appointment_continue" if keep else "appointment_stop"
                    full.interaction(a, b, kind)
                    full.interaction(b, a, kind)
    return log


# --- metrics -------------------------------------------------------------------------------------


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann–Whitney AUC with ties counted half."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos = labels.sum()
    neg = len(labels) - pos
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def _ranking(
    variant: str,
    engines: dict[str, Engine],
    a: int,
    pool: list[int],
    answered: set[int],
    rng: np.random.Generator,
) -> np.ndarray:
    """Scores aligned with ``pool`` (higher = ranked earlier); unranked candidates tie last."""
    if variant == "random":
        return rng.random(len(pool))
    results = engines[variant].recommend(a, k=len(pool), exclude=answered, explain=False)
    rank_of = {r.candidate_id: len(results) - i for i, r in enumerate(results)}
    return np.array([rank_of.get(b, 0) for b in pool], dtype=float)


def evaluate(
    pop: Population, engines: dict[str, Engine], log: _Log, members: Iterable[int]
) -> dict[str, dict[str, float]]:
    sexes = [p.sex for p in pop.profiles]
    sums = {v: np.zeros(4) for v in VARIANTS}
    counted = repeat_counted = 0
    rng = np.random.default_rng(12345)
    for a in members:
        pool = [
            b for b in range(len(pop.profiles)) if sexes[b] != sexes[a] and b not in log.answered[a]
        ]
        labels = np.array([accepts(pop, a, b) and accepts(pop, b, a) for b in pool])
        if not labels.any() or labels.all():
            continue
        counted += 1
        given = log.reasons[a] - {"not_my_type", "appearance"}
        repeat_counted += bool(given)
        for variant in VARIANTS:
            scores = _ranking(variant, engines, a, pool, log.answered[a], rng)
            # Ties (unranked candidates) are broken at random for precision / recall.
            order = np.lexsort((rng.random(len(pool)), -scores))
            top10, top50 = labels[order[:10]], labels[order[:50]]
            # How many of the top 10 trip a deal-breaker the member already complained of.
            repeats = 0.0
            if given:
                tripped = [{r for r, _ in violations(pop, a, pool[i])} for i in order[:10]]
                repeats = float(np.mean([bool(t & given) for t in tripped]))
            auc = _auc(scores, labels)
            sums[variant] += (top10.mean(), top50.sum() / labels.sum(), auc, repeats)
    return {
        v: {
            "precision@10": s[0] / counted,
            "recall@50": s[1] / counted,
            "auc": s[2] / counted,
            "repeat@10": s[3] / max(repeat_counted, 1),
        }
        for v, s in sums.items()
    } | {"_members": {"evaluated": float(counted)}}


def run_evaluation(
    n_members: int = 2000,
    seed: int = 7,
    *,
    rounds: int = 4,
    per_round: int = 6,
    explore: int = 3,
) -> dict[str, dict[str, float]]:
    """Build a population, simulate ``rounds`` of answers, and score every variant.

    Returns {variant: {"precision@10", "recall@50", "auc"}} plus "_members" /
    "_simulation" entries with counts."""
    pop = make_population(n_members, seed)
    engines = _engines(pop)
    log = simulate(pop, engines, rounds, per_round, explore)
    metrics = evaluate(pop, engines, log, range(n_members))
    metrics["_simulation"] = {
        "shown": float(log.shown),
        "accepted": float(log.accepted),
        "base_rate": _base_rate(pop),
    }
    return metrics


def _base_rate(pop: Population) -> float:
    n = len(pop.profiles)
    rng = np.random.default_rng(0)
    hits = 0
    trials = 0
    for _ in range(4000):
        a, b = int(rng.integers(0, n)), int(rng.integers(0, n))
        if pop.profiles[a].sex == pop.profiles[b].sex:
            continue
        trials += 1
        hits += accepts(pop, a, b) and accepts(pop, b, a)
    return hits / max(trials, 1)


def format_table(metrics: dict[str, dict[str, float]]) -> str:
    head = f"{'variant':<14}{'precision@10':>14}{'recall@50':>12}{'AUC':>8}{'repeat@10':>11}"
    lines = [head]
    for variant in VARIANTS:
        m = metrics[variant]
        lines.append(
            f"{variant:<14}{m['precision@10']:>14.3f}{m['recall@50']:>12.3f}"
            f"{m['auc']:>8.3f}{m['repeat@10']:>11.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    metrics = run_evaluation(args.members, args.seed, rounds=args.rounds)
    sim = metrics["_simulation"]
    print(
        f"members={args.members} seed={args.seed} rounds={args.rounds} "
        f"answers={sim['shown']:.0f} accepted={sim['accepted']:.0f} "
        f"mutual-match base rate={sim['base_rate']:.3f} "
        f"evaluated members={metrics['_members']['evaluated']:.0f}"
    )
    print(format_table(metrics))
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
