import pytest

from hongniang.staff.tests.factories import StaffFactory, StoreFactory, role_with
from hongniang.staff.visibility import DataScope


@pytest.fixture
def org(db):
    """A small agency: admin → two managers (one per store... both in store A) → matchmakers."""
    store_a, store_b = StoreFactory(name="A店"), StoreFactory(name="B店")
    admin_role = role_with(scope=DataScope.ALL, name="管理员", *_all())
    manager_role = role_with(
        "staff.view", "staff.add", "staff.edit", "staff.delete", "members.view", name="经理"
    )
    mm_role = role_with("staff.view", "members.view", name="红娘")
    admin = StaffFactory(username="admin", role=admin_role, store=store_a)
    m1 = StaffFactory(username="mgr1", role=manager_role, store=store_a, supervisor=admin)
    m2 = StaffFactory(username="mgr2", role=manager_role, store=store_a, supervisor=admin)
    a1 = StaffFactory(username="aa1", role=mm_role, store=store_a, supervisor=m1)
    a2 = StaffFactory(username="aa2", role=mm_role, store=store_a, supervisor=m1)
    b1 = StaffFactory(username="bb1", role=mm_role, store=store_b, supervisor=m2)
    return {
        "admin": admin,
        "mgr1": m1,
        "mgr2": m2,
        "aa1": a1,
        "aa2": a2,
        "bb1": b1,
        "store_a": store_a,
        "store_b": store_b,
        "manager_role": manager_role,
        "mm_role": mm_role,
        "admin_role": admin_role,
    }


def _all():
    from hongniang.staff.permissions import ALL_GRANTS

    return ALL_GRANTS
