"""The ids a process watches for (log rows that may still commit below ones it has seen) are
read as ranges of consecutive ids: the same rows as a list of them, without sending thousands
of ids with every request after the sequence jumped."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching import index
from hongniang.matching.models import EngineChange, EngineChangeKind


@pytest.fixture
def log(db):
    ids = [*range(1, 21), *range(40, 46), 60, 61, 90]
    EngineChange.objects.bulk_create(
        EngineChange(id=i, kind=EngineChangeKind.MEMBER, member_id=i) for i in ids
    )
    return ids


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(watched=st.sets(st.integers(min_value=1, max_value=100), max_size=60))
def test_watched_ids_read_as_ranges_give_the_same_rows_as_a_list(log, watched):
    by_ranges = set(EngineChange.objects.filter(index._ids_q(watched)).values_list("id", flat=True))
    assert by_ranges == set(log) & watched
    rest = set(EngineChange.objects.exclude(index._ids_q(watched)).values_list("id", flat=True))
    assert rest == set(log) - watched if watched else rest == set(log)


def test_a_jump_in_the_sequence_is_one_range(log):
    where = index._ids_q(set(range(1000, 11000)) | {5})
    assert str(where).count("range") == 1
    assert list(EngineChange.objects.filter(where).values_list("id", flat=True)) == [5]
