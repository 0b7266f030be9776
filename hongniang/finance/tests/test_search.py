"""Searching the finance lists: by member name, UID, mobile or ID number (through the keyed
hashes), contract or refund number; always within what the viewer may see."""

from datetime import date

import pytest
from django.urls import reverse

from hongniang.finance import selectors, services
from hongniang.finance.tests.helpers import approve, draft, effective, finance_crew
from hongniang.members import choices as c
from hongniang.members.tests.helpers import add_member, resident_id

pytestmark = pytest.mark.django_db

ID_NUMBER = resident_id(date(1990, 3, 4), c.Sex.FEMALE, seq=31)
MOBILE = "13912345678"


@pytest.fixture
def crew(org):
    return finance_crew(org)


@pytest.fixture
def two_contracts(crew):
    ours = add_member(
        crew["aa1"], name="林晓雨", id_number=ID_NUMBER, mobile=MOBILE, birthday=date(1990, 3, 4)
    )
    theirs = add_member(crew["bb1"], name="林晓雨", store=crew["store_b"])
    mine = effective(crew, ours)
    other = draft(crew["bb1"], theirs)
    services.contract_submit(actor=crew["bb1"], contract=other)
    return mine, approve(crew["fin"], other)


def numbers(qs):
    return sorted(k.number for k in qs)


def test_contracts_found_by_name_uid_mobile_id_number_and_number(crew, two_contracts):
    mine, other = two_contracts
    fin = crew["fin"]
    assert numbers(selectors.contract_list(viewer=fin, filters={"q": "晓雨"})) == numbers(
        [mine, other]
    )
    for q in (str(mine.member_id), MOBILE, ID_NUMBER, ID_NUMBER.lower(), mine.number[:-1]):
        found = numbers(selectors.contract_list(viewer=fin, filters={"q": q}))
        assert mine.number in found, q
        assert other.number not in found or q == mine.number[:-1], q
    assert not selectors.contract_list(viewer=fin, filters={"q": "13900000000"}).exists()


def test_a_number_never_finds_another_teams_contract(crew, two_contracts):
    mine, other = two_contracts
    # aa1 sees only their own member, even searching the other member's name, UID or number.
    for q in ("林晓雨", str(other.member_id), other.number):
        assert other.number not in numbers(
            selectors.contract_list(viewer=crew["aa1"], filters={"q": q})
        ), q
    assert not selectors.contract_list(viewer=crew["bb1"], filters={"q": ID_NUMBER}).exists()
    assert numbers(selectors.contract_list(viewer=crew["aa1"], filters={"q": "林晓雨"})) == [
        mine.number
    ]


def test_refunds_found_by_the_members_id_number(client, crew, two_contracts):
    mine, other = two_contracts
    ours = services.refund_request(actor=crew["aa1"], contract=mine, amount="100", reason="搬家")
    theirs = services.refund_request(actor=crew["bb1"], contract=other, amount="100", reason="搬家")
    client.force_login(crew["fin"])
    page = client.get(reverse("finance:refunds"), {"q": ID_NUMBER})
    assert page.status_code == 200
    assert [r.pk for r, _view in page.context["rows"]] == [ours.pk]
    assert [r.pk for r in selectors.refund_list(viewer=crew["fin"], filters={"q": "搬"})] == []
    by_name = selectors.refund_list(viewer=crew["fin"], filters={"q": "晓雨"})
    assert {r.pk for r in by_name} == {ours.pk, theirs.pk}
    # A malformed number matches nobody and is no error.
    assert client.get(reverse("finance:refunds"), {"q": "44010619900304"}).status_code == 200


def test_payments_found_by_member_and_reference(crew, two_contracts):
    mine, _other = two_contracts
    found = selectors.payment_list(viewer=crew["fin"], filters={"q": ID_NUMBER})
    assert [p.contract_id for p in found] == [mine.pk]
    assert selectors.payment_list(viewer=crew["fin"], filters={"q": "WX0001"}).count() == 2


def test_each_viewer_lists_the_contracts_of_the_members_they_see(crew, two_contracts):
    mine, other = two_contracts
    assert numbers(selectors.contract_list(viewer=crew["mgr1"])) == [mine.number]
    assert numbers(selectors.contract_list(viewer=crew["mgr2"])) == [other.number]
    assert numbers(selectors.contract_list(viewer=crew["admin"])) == numbers([mine, other])
