"""Fixtures shared by the sales tests."""

import pytest

from hongniang.staff.tests.factories import StaffFactory, role_with


@pytest.fixture
def crew(org):
    """The test agency with follow-up rights for both teams' matchmakers and managers, and
    a member-viewer of team A without them."""
    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "presales.add",
        "aftersales.view",
        "aftersales.add",
    )
    for key in ("aa1", "aa2", "bb1", "mgr1", "mgr2"):
        org[key].role = role
        org[key].save()
    org["viewer_only"] = StaffFactory(
        role=role_with("members.view"), store=org["store_a"], supervisor=org["mgr1"]
    )
    return org
