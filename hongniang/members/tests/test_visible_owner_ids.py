"""Member visibility tests the owners against the viewer's staff ids as literal values (one small
query per request), not against a subquery of the staff table: the same rows, for any tree."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.models import Staff
from hongniang.staff.tests.factories import RoleFactory, StaffFactory, StoreFactory
from hongniang.staff.visibility import (
    DataScope,
    VisibleStaffMiddleware,
    visible_staff_ids,
    visible_staff_q,
)

MEMBERS = 12


def old_definition(viewer) -> set[int]:
    """Visibility as it was written before: each owner `IN` a subquery of the visible staff."""
    if viewer.is_superuser or viewer.role.data_scope == DataScope.ALL:
        return set(Member.objects.values_list("pk", flat=True))
    staff = Staff.objects.filter(visible_staff_q(viewer)).values("pk")
    return set(
        Member.objects.filter(
            Q(presales_owner_id__in=staff) | Q(aftersales_owner_id__in=staff)
        ).values_list("pk", flat=True)
    )


def _members(actor) -> list[int]:
    """The same few members for every example (the examples share one database)."""
    existing = list(Member.objects.order_by("pk").values_list("pk", flat=True))
    while len(existing) < MEMBERS:
        existing.append(add_member(actor, name=f"会员{len(existing)}").pk)
    return existing


agencies = st.tuples(
    # staff: (supervisor pick, data scope, store pick)
    st.lists(
        st.tuples(st.integers(0, 50), st.sampled_from(list(DataScope.values)), st.integers(0, 2)),
        min_size=1,
        max_size=8,
    ),
    # each member's two owners: an index into the staff, or None
    st.lists(
        st.tuples(st.none() | st.integers(0, 50), st.none() | st.integers(0, 50)),
        min_size=MEMBERS,
        max_size=MEMBERS,
    ),
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(agency=agencies)
def test_literal_ids_select_the_rows_the_subquery_selected(agency):
    staff_spec, owners = agency
    stores = [StoreFactory(), StoreFactory(), StoreFactory()]
    roles = {scope: RoleFactory(data_scope=scope) for scope in DataScope}
    people: list[Staff] = []
    for index, (parent_pick, scope, store_pick) in enumerate(staff_spec):
        parent = people[parent_pick % index] if index and parent_pick % 3 else None
        people.append(StaffFactory(role=roles[scope], store=stores[store_pick], supervisor=parent))
    members = _members(people[0])
    for pk, (pre, after) in zip(members, owners, strict=True):
        Member.objects.filter(pk=pk).update(
            presales_owner=None if pre is None else people[pre % len(people)],
            aftersales_owner=None if after is None else people[after % len(people)],
        )
    for viewer in people:
        viewer = Staff.objects.select_related("role").get(pk=viewer.pk)
        expected = old_definition(viewer)
        assert set(Member.objects.visible_to(viewer).values_list("pk", flat=True)) == expected
        for apart in (False, True):
            keys = Member.objects.visible_keys(viewer, apart=apart)
            found = set(Member.objects.filter(pk__in=keys).values_list("pk", flat=True))
            assert found == expected, apart


@pytest.mark.django_db
def test_the_filter_names_the_staff_ids_not_a_subquery(org):
    sql = str(Member.objects.visible_to(org["mgr1"]).query)
    ids = sorted(visible_staff_ids(org["mgr1"]))
    assert ids == sorted(o.pk for o in (org["mgr1"], org["aa1"], org["aa2"]))
    assert "staff_staff" not in sql
    assert "SELECT" not in sql.split("WHERE", 1)[1]


@pytest.mark.django_db
def test_a_request_resolves_the_staff_ids_once(org):
    viewer = org["mgr1"]

    def page(request):
        for _ in range(3):
            list(Member.objects.visible_to(viewer))
            list(Member.objects.filter(pk__in=Member.objects.visible_keys(viewer)))
        return None

    with CaptureQueriesContext(connection) as ctx:
        VisibleStaffMiddleware(page)(RequestFactory().get("/"))
    staff_queries = [q for q in ctx.captured_queries if '"staff_staff"' in q["sql"]]
    assert len(staff_queries) == 1


@pytest.mark.django_db
def test_the_next_request_sees_a_new_team_member(org):
    viewer, seen = org["mgr1"], []

    def page(request):
        seen.append(set(visible_staff_ids(viewer)))
        return None

    middleware = VisibleStaffMiddleware(page)
    middleware(RequestFactory().get("/"))
    newcomer = StaffFactory(role=org["aa1"].role, store=viewer.store, supervisor=viewer)
    middleware(RequestFactory().get("/"))
    assert newcomer.pk not in seen[0]
    assert newcomer.pk in seen[1]
    # outside a request nothing is kept
    moved = StaffFactory(role=org["aa1"].role, store=viewer.store, supervisor=org["mgr2"])
    assert moved.pk not in visible_staff_ids(viewer)
    moved.supervisor = viewer
    moved.save()
    assert moved.pk in visible_staff_ids(viewer)


@pytest.mark.django_db
def test_a_viewer_serving_nobody_sees_no_members(org):
    lone = StaffFactory(role=RoleFactory(data_scope=DataScope.SUBTREE), store=None)
    add_member(org["aa1"], presales_owner=org["aa1"])
    assert list(Member.objects.visible_to(lone)) == []
    assert not Member.objects.filter(pk__in=Member.objects.visible_keys(lone)).exists()
