"""A page read through its keys (KeyedPaginator) holds the rows of the ordinary page, in order,
with their related rows; on PostgreSQL the keys are collected as a value (ANY(ARRAY(…)))."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.staff.models import Staff
from hongniang.staff.tests.factories import StaffFactory
from hongniang.workbench.listing import KeyedPaginator


@pytest.fixture
def people(db):
    return [StaffFactory(name=f"红娘{i % 7}") for i in range(23)]


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(per_page=st.integers(1, 30), number=st.integers(1, 30), descending=st.booleans())
def test_a_keyed_page_is_the_ordinary_page(people, per_page, number, descending):
    order = ("-name", "-pk") if descending else ("name", "pk")
    qs = Staff.objects.select_related("store", "role").filter(pk__gt=0).order_by(*order)
    keyed = KeyedPaginator(qs, per_page).get_page(number)
    plain = Paginator(qs, per_page).get_page(number)
    assert keyed.number == plain.number
    assert [s.pk for s in keyed.object_list] == [s.pk for s in plain.object_list]
    with CaptureQueriesContext(connection) as ctx:
        names = [(s.store.name, s.role.name) for s in keyed.object_list]
    assert len(ctx.captured_queries) == 0  # the related rows came with the page
    assert names == [(s.store.name, s.role.name) for s in plain.object_list]


@pytest.mark.django_db
def test_the_page_collects_its_keys_first_on_postgresql(people):
    qs = Staff.objects.order_by("name", "pk")
    with CaptureQueriesContext(connection) as ctx:
        list(KeyedPaginator(qs, 5).get_page(2).object_list)
    sql = ctx.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY(SELECT" in sql
    else:
        assert " IN (SELECT" in sql
