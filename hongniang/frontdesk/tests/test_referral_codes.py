"""Referral codes from the outside: a code of someone who does no pre-sales work (finance, say)
credits nobody, a code typed by hand or too long credits nobody, and neither gives a member an
owner who cannot serve them."""

import pytest
from django.test import Client

from hongniang.frontdesk.models import FrontDeskSettings, Registration
from hongniang.frontdesk.services import referral_code_for
from hongniang.frontdesk.tests.test_registration import valid
from hongniang.members.models import Allocation, Member
from hongniang.staff.tests.factories import StaffFactory, role_with
from hongniang.staff.visibility import DataScope

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_store(org):
    settings = FrontDeskSettings.load()
    settings.default_store = org["store_a"]
    settings.save()
    return org["store_a"]


def test_a_code_of_someone_without_pre_sales_work_credits_nobody(org, lead_store, regions):
    finance = StaffFactory(
        role=role_with("finance.view", "members.view", scope=DataScope.ALL),
        store=org["store_a"],
        supervisor=org["admin"],
    )
    staff = Client()
    staff.force_login(finance)
    code = referral_code_for(finance).code
    page = Client().get("/join/", {"ref": code}).content.decode()
    assert finance.name not in page
    assert Client().post("/join/", valid(ref=code)).status_code == 302
    member = Member.objects.get(username="xiaofang88")
    assert member.presales_owner is None and member.store == lead_store
    assert not Allocation.objects.filter(member=member).exists()
    assert Registration.objects.get(member=member).referrer is None


@pytest.mark.parametrize("code", ["", "x" * 500, "../../etc", "%00", "' OR 1=1 --"])
def test_made_up_codes_credit_nobody(client, org, lead_store, regions, code):
    assert client.post("/join/", valid(ref=code)).status_code == 302
    member = Member.objects.get(username="xiaofang88")
    assert member.presales_owner is None
    landing = client.get(f"/join/r/{code or 'x'}/")
    assert landing.status_code in (302, 404)
