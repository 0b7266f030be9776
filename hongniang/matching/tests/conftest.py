"""Shared set-up of the matching tests: a fresh engine per test, the usual matchmaker grants."""

import pytest

from hongniang.matching import index

# What a matchmaker working in the match library holds.
MATCHING = ("matching.view", "matching.add", "matching.edit")


@pytest.fixture(autouse=True)
def fresh_engine():
    # The engine is kept per process; each test builds it from its own database.
    index.reset()
    yield
    index.reset()
