"""Upsert / remove, the sorted index, slots and capacity, input validation."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import (
    CHINA_TZ,
    ChoicePref,
    Engine,
    EngineConfig,
    MinPref,
    Preferences,
    Profile,
    RangePref,
    RegionPref,
    Weights,
)
from hongniang.matching.tests.test_engine_helpers import TODAY, born, build, ids, person

WANTS_28_34 = Preferences(age=RangePref(28, 34, must=True))


def test_upsert_new_member_is_recommended_immediately():
    e = build(person(1, "M", 30, prefs=WANTS_28_34), person(2, "F", 30))
    e.upsert(person(3, "F", 29))
    assert sorted(ids(e.recommend(1))) == [2, 3]
    assert 3 in e and len(e) == 3


def test_upsert_moves_the_member_in_the_birth_date_index():
    e = build(person(1, "M", 30, prefs=WANTS_28_34), person(2, "F", 30), person(3, "F", 25))
    assert ids(e.recommend(1)) == [2]
    e.upsert(person(3, "F", 31))  # corrected birth date: now inside the window
    e.upsert(person(2, "F", 40))  # and this one moves out
    assert ids(e.recommend(1)) == [3]
    e.compact()  # same answer once the sorted view is rebuilt
    assert ids(e.recommend(1)) == [3]


def test_upsert_changes_are_seen_through_status_and_preferences():
    e = build(person(1, "M", 30), person(2, "F", 30))
    e.upsert(person(2, "F", 30, status="paused"))
    assert e.recommend(1) == []
    e.upsert(person(2, "F", 30, prefs=Preferences(education=MinPref(6, must=True))))
    assert e.recommend(1) == []  # active again, but now she requires a doctorate
    e.upsert(person(2, "F", 30))
    assert ids(e.recommend(1)) == [2]


def test_removed_members_are_never_returned_and_slots_are_reused():
    e = build(person(1, "M", 30), person(2, "F", 30), person(3, "F", 31))
    capacity = e.stats()["capacity"]
    assert e.remove(2) and not e.remove(2)
    assert ids(e.recommend(1)) == [3]
    assert 2 not in e and len(e) == 2
    with pytest.raises(KeyError):
        e.score(1, 2)
    with pytest.raises(KeyError):
        e.recommend(2)
    e.upsert(person(4, "F", 29))  # takes the freed slot
    assert e.stats()["capacity"] == capacity
    assert sorted(ids(e.recommend(1))) == [3, 4]


def test_capacity_doubles_as_members_are_added():
    e = Engine(EngineConfig(), today=TODAY, capacity=64)
    e.upsert(person(0, "M", 30))
    for i in range(1, 300):
        e.upsert(person(i, "F", 22 + i % 15))
    assert e.stats()["capacity"] >= 300 and len(e) == 300
    assert len(e.recommend(0, k=1000)) == 299


def test_sparse_large_ids_are_supported():
    big = 10**15
    e = build(person(big, "M", 30), person(big + 7, "F", 30), person(3, "F", 30))
    assert sorted(ids(e.recommend(big))) == [3, big + 7]
    e.interaction(big + 7, big, "like")
    assert e.recommend(big)[0].candidate_id == big + 7


def test_build_rejects_duplicate_ids():
    with pytest.raises(ValueError, match="duplicate"):
        build(person(1, "M", 30), person(1, "F", 30))


def test_today_defaults_to_china_standard_time():
    e = Engine()
    assert e.today == datetime.now(CHINA_TZ).date()
    assert Engine(today=date(2030, 1, 1)).today == date(2030, 1, 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"marital": "complicated"}, "marital"),
        ({"status": "gone"}, "status"),
        ({"education": 9}, "education"),
        ({"income": 8}, "income"),
        ({"height_cm": 20}, "height"),
        ({"city": "999999"}, "GB/T 2260"),
        ({"hobbies": "旅游"}, "iterable"),
    ],
)
def test_profile_validation(changes, message):
    with pytest.raises(ValueError, match=message):
        person(1, "F", 28, **changes)


def test_profile_sex_and_id_validation():
    with pytest.raises(ValueError, match="sex"):
        Profile(id=1, sex="X", birth_date=born(28))
    with pytest.raises(ValueError, match="id"):
        Profile(id=-1, sex="F", birth_date=born(28))


def test_preference_validation_and_normalisation():
    with pytest.raises(ValueError, match="low"):
        RangePref(30, 20)
    with pytest.raises(ValueError, match="importance"):
        MinPref(3, importance=4)
    with pytest.raises(ValueError, match="unknown marital"):
        Preferences(marital=ChoicePref({"engaged"}))
    with pytest.raises(ValueError, match="must be RangePref"):
        Preferences(age=MinPref(20))
    with pytest.raises(ValueError, match="not in province"):
        RegionPref(440000, 310100)
    region = RegionPref("440000", "440305")  # strings and county codes are accepted
    assert (region.province, region.city) == (440000, 440300)
    p = Profile(id=1, sex="F", birth_date=born(30), city="440305", hobbies=[" 旅游 ", "旅游"])
    assert (p.province, p.city, p.hobbies) == (440000, 440300, frozenset({"旅游"}))


def test_importing_the_engine_does_not_load_jieba():
    code = "import sys, hongniang.matching.engine; print('jieba' in sys.modules)"
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"


# --- property: incremental updates give the same answers as a fresh build ----------------


@st.composite
def small_profile(draw, member_id: int) -> Profile:
    return person(
        member_id,
        draw(st.sampled_from("MF")),
        draw(st.integers(20, 40)),
        education=draw(st.integers(0, 6)),
        city=draw(st.sampled_from([440300, 440100, 310100])),
        status=draw(st.sampled_from(["active", "active", "paused"])),
        hobbies=draw(st.sets(st.sampled_from(["旅游", "摄影", "读书", "健身"]), max_size=2)),
        prefs=Preferences(
            age=RangePref(
                draw(st.integers(20, 30)),
                draw(st.integers(31, 42)),
                must=draw(st.booleans()),
                importance=draw(st.integers(0, 3)),
            ),
            education=draw(st.none() | st.builds(MinPref, st.integers(0, 6))),
        ),
    )


@st.composite
def histories(draw):
    initial = [draw(small_profile(i)) for i in range(draw(st.integers(1, 8)))]
    steps = []
    for _ in range(draw(st.integers(1, 25))):
        member_id = draw(st.integers(0, 11))
        if draw(st.integers(0, 3)) == 0:
            steps.append(("remove", member_id))
        else:
            steps.append(("upsert", draw(small_profile(member_id))))
    return initial, steps


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_incremental_updates_match_a_fresh_build(history):
    initial, steps = history
    # a tiny rebuild threshold exercises both the delta buffer and view rebuilds
    cfg = EngineConfig(weights=Weights(text=0.0), rebuild_threshold=3)
    e = Engine.build(initial, cfg, today=TODAY)
    current = {p.id: p for p in initial}
    for action, arg in steps:
        if action == "remove":
            assert e.remove(arg) == (arg in current)
            current.pop(arg, None)
        else:
            e.upsert(arg)
            current[arg.id] = arg
    fresh = Engine.build(list(current.values()), cfg, today=TODAY)
    for member_id in current:
        got = [(r.candidate_id, round(r.score, 3)) for r in e.recommend(member_id, k=50)]
        want = [(r.candidate_id, round(r.score, 3)) for r in fresh.recommend(member_id, k=50)]
        assert got == want


def test_profile_replace_keeps_learned_feedback():
    e = build(person(1, "F", 30), person(2, "M", 38), person(3, "M", 39))
    e.feedback(1, 2, liked=False, reasons=["too_old"])
    e.upsert(replace(person(1, "F", 30), about="新的自我介绍"))
    assert ids(e.recommend(1)) == [3] and e.recommend(1)[0].components.feedback < -20


# --- records the engine cannot encode (issue 8: one bad row must not stop everyone) ----------


def _corrupt(profile: Profile, **fields) -> Profile:
    """A profile holding values its validation would refuse (as a buggy caller could pass)."""
    for name, value in fields.items():
        object.__setattr__(profile, name, value)
    return profile


@pytest.mark.parametrize(
    "fields",
    [
        {"height_cm": 99_999},
        {"sex": "X"},
        {"status": "gone"},
        {"hobbies": 42},
        {"ethnicity": 10**30},
        {"birth_date": "1800-01-01"},
    ],
)
def test_build_skips_and_reports_a_record_it_cannot_encode(fields, caplog):
    bad = _corrupt(person(2, "F", 30), **fields)
    with caplog.at_level("WARNING"):
        e = build(person(1, "M", 30), bad, person(3, "F", 31))
    assert sorted(ids(e.recommend(1))) == [3]
    assert 2 not in e and set(e.skipped) == {2} and e.stats()["skipped"] == 1
    assert any("2" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_a_failing_upsert_leaves_the_engine_as_it_was():
    e = build(person(1, "M", 30), person(2, "F", 30), person(3, "F", 31))
    before = [(r.candidate_id, r.score) for r in e.recommend(1)]
    for fields in ({"height_cm": 99_999}, {"sex": None}, {"hobbies": 42}):
        with pytest.raises(ValueError):
            e.upsert(_corrupt(person(2, "F", 45), **fields))
        with pytest.raises(ValueError):
            e.upsert(_corrupt(person(9, "F", 30), **fields))
    assert [(r.candidate_id, r.score) for r in e.recommend(1)] == before
    assert 9 not in e and len(e) == 3


def test_skip_takes_a_member_out_until_a_good_upsert():
    e = build(person(1, "M", 30), person(2, "F", 30))
    e.skip(2, "birthday 1800")
    assert e.recommend(1) == [] and e.skipped == {2: "birthday 1800"}
    e.upsert(person(2, "F", 30))
    assert ids(e.recommend(1)) == [2] and e.skipped == {}
    e.skip(7, "never loaded")  # ids that were never loaded are reported too
    assert e.skipped == {7: "never loaded"}
    e.remove(7)
    assert e.skipped == {}
