"""The home to-do list's finance items: what waits for finance, contracts ending, and members
short of their contract's promise in the month's last week."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from hongniang.finance import services
from hongniang.finance.tests.helpers import draft, effective, finance_crew, plan
from hongniang.home.selectors import todo_list
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


def entries(viewer, now=None):
    return {e.key: e for e in todo_list(viewer=viewer, now=now)}


def test_finance_sees_what_waits_and_sales_see_members_short_of_the_promise(org):
    crew = finance_crew(org)
    today = timezone.localdate()
    waiting = draft(crew["aa1"], add_member(crew["aa1"]))
    services.contract_submit(actor=crew["aa1"], contract=waiting)
    assert entries(crew["fin"])["contracts_waiting"].count == 1
    assert "contracts_waiting" not in entries(crew["aa1"])  # sales do not approve
    member = add_member(crew["aa1"], name="周小雅")
    effective(crew, member, plans=[plan(intros=2, dates=1)], service_start=today.replace(day=1))
    last_week = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=3)
    noon = timezone.make_aware(datetime.combine(last_week, datetime.min.time())) + timedelta(
        hours=12
    )
    mine = entries(crew["aa1"], noon)
    assert mine["behind_promise"].count == 1
    label, _url, detail = mine["behind_promise"].items[0]
    assert "周小雅" in label and "0/2" in detail
    assert "behind_promise" not in entries(crew["bb1"], noon)  # another team's matchmaker
    early = timezone.make_aware(datetime.combine(today.replace(day=1), datetime.min.time()))
    assert "behind_promise" not in entries(crew["aa1"], early + timedelta(hours=12))
