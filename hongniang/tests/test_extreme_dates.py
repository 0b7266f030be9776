"""Dates at the ends of the calendar (0001-01-01, 9999-12-31) typed into any date field or
filter: a clear Chinese error or an ignored filter, nothing stored, never a server error (they
overflowed when turned into the time zone's midnight or into UTC)."""

from datetime import date

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.members.tests.helpers import add_member
from hongniang.sales.models import FollowUp

pytestmark = pytest.mark.django_db

FILTERS = [
    ("members:list", "mgr1", ("registered_from", "registered_to")),
    ("siteconfig:audit", "admin", ("date_from", "date_to")),
    ("siteconfig:personal_data", "admin", ("date_from", "date_to")),
]


@pytest.mark.parametrize("url_name,who,params", FILTERS)
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_filters_at_the_ends_of_the_calendar_answer(client, org, url_name, who, params, day):
    client.force_login(org[who])
    for param in params:
        response = client.get(reverse(url_name), {param: day})
        assert response.status_code == 200, (url_name, param)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_follow_up_search_at_the_ends_of_the_calendar_answers(client, org, day):
    member = add_member(org["aa1"])
    client.force_login(org["aa1"])
    url = reverse("sales:follow_ups", args=[member.pk])
    for param in ("date_from", "date_to"):
        assert client.get(url, {param: day}).status_code == 200


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_any_date_in_the_member_filter_answers(client, org, day):
    client.force_login(org["mgr1"])
    for param in ("registered_from", "registered_to"):
        response = client.get(reverse("members:list"), {param: day.isoformat()})
        assert response.status_code == 200


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_follow_up_at_the_ends_of_the_calendar_is_refused_in_chinese(client, org, moment):
    member = add_member(org["aa1"])
    org["aa1"].role.grants = [*org["aa1"].role.grants, "presales.add"]
    org["aa1"].role.save()
    client.force_login(org["aa1"])
    before = FollowUp.objects.count()
    response = client.post(
        reverse("sales:follow_up_add", args=[member.pk]),
        {"effective": "1", "contacted_at": moment, "next_contact_at": moment, "remark": "试试"},
    )
    assert response.status_code == 200
    assert "1900" in response.content.decode() and "2100" in response.content.decode()
    assert FollowUp.objects.count() == before
