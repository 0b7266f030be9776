from datetime import date

import pytest

from hongniang.frontdesk.models import MemberAccount
from hongniang.matching import index
from hongniang.members import choices as c
from hongniang.members.models import MatePreference, Member
from hongniang.members.tests.helpers import add_member, resident_id
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


# --- the member centre (issue 13) ---


@pytest.fixture
def fresh_engine():
    index.reset()
    yield
    index.reset()


def _candidate(actor, n: int, **extra) -> Member:
    """A man of another team, offered as a candidate, every private field a marker."""
    birthday = date(1990 + n % 4, 1 + n, 10)
    return add_member(
        actor,
        name=f"甄秘{'甲乙丙丁戊己庚辛'[n]}",
        sex=c.Sex.MALE,
        birthday=birthday,
        height=170 + n,
        username=f"mkuser{n}",
        email=f"mk{n}@marker.example",
        wechat=f"mkwx{n}",
        qq=f"7391840{n}",
        address=f"秘址路{n}号MARKADDR",
        mobile=f"1381111222{n}",
        id_number=resident_id(birthday, c.Sex.MALE, seq=60 + n),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
        **extra,
    )


@pytest.fixture
def world(org, member, after1, fresh_engine):
    """The member (a signed woman in service) and eight men of team B as candidates."""
    member.sales_stage = c.SalesStage.SIGNED
    member.service_status = c.ServiceStatus.IN_SERVICE
    member.save(update_fields=["sales_stage", "service_status"])
    MatePreference.objects.filter(member=member).update(age_min=28, age_max=38, height_min=170)
    men = [_candidate(org["bb1"], n, preference={"age_min": 25, "age_max": 35}) for n in range(8)]
    return {"member": member, "men": men, "after1": after1, "org": org}
