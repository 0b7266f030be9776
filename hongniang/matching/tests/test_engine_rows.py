"""One-row paths of the engine (what an upsert runs) agree with the vectorised build."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching.engine import EngineConfig, Rules, Tolerances, snapshot
from hongniang.matching.engine.encoding import (
    DERIVED_COLUMNS,
    PROFILE_COLUMN_NAMES,
    encode,
    out_of_range_columns,
)
from hongniang.matching.tests.test_engine_helpers import TODAY, build, person
from hongniang.matching.tests.test_engine_prefilter import profiles

DERIVED = tuple(name for name, _ in DERIVED_COLUMNS)


@st.composite
def configs(draw) -> EngineConfig:
    return EngineConfig(
        rules=Rules(unknown_fails_must=draw(st.booleans())),
        tolerances=Tolerances(
            education_step=draw(st.sampled_from([0.5, 0.25, 1.0])),
            unknown=draw(st.sampled_from([0.5, 0.0, 0.8])),
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8), st.data(), configs())
def test_an_upserted_row_derives_the_same_columns_as_a_build(seeds, data, config):
    people = [data.draw(profiles(i)) for i in range(len(seeds))]
    built = build(*people, config=config)
    # the same members upserted one by one into an engine that already holds them once
    # (the per-criterion cache of the one-row path is then warm for some, cold for others)
    grown = build(person(10_000, "F"), config=config)
    for p in people + people:
        grown.upsert(p)
    for p in people:
        a = built._store.row(built._store.slot_of(p.id))
        b = grown._store.row(grown._store.slot_of(p.id))
        assert a == b
        sa, sb = built._store.slot_of(p.id), grown._store.slot_of(p.id)
        for name in DERIVED:
            assert built._store.cols[name][sa] == grown._store.cols[name][sb], name
        assert built._store.eligible[sa] == grown._store.eligible[sb]


def test_out_of_range_columns_names_each_bad_column():
    row = list(encode(person(1)))
    assert out_of_range_columns(tuple(row)) == []
    row[PROFILE_COLUMN_NAMES.index("height")] = 40_000  # int16
    row[PROFILE_COLUMN_NAMES.index("sex")] = "M"
    assert out_of_range_columns(tuple(row)) == ["sex", "height"]
    assert out_of_range_columns((1, 2)) == ["row length"]


def test_token_ids_widen_when_the_vocabulary_outgrows_16_bits():
    engine = build(person(1, "M", about="喜欢摄影"), person(2, "F", about="喜欢摄影和徒步"))
    store = engine._store
    assert store.tokens.dtype == np.uint16
    # a vocabulary past 65,535 words: the next member's rare word gets a large id
    engine._text.ids_of(f"词{i}" for i in range(70_000))
    engine.upsert(person(3, "F", about="喜欢摄影，徒步，稀有词汇"))
    assert store.tokens.dtype == np.int32
    assert int(store.tokens[store.slot_of(3)].max()) > 65_535
    assert engine.score(1, 3).components.text > 0
    assert {r.candidate_id for r in engine.recommend(1, k=5)} == {2, 3}


def test_a_loaded_snapshot_holds_plain_arrays_over_the_mapped_files(tmp_path):
    engine = build(person(1, "M"), person(2, "F"))
    snapshot.save(engine, tmp_path / "snap")
    loaded, _ = snapshot.load(tmp_path / "snap", engine.config, today=TODAY)
    store = loaded._store
    # no np.memmap subclass (its Python overhead hit every row read and write) ...
    assert type(store.cols["birth"]) is np.ndarray
    assert all(type(col) is np.ndarray for view in loaded._views for col in view.cols.values())
    # ... yet still the mapped file's memory (a view, not a copy)
    assert not store.cols["birth"].flags.owndata
    assert [r.candidate_id for r in loaded.recommend(1)] == [2]
    loaded.upsert(person(3, "F"))
    assert {r.candidate_id for r in loaded.recommend(1)} == {2, 3}
