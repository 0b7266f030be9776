"""The public pages never tell an outsider whether a mobile or an ID number belongs to a member
(being a client of a matchmaking agency is private): the live checks look at the format only,
and a registration with a number already on file looks exactly like a new one to the visitor,
while the member's matchmaker is told."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from hongniang.frontdesk.models import FrontDeskSettings, MemberAccount, Registration
from hongniang.frontdesk.tests.test_registration import valid
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.messaging.models import Notice

pytestmark = pytest.mark.django_db

TAKEN_MOBILE, FREE_MOBILE = "13812347996", "13812340001"


@pytest.fixture
def lead_store(org):
    settings = FrontDeskSettings.load()
    settings.default_store = org["store_a"]
    settings.save()
    return org["store_a"]


@pytest.fixture
def taken(org):
    number = resident_id(date(1990, 1, 1), c.Sex.MALE)
    member = add_member(
        org["bb1"],
        username="secretmember",
        name="秘密会员",
        sex=c.Sex.MALE,
        birthday=date(1990, 1, 1),
        mobile=TAKEN_MOBILE,
        id_number=number,
    )
    return member, number


def test_the_mobile_check_answers_the_same_for_a_members_number_and_a_free_one(client, taken):
    url = reverse("frontdesk:check_mobile")
    answer_taken = client.get(url, {"mobile": TAKEN_MOBILE})
    answer_free = client.get(url, {"mobile": FREE_MOBILE})
    assert answer_taken.status_code == answer_free.status_code == 200
    assert answer_taken.content == answer_free.content
    assert "已登记" not in answer_taken.content.decode()
    # The format is still checked, in Chinese.
    bad = client.get(url, {"mobile": "12345"}).content.decode()
    assert "text-danger" in bad


def test_the_id_number_check_answers_the_same_for_a_members_number_and_a_free_one(client, taken):
    url = reverse("frontdesk:check_id_number")
    _member, number = taken
    free = resident_id(date(1991, 2, 3), c.Sex.MALE)
    answer_taken = client.get(url, {"id_number": number, "id_type": "resident_id"})
    answer_free = client.get(url, {"id_number": free, "id_type": "resident_id"})
    assert answer_taken.status_code == answer_free.status_code == 200
    assert answer_taken.content == answer_free.content
    assert "已登记" not in answer_taken.content.decode()
    assert "text-danger" in client.get(url, {"id_number": "110101199001011234"}).content.decode()


@pytest.mark.parametrize("which", ["mobile", "id_number"])
def test_registering_with_a_members_number_looks_like_a_new_registration(
    client, org, lead_store, regions, taken, which
):
    member, number = taken
    before = Member.objects.get(pk=member.pk)
    free = valid()
    again = (
        valid(mobile=TAKEN_MOBILE)
        if which == "mobile"
        else valid(
            id_type="resident_id",
            id_number=number,
            sex=c.Sex.MALE,
            birthday="1990-01-01",
            **{"pref-age_min": "20", "pref-age_max": "30"},
        )
    )
    response = client.post("/join/", again)
    # The same answer as a registration that is kept: off to the thanks page.
    assert response.status_code == 302 and response["Location"] == reverse("frontdesk:join_thanks")
    assert Member.objects.count() == 1
    assert not MemberAccount.objects.exists() and not Registration.objects.exists()
    after = Member.objects.get(pk=member.pk)
    assert (after.name, after.mobile_hash, after.updated_at) == (
        before.name,
        before.mobile_hash,
        before.updated_at,
    )
    # The member's matchmaker hears of it and can call them.
    notice = Notice.objects.get(recipient=org["bb1"])
    assert "秘密会员" in notice.text and notice.link == reverse("members:detail", args=[member.pk])
    # Nobody else does.
    assert not Notice.objects.exclude(recipient=org["bb1"]).exists()
    # A truly new registration from another address still works (the first one used none of
    # its limit differently).
    assert Client(REMOTE_ADDR="10.0.0.9").post("/join/", free).status_code == 302
    assert Member.objects.filter(username="xiaofang88").exists()
