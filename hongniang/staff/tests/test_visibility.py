"""visible_to against a plainly written reference, for random trees and data scopes."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.staff.models import Staff
from hongniang.staff.tests.factories import RoleFactory, StaffFactory, StoreFactory
from hongniang.staff.visibility import DataScope


def reference_can_see(viewer: Staff, target: Staff, scope: str, supervisor_of: dict) -> bool:
    """The rule as the whitepaper states it, walking the supervisor chain one step at a time."""
    if scope == DataScope.ALL:
        return True
    if viewer.pk == target.pk:
        return True
    if scope == DataScope.SELF:
        return False
    node = supervisor_of.get(target.pk)
    while node is not None:
        if node == viewer.pk:
            return True
        node = supervisor_of.get(node)
    return scope == DataScope.STORE and viewer.store_id == target.store_id


trees = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=50),
        st.sampled_from(list(DataScope.values)),
        st.integers(min_value=0, max_value=1),
    ),
    min_size=1,
    max_size=9,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(spec=trees)
def test_visible_to_matches_reference_for_every_pair(spec):
    Staff.objects.update(supervisor=None)
    Staff.objects.all().delete()
    stores = [StoreFactory(), StoreFactory()]
    roles = {scope: RoleFactory(data_scope=scope, grants=["staff.view"]) for scope in DataScope}
    people: list[Staff] = []
    for index, (parent_pick, scope, store_pick) in enumerate(spec):
        # Parent is any earlier person (or nobody), so the structure is always a forest.
        parent = people[parent_pick % index] if index and parent_pick % 3 else None
        people.append(StaffFactory(role=roles[scope], store=stores[store_pick], supervisor=parent))
    supervisor_of = {p.pk: p.supervisor_id for p in people}
    for viewer in people:
        viewer = Staff.objects.select_related("role").get(pk=viewer.pk)
        seen = set(Staff.objects.visible_to(viewer).values_list("pk", flat=True))
        expected = {
            t.pk
            for t in people
            if reference_can_see(viewer, t, viewer.role.data_scope, supervisor_of)
        }
        assert seen == expected, (viewer.username, viewer.role.data_scope)


@pytest.mark.django_db
def test_moving_a_manager_moves_their_team(org):
    m1, m2, a1 = org["mgr1"], org["mgr2"], org["aa1"]
    m1.supervisor = m2
    m1.full_clean()
    m1.save()
    a1.refresh_from_db()
    assert a1.path == f"{m2.path}{m1.pk}/{a1.pk}/"
    assert set(Staff.objects.visible_to(m2).values_list("username", flat=True)) == {
        "mgr2",
        "mgr1",
        "aa1",
        "aa2",
        "bb1",
    }


@pytest.mark.django_db
def test_supervisor_cycle_is_refused(org):
    from django.core.exceptions import ValidationError

    m1 = org["mgr1"]
    m1.supervisor = org["aa1"]  # a1 reports to m1: this would make a loop
    with pytest.raises(ValidationError) as exc:
        m1.full_clean()
    assert "supervisor" in exc.value.message_dict
    m1.supervisor = m1
    with pytest.raises(ValidationError):
        m1.full_clean()


@pytest.mark.django_db
def test_peer_manager_sees_neither_peer_nor_their_team(org):
    visible = set(Staff.objects.visible_to(org["mgr2"]).values_list("username", flat=True))
    assert visible == {"mgr2", "bb1"}
    visible = set(Staff.objects.visible_to(org["mgr1"]).values_list("username", flat=True))
    assert visible == {"mgr1", "aa1", "aa2"}
    assert set(Staff.objects.visible_to(org["aa1"]).values_list("username", flat=True)) == {"aa1"}
