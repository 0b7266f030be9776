"""The live checks on the member form say only "in use", to those who may add members, slowly."""

from datetime import date

import pytest
from django.core.cache import cache
from django.urls import reverse

from hongniang.members import choices as c
from hongniang.members import services
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db

NUMBER = resident_id(date(1990, 3, 4), c.Sex.MALE)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def taken(org):
    """A member of mgr2's team (bb1) with a mobile and an ID number."""
    return add_member(
        org["bb1"],
        name="秘密会员",
        username="secretmember",
        mobile="13812347996",
        sex=c.Sex.MALE,
        birthday=None,
        id_number=NUMBER,
    )


CHECKS = [
    ("members:check_mobile", {"mobile": "13812347996"}),
    ("members:check_id_number", {"id_number": NUMBER}),
]


@pytest.mark.parametrize("url_name,params", CHECKS)
def test_in_use_says_nothing_about_where(client, org, taken, url_name, params):
    client.force_login(org["aa1"])  # another team than the member's
    response = client.get(reverse(url_name), params)
    text = response.content.decode()
    assert response.status_code == 200 and "text-danger" in text and "已" in text
    for secret in ("秘密会员", "secretmember", str(taken.pk), org["bb1"].name, "bb1"):
        assert secret not in text


@pytest.mark.parametrize("url_name,params", CHECKS)
def test_only_users_who_may_add_members_may_check(client, org, taken, url_name, params):
    viewer = StaffFactory(
        role=role_with("members.view", "members.edit"),
        store=org["store_a"],
        supervisor=org["mgr1"],
    )
    client.force_login(viewer)
    assert client.get(reverse(url_name), params).status_code == 403
    client.logout()
    assert client.get(reverse(url_name), params).status_code == 302  # to the login page


@pytest.mark.parametrize("url_name,params", CHECKS)
def test_excluding_a_member_works_only_for_a_member_one_can_see(
    client, org, taken, url_name, params
):
    """Else "free when excluding member X" would tell that X has the number."""
    client.force_login(org["aa1"])
    text = client.get(reverse(url_name), {**params, "member": taken.pk}).content.decode()
    assert "text-danger" in text
    client.force_login(org["mgr2"])  # bb1's manager edits the member: their own number is free
    text = client.get(reverse(url_name), {**params, "member": taken.pk}).content.decode()
    assert "text-success" in text


def test_checks_are_rate_limited_per_user(client, org, monkeypatch):
    monkeypatch.setattr(services, "_minute", lambda: 1)  # no new minute half-way through
    client.force_login(org["aa1"])
    url = reverse("members:check_mobile")
    for _ in range(services.LIVE_CHECKS_PER_MINUTE):
        assert client.get(url, {"mobile": "13912345678"}).status_code == 200
    response = client.get(reverse("members:check_id_number"), {"id_number": NUMBER})
    assert response.status_code == 429
    assert "过于频繁" in response.content.decode()
    client.force_login(org["aa2"])  # another user has their own allowance
    assert client.get(url, {"mobile": "13912345678"}).status_code == 200
    client.force_login(org["aa1"])
    monkeypatch.setattr(services, "_minute", lambda: 2)  # a minute later
    assert client.get(url, {"mobile": "13912345678"}).status_code == 200


def test_the_edit_form_offers_live_checks_only_to_those_who_may_use_them(client, org, taken):
    from hongniang.members.forms import MemberForm

    editor = StaffFactory(
        role=role_with("members.view", "members.edit"), store=org["store_a"], supervisor=org["mgr2"]
    )
    assert "hx-get" not in str(MemberForm(instance=taken, viewer=editor)["mobile"])
    assert "hx-get" in str(MemberForm(instance=taken, viewer=org["mgr2"])["mobile"])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_form_shows_the_too_many_checks_message(page, org, monkeypatch):
    from hongniang.conftest import login

    monkeypatch.setattr(services, "LIVE_CHECKS_PER_MINUTE", 0)
    org["aa1"].set_password("Pw-12345678")
    org["aa1"].save()
    login(page, "aa1", "Pw-12345678")
    page.goto(f"{page.base_url}{reverse('members:create')}")
    page.fill("#id_mobile", "13912345678")
    page.locator("#id_mobile").dispatch_event("change")
    page.wait_for_selector("#mobile-check :text('过于频繁')")
