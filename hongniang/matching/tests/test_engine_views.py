"""Large sorted views hold the acceptance tables once, in the store: a view's rows read
them from the store by slot (`store.Columns`), whole or for some rows.  Small views copy
them (their windows are scored whole)."""

from __future__ import annotations

import numpy as np

from hongniang.matching.engine import store as store_module
from hongniang.matching.engine.encoding import TABLE_COLUMNS
from hongniang.matching.engine.store import Columns
from hongniang.matching.tests.test_engine_helpers import build, person


def _people():
    return [person(i, "M" if i % 2 else "F", 22 + i % 20, education=i % 7) for i in range(60)]


def test_small_views_copy_the_acceptance_tables():
    engine = build(*_people())
    for view in engine._views:
        assert set(TABLE_COLUMNS) <= set(view.cols)


def test_large_views_read_the_acceptance_tables_from_the_store(monkeypatch):
    monkeypatch.setattr(store_module, "TABLES_COPIED_BELOW", 0)  # every view is "large"
    engine = build(*_people())
    store = engine._store
    for view in engine._views:
        assert not set(TABLE_COLUMNS) & set(view.cols)  # not copied
        block = view.window(-(2**31), 2**31 - 1)
        assert isinstance(block.cols, Columns)
        assert "t_education_4" in block.cols
        assert "t_education_4" not in dict(block.cols)  # copies of the columns skip them
        for name in ("t_education_4", "t_income_0", "t_religion_7"):
            np.testing.assert_array_equal(block.cols[name], store.cols[name][block.slots])
        rows = np.arange(0, len(block), 3)
        part = block.take(rows, ("birth", "t_marital_1"))
        np.testing.assert_array_equal(part.cols["birth"], view.cols["birth"][rows])
        np.testing.assert_array_equal(
            part.cols["t_marital_1"], store.cols["t_marital_1"][block.slots[rows]]
        )
        half = block.part(2, len(block))
        np.testing.assert_array_equal(half.cols["t_car_2"], store.cols["t_car_2"][block.slots[2:]])
