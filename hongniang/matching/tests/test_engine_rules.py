"""Hard rules: a pair failing one is never recommended, and score() says which rule."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import (
    EDU_BACHELOR,
    EDU_JUNIOR_COLLEGE,
    EDU_MASTER,
    ChoicePref,
    EngineConfig,
    MaxPref,
    MinPref,
    Preferences,
    Profile,
    RangePref,
    RegionPref,
    RequiredPref,
    Rules,
    SamePref,
    age_on,
)
from hongniang.matching.tests.test_engine_helpers import TODAY, born, build, ids, person


def rules_of(result) -> set[tuple[str, str]]:
    return {(f.rule, f.direction) for f in result.failed_rules}


def test_opposite_sex_by_default():
    e = build(person(1, "M", 30), person(2, "F", 27), person(3, "M", 27), person(4, "F", 29))
    assert sorted(ids(e.recommend(1))) == [2, 4]
    assert sorted(ids(e.recommend(2))) == [1, 3]
    res = e.score(1, 3)
    assert not res.eligible and ("sex", "a_to_b") in rules_of(res)
    assert res.score == 0.0


def test_same_sex_pairing_option():
    cfg = EngineConfig(rules=Rules(sex_pairing="same"))
    e = build(person(1, "F", 30), person(2, "F", 27), person(3, "M", 27), config=cfg)
    assert ids(e.recommend(1)) == [2]  # never herself, never a man
    assert e.score(1, 2).eligible
    assert not e.score(1, 3).eligible
    assert ("self", "a_to_b") in rules_of(e.score(1, 1))


def test_any_pairing_option():
    cfg = EngineConfig(rules=Rules(sex_pairing="any"))
    e = build(person(1, "F", 30), person(2, "F", 27), person(3, "M", 27), config=cfg)
    assert sorted(ids(e.recommend(1))) == [2, 3]


@pytest.mark.parametrize(
    ("sex", "too_young", "old_enough"),
    [("M", 21, 22), ("F", 19, 20)],
)
def test_legal_marriage_age_per_sex(sex, too_young, old_enough):
    other = "F" if sex == "M" else "M"
    e = build(person(1, other, 23), person(2, sex, too_young), person(3, sex, old_enough))
    assert ids(e.recommend(1)) == [3]
    res = e.score(1, 2)
    assert ("legal_age", "a_to_b") in rules_of(res)
    # the under-age member gets nothing and is told why
    assert e.recommend(2) == []
    assert ("legal_age", "b_to_a") in rules_of(e.score(2, 1))


def test_legal_age_is_configurable_and_exact_to_the_day():
    cfg = EngineConfig(rules=Rules(min_age_male=25, min_age_female=18))
    turning = date(TODAY.year - 25, TODAY.month, TODAY.day)  # 25th birthday is today
    almost = date(TODAY.year - 25, TODAY.month, TODAY.day + 1)  # tomorrow
    e = build(
        person(1, "F", 18),
        Profile(id=2, sex="M", birth_date=turning),
        Profile(id=3, sex="M", birth_date=almost),
        person(4, "M", 24),
        config=cfg,
    )
    assert age_on(turning, TODAY) == 25 and age_on(almost, TODAY) == 24
    assert ids(e.recommend(1)) == [2]
    assert e.recommend(4) == []


def test_married_members_are_never_matched_either_side():
    e = build(person(1, "M", 30), person(2, "F", 28, marital="married"), person(3, "F", 28))
    assert ids(e.recommend(1)) == [3]
    assert e.recommend(2) == []
    assert ("married", "a_to_b") in rules_of(e.score(1, 2))
    assert ("married", "b_to_a") in rules_of(e.score(2, 1))


@pytest.mark.parametrize(
    "fields",
    [{"status": "paused"}, {"status": "expired"}, {"status": "hidden"}, {"hidden": True}],
)
def test_inactive_members_are_excluded_both_ways(fields):
    e = build(person(1, "M", 30), person(2, "F", 28, **fields), person(3, "F", 28))
    assert ids(e.recommend(1)) == [3]
    assert e.recommend(2) == []
    assert ("status", "a_to_b") in rules_of(e.score(1, 2))
    assert ("status", "b_to_a") in rules_of(e.score(2, 1))


def test_member_must_have_excludes_candidate():
    wants = Preferences(education=MinPref(EDU_BACHELOR, must=True))
    e = build(
        person(1, "M", 30, prefs=wants),
        person(2, "F", 28, education=EDU_JUNIOR_COLLEGE),
        person(3, "F", 28, education=EDU_MASTER),
    )
    assert ids(e.recommend(1)) == [3]
    res = e.score(1, 2)
    assert [(f.rule, f.direction, f.criterion) for f in res.failed_rules] == [
        ("must", "a_to_b", "education")
    ]
    assert "本科以上" in res.failed_rules[0].text and "必要条件" in res.failed_rules[0].text
    # the same preference without must only lowers the score
    soft = build(
        person(1, "M", 30, prefs=Preferences(education=MinPref(EDU_BACHELOR))),
        person(2, "F", 28, education=EDU_JUNIOR_COLLEGE),
        person(3, "F", 28, education=EDU_MASTER),
    )
    assert ids(soft.recommend(1)) == [3, 2]


def test_candidate_must_have_excludes_candidate():
    e = build(
        person(1, "M", 30, height_cm=168),
        person(2, "F", 28, prefs=Preferences(height=RangePref(172, None, must=True))),
        person(3, "F", 28),
    )
    assert ids(e.recommend(1)) == [3]
    res = e.score(1, 2)
    assert [(f.rule, f.direction, f.criterion) for f in res.failed_rules] == [
        ("must", "b_to_a", "height")
    ]
    assert res.failed_rules[0].text == "身高168cm，低于她要求的172cm以上（差4cm）（必要条件）"


def test_unknown_attribute_cannot_satisfy_a_must_unless_configured():
    wants = Preferences(house=RequiredPref(must=True))
    profiles = (person(1, "F", 30, prefs=wants), person(2, "M", 30, house=None))
    assert build(*profiles).recommend(1) == []
    lenient = EngineConfig(rules=Rules(unknown_fails_must=False))
    assert ids(build(*profiles, config=lenient).recommend(1)) == [2]


def test_soft_age_preference_window_is_a_rule_with_tolerance():
    wants = Preferences(age=RangePref(25, 30, importance=2))
    e = build(
        person(1, "M", 30, prefs=wants),
        person(2, "F", 34),  # 4 years over: partial credit
        person(3, "F", 35),  # 5 years over = the tolerance: zero credit → outside the window
    )
    assert ids(e.recommend(1)) == [2]
    assert rules_of(e.score(1, 3)) == {("age_window", "a_to_b")}
    # without the window rule the far candidate is merely ranked low
    wide = build(
        *[person(1, "M", 30, prefs=wants), person(2, "F", 34), person(3, "F", 35)],
        config=EngineConfig(rules=Rules(age_window=False)),
    )
    assert ids(wide.recommend(1)) == [2, 3]
    # importance 0 means "don't care": no window at all
    e0 = build(
        person(1, "M", 30, prefs=Preferences(age=RangePref(25, 30, importance=0))),
        person(3, "F", 45),
    )
    assert ids(e0.recommend(1)) == [3]


# --- property: recommend returns exactly the members an independent oracle allows ----------


CITIES = (440300, 440100, 310100)


def _satisfies(pref_name: str, pref, owner: Profile, other: Profile) -> bool:
    """Exact satisfaction of one preference (what a must-have demands), from first principles."""
    age = age_on(other.birth_date, TODAY)
    if pref_name == "age":
        return (pref.low is None or age >= pref.low) and (pref.high is None or age <= pref.high)
    if pref_name in ("height", "weight"):
        value = other.height_cm if pref_name == "height" else other.weight_kg
        return (
            value is not None
            and (pref.low is None or value >= pref.low)
            and (pref.high is None or value <= pref.high)
        )
    if pref_name in ("education", "income"):
        value = getattr(other, pref_name)
        return value is not None and value >= pref.minimum
    if pref_name in ("smoking", "drinking"):
        value = getattr(other, pref_name)
        return value is not None and value <= pref.maximum
    if pref_name in ("marital", "children"):
        value = getattr(other, pref_name)
        return value is not None and value in pref.allowed
    if pref_name in ("car", "house"):
        return getattr(other, pref_name) is True
    if pref_name == "region":
        if pref.hukou:
            return other.hukou_province == pref.province
        if pref.city is not None:
            return other.city == pref.city
        return other.province == pref.province
    mine, theirs = getattr(owner, pref_name), getattr(other, pref_name)
    return mine is not None and theirs is not None and mine == theirs


def _blocked_one_way(a: Profile, b: Profile, tolerance: int = 5) -> bool:
    """Does ``a``'s side (its status, marriage, age or preferences) rule out ``b``?"""
    for p in (a, b):
        if p.status != "active" or p.hidden or p.marital == "married":
            return True
        if age_on(p.birth_date, TODAY) < (22 if p.sex == "M" else 20):
            return True
    for name in a.prefs.__slots__:
        pref = getattr(a.prefs, name)
        if pref is None:
            continue
        if pref.must and not _satisfies(name, pref, a, b):
            return True
        if name == "age" and not pref.must and pref.importance > 0:
            age = age_on(b.birth_date, TODAY)
            low = pref.low if pref.low is not None else 0
            high = pref.high if pref.high is not None else 200
            if max(low - age, age - high) >= tolerance:
                return True
    return False


def allowed(a: Profile, b: Profile) -> bool:
    return (
        a.id != b.id
        and a.sex != b.sex
        and not _blocked_one_way(a, b)
        and not _blocked_one_way(b, a)
    )


def _opt(strategy):
    return st.one_of(st.none(), strategy)


weights = st.fixed_dictionaries({"must": st.booleans(), "importance": st.integers(0, 3)})


@st.composite
def preferences(draw) -> Preferences:
    def w():
        return draw(weights)

    low = draw(st.integers(18, 40))
    return Preferences(
        age=draw(_opt(st.just(RangePref(low, low + draw(st.integers(0, 12)), **w())))),
        height=draw(_opt(st.just(RangePref(draw(st.integers(150, 180)), None, **w())))),
        education=draw(_opt(st.just(MinPref(draw(st.integers(0, 6)), **w())))),
        income=draw(_opt(st.just(MinPref(draw(st.integers(0, 7)), **w())))),
        marital=draw(
            _opt(
                st.just(
                    ChoicePref(draw(st.sampled_from([{"single"}, {"single", "divorced"}])), **w())
                )
            )
        ),
        children=draw(_opt(st.just(ChoicePref({"none"}, **w())))),
        car=draw(_opt(st.just(RequiredPref(**w())))),
        region=draw(
            _opt(
                st.sampled_from(CITIES).map(
                    lambda c: RegionPref(c // 10000 * 10000, c if c % 2 == 0 else None, **w())
                )
            )
        ),
        smoking=draw(_opt(st.just(MaxPref(draw(st.integers(0, 2)), **w())))),
        ethnicity=draw(_opt(st.just(SamePref(**w())))),
    )


@st.composite
def profiles(draw, member_id: int) -> Profile:
    sex = draw(st.sampled_from("MF"))
    return Profile(
        id=member_id,
        sex=sex,
        birth_date=born(draw(st.integers(18, 48)), draw(st.integers(0, 364))),
        height_cm=draw(_opt(st.integers(150, 190))),
        education=draw(_opt(st.integers(0, 6))),
        income=draw(_opt(st.integers(0, 7))),
        marital=draw(st.sampled_from(["single", "single", "divorced", "widowed", "married"])),
        children=draw(st.sampled_from(["none", "not_with_me", "with_me", None])),
        city=draw(st.sampled_from(CITIES)),
        car=draw(_opt(st.booleans())),
        smoking=draw(_opt(st.integers(0, 2))),
        ethnicity=draw(st.sampled_from([1, 1, 2])),
        status=draw(st.sampled_from(["active", "active", "active", "paused", "expired", "hidden"])),
        prefs=draw(preferences()),
    )


@st.composite
def populations(draw) -> list[Profile]:
    n = draw(st.integers(2, 12))
    return [draw(profiles(i)) for i in range(n)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_recommend_returns_exactly_the_pairs_the_rules_allow(pop):
    e = build(*pop)
    for a in pop:
        got = set(ids(e.recommend(a.id, k=100, explain=False)))
        expected = {b.id for b in pop if allowed(a, b)}
        assert got == expected, (a, got, expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_score_reports_rules_consistently_and_symmetrically(pop):
    e = build(*pop)
    for a in pop:
        for b in pop:
            ab = e.score(a.id, b.id, explain=False)
            assert ab.eligible == allowed(a, b)
            assert ab.eligible == (not ab.failed_rules)
            ba = e.score(b.id, a.id, explain=False)
            assert ab.eligible == ba.eligible  # every rule binds both sides
            # the directions mirror each other: A's view of B is B's view of A, reversed
            assert ab.fit_a_to_b == pytest.approx(ba.fit_b_to_a, abs=1e-3)
            assert ab.fit_b_to_a == pytest.approx(ba.fit_a_to_b, abs=1e-3)
            if ab.eligible:
                assert ab.components.fit == pytest.approx(ba.components.fit, abs=1e-3)
