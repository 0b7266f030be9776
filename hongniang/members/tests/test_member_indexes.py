"""The member table keeps no index that duplicates another (each one costs every insert of an
import), and the look-ups by keyed hash reach the hashes' only index, the unique partial one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hongniang.frontdesk.models import MemberAccount
from hongniang.members import personal_data as pd
from hongniang.members.importing.pipeline import registered
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db

HASHES = {"mobile_hash": "member_mobile_unique", "id_number_hash": "member_id_number_unique"}


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: c["columns"] for name, c in found.items() if c["index"] or c["unique"]}


def test_the_hashes_and_the_region_have_no_second_index():
    for table in ("members_member", "members_historicalmember"):
        indexes = _indexes(table)
        for column in ("mobile_hash", "id_number_hash", "region", "lunar_birthday_md"):
            alone = sorted(name for name, cols in indexes.items() if cols == [column])
            expected = {
                ("members_member", "mobile_hash"): ["member_mobile_unique"],
                ("members_member", "id_number_hash"): ["member_id_number_unique"],
                ("members_member", "lunar_birthday_md"): ["member_lunar_birthday_md"],
            }.get((table, column), [])
            assert alone == expected, (table, column, alone)
    assert any(cols[0] == "region" for cols in _indexes("members_member").values())


def _plan(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A handful of test rows: without this the planner reads the table, whatever
            # indexes it could use. The question here is whether the index can be used.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(col) for row in cursor.fetchall() for col in row)


def _qs_plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    return _plan(sql, params)


@pytest.mark.parametrize("field", HASHES)
def test_a_look_up_by_hash_uses_the_unique_partial_index(field):
    plan = _qs_plan(Member.objects.filter(pd.hash_match(field, "ab" * 32)))
    assert HASHES[field] in plan, plan


def test_either_hash_uses_both_indexes():
    """registered_member's question: this mobile or this ID number."""
    q = pd.hash_match("mobile_hash", "ab" * 32) | pd.hash_match("id_number_hash", "cd" * 32)
    plan = _qs_plan(Member.objects.filter(q))
    assert all(index in plan for index in HASHES.values()), plan


def test_a_member_login_by_mobile_uses_the_index():
    plan = _qs_plan(MemberAccount.objects.filter(pd.hash_match("member__mobile_hash", "ab" * 32)))
    assert HASHES["mobile_hash"] in plan, plan


@pytest.mark.parametrize("field", HASHES)
def test_the_imports_look_up_of_many_hashes_uses_the_index(field):
    """Thousands of hashes in one query (an array on PostgreSQL, a JSON list on SQLite): past
    100 values PostgreSQL no longer infers the partial index's condition by itself."""
    values = {f"{n:064x}" for n in range(1, 500)}
    with CaptureQueriesContext(connection) as ctx:
        assert registered(field, values) == {}
    (query,) = ctx.captured_queries
    plan = _plan(query["sql"])
    assert HASHES[field] in plan, plan


def test_an_empty_hash_matches_nobody(org):
    add_member(org["aa1"])  # a member without an ID number: its hash is empty
    assert Member.objects.filter(id_number_hash="").exists()
    assert not Member.objects.filter(pd.hash_match("id_number_hash", "")).exists()
