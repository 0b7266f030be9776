import pytest

from hongniang.frontdesk.models import MemberAccount
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import StaffFactory, role_with

MEMBER_PASSWORD = "Member-pass-2026"
SECURITY_PASSWORD = "Secure-999"  # the staff factory's


def give_account(member, password=MEMBER_PASSWORD, **fields) -> MemberAccount:
    account = MemberAccount(member=member, **fields)
    account.set_password(password)
    account.save()
    return account


@pytest.fixture
def after_role(db):
    """An after-sales matchmaker's rights, as the demo agency grants them."""
    return role_with(
        "members.view",
        "members.edit",
        "aftersales.view",
        "aftersales.add",
        "aftersales.edit",
        "matching.view",
        name="售后红娘",
    )


@pytest.fixture
def after1(org, after_role):
    """An after-sales matchmaker under mgr1, with a member of her own (and an account)."""
    return StaffFactory(
        username="after1",
        name="李红娘",
        role=after_role,
        store=org["store_a"],
        supervisor=org["mgr1"],
        mobile="13700001111",
        public_title="资深红娘李老师",
        show_on_site=True,
    )


@pytest.fixture
def member(org, after1):
    m = add_member(org["mgr1"], name="王小芳", username="xiaofang", mobile="13912345678")
    m.aftersales_owner = after1
    m.save(update_fields=["aftersales_owner"])
    give_account(m)
    return m
