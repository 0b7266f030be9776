"""The to-do list's follow-up entries, counted together in one query: for every viewer, the
overdue and due-today counts are those of the members the viewer sees in an open stage whose
next contact falls before today or today, and an entry shows its first members only when it
has any (an empty entry reads no preview)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.home.selectors import OPEN, todo_list
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.models import Staff
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
START = datetime(2026, 11, 26, tzinfo=SHANGHAI)
TOMORROW = START + timedelta(days=1)
VIEWERS = ("aa1", "bb1", "mgr1", "admin")
OWNERS = (None, "aa1", "aa2", "bb1")
STAGES = list(c.SalesStage.values)


@pytest.fixture
def crew(org):
    grants = ["members.view", "members.add", "presales.view", "matching.view"]
    matchmaker, manager = role_with(*grants), role_with(*grants, "members.allocate")
    for key in ("aa1", "aa2", "bb1", "mgr1", "mgr2"):
        org[key].role = manager if key.startswith("mgr") else matchmaker
        org[key].save()
    return org


def _expected(viewer, members) -> tuple[int, int]:
    seen = set(Member.objects.visible_to(viewer).values_list("pk", flat=True))
    mine = [
        m
        for m in members
        if m.pk in seen and m.sales_stage in OPEN and m.next_contact_at is not None
    ]
    overdue = sum(1 for m in mine if m.next_contact_at < START)
    due = sum(1 for m in mine if START <= m.next_contact_at < TOMORROW)
    return overdue, due


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(OWNERS),
            st.sampled_from(OWNERS),
            st.sampled_from(STAGES),
            # hours from now: before today, earlier or later today, tomorrow and after; or none
            st.one_of(st.none(), st.integers(-72, 48)),
        ),
        max_size=8,
    )
)
def test_overdue_and_due_today_count_the_viewers_open_members(crew, rows):
    Member.objects.all().delete()
    members = []
    for pre, after, stage, hours in rows:
        m = add_member(crew["aa1"])
        Member.objects.filter(pk=m.pk).update(
            presales_owner=crew[pre] if pre else None,
            aftersales_owner=crew[after] if after else None,
            sales_stage=stage,
            next_contact_at=None if hours is None else NOW + timedelta(hours=hours),
        )
        members.append(m)
    members = list(Member.objects.filter(pk__in=[m.pk for m in members]))
    for key in VIEWERS:
        viewer = Staff.objects.select_related("role").get(pk=crew[key].pk)
        with freeze_time(NOW):
            entries = {e.key: e for e in todo_list(viewer=viewer)}
        overdue, due = _expected(viewer, members)
        got = (
            entries["overdue"].count if "overdue" in entries else 0,
            entries["due_today"].count if "due_today" in entries else 0,
        )
        assert got == (overdue, due), key
        for name, n in (("overdue", overdue), ("due_today", due)):
            if n:  # the first members, in the order of their next contact
                assert len(entries[name].items) == min(n, 5)


def test_an_empty_entry_reads_no_preview(crew):
    member = add_member(crew["aa1"], name="明天联系")
    Member.objects.filter(pk=member.pk).update(
        sales_stage=c.SalesStage.FOLLOWING, next_contact_at=NOW + timedelta(hours=3)
    )
    viewer = Staff.objects.select_related("role").get(pk=crew["aa1"].pk)
    with freeze_time(NOW):
        todo_list(viewer=viewer)  # the per-process caches (settings, permissions)
        with CaptureQueriesContext(connection) as ctx:
            entries = {e.key: e for e in todo_list(viewer=viewer)}
    assert "overdue" not in entries
    (label, _url, _detail), *more = entries["due_today"].items
    assert "明天联系" in label and str(member.pk) in label and not more
    by_next_contact = 'ORDER BY "members_member"."next_contact_at" ASC'
    previews = [q["sql"] for q in ctx.captured_queries if by_next_contact in q["sql"]]
    assert len(previews) == 1  # due today's; nothing read for the empty overdue entry
