import pytest

from hongniang.members.regions import load_regions


@pytest.fixture
def regions(db):
    load_regions()
