"""Bulk inserts (COPY on PostgreSQL, executemany elsewhere): every value comes back as it went in,
whatever characters a text holds, and a bad row leaves nothing of the batch behind."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.members.models import EventKind, MemberEvent
from hongniang.members.tests.helpers import add_member
from hongniang.workbench.bulk import insert_rows

pytestmark = pytest.mark.django_db

COLUMNS = ["member_id", "kind", "actor_id", "summary", "data", "created_at"]
WHEN = datetime(2026, 11, 25, 23, 59, 58, 123456, tzinfo=UTC)


def _fields():
    return [MemberEvent._meta.get_field(name) for name in COLUMNS]


def _row(member_id, summary, data, actor_id=None, kind=EventKind.IMPORTED):
    values = [member_id, kind, actor_id, summary, data, WHEN]
    return [f.get_db_prep_save(v, connection) for f, v in zip(_fields(), values, strict=True)]


def _written(member):
    # add_member wrote an event of its own; the bulk rows are those of this moment.
    return MemberEvent.objects.filter(member=member, created_at=WHEN).order_by("pk")


def _insert(rows):
    insert_rows(MemberEvent._meta.db_table, [f.column for f in _fields()], rows)


@pytest.fixture
def member(org):
    return add_member(org["aa1"])


def test_rows_come_back_as_written(member, org):
    texts = ["制表\t符", "换行\n与回车\r", "反斜杠 \\N \\. \\\\", "引号 ' \" ,;|", "", "导入 🎉"]
    data = {"行": 3, "file": "a\tb\\c.xlsx", "list": [1, None, "二"], "nested": {"x": True}}
    _insert(_row(member.pk, t, data, actor_id=org["aa1"].pk) for t in texts)
    stored = list(_written(member))
    assert [e.summary for e in stored] == texts
    assert all(e.data == data for e in stored)
    assert all(e.created_at == WHEN and e.actor_id == org["aa1"].pk for e in stored)
    assert all(e.kind == EventKind.IMPORTED for e in stored)


def test_no_rows_is_nothing(member):
    _insert([])
    assert not _written(member).exists()


def test_a_bad_row_leaves_nothing_of_the_batch(member):
    """A row the database refuses (a NULL in a required column) after good ones: the whole
    statement fails inside the caller's transaction, and no row of it is kept."""
    good = [_row(member.pk, f"第{n}行", {}) for n in range(10)]
    bad = _row(member.pk, "坏行", {}, kind=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert([*good, bad])
    assert not _written(member).exists()


# Text as a spreadsheet cell may hold it: any character but NUL (no database text column keeps
# it; the import strips control characters before this point).
_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=60)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


@given(rows=st.lists(st.tuples(_text, st.dictionaries(_text, _json, max_size=4)), max_size=20))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_and_json_round_trip(member, rows):
    _written(member).delete()
    _insert(_row(member.pk, text, data) for text, data in rows)
    stored = _written(member)
    assert [(e.summary, e.data) for e in stored] == rows
