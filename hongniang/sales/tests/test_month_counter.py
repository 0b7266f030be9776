"""The members' month counter of follow-ups (`follow_up_month`, `month_follow_ups`), kept by the
follow-up service: whatever the order and dates of the follow-ups, it holds the month of the
latest contact and the follow-ups contacted in it, and the home page's "follow-ups this month"
summed from it is the count of this month's follow-ups of the members the viewer sees."""

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.home.selectors import business_figures
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.sales.models import FollowUp
from hongniang.sales.services import contact_month
from hongniang.sales.tests.test_follow_ups import record
from hongniang.staff.models import Staff

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 12, 10, 0, tzinfo=SHANGHAI)


def expected(member) -> tuple:
    """The counter recomputed from the member's follow-ups."""
    months = [contact_month(t) for t in member.follow_ups.values_list("contacted_at", flat=True)]
    if not months:
        return None, None
    latest = max(months)
    return latest, Counter(months)[latest]


def test_a_later_month_starts_the_count_and_an_earlier_one_leaves_it(crew):
    member = add_member(crew["aa1"])
    with freeze_time(NOW):
        now = timezone.now()
        for days_back in (40, 3, 45, 0, 20, 1):  # October, November, September, ...
            record(crew["aa1"], member, contacted_at=now - timedelta(days=days_back))
        member.refresh_from_db()
    assert (member.follow_up_month, member.month_follow_ups) == (NOW.date().replace(day=1), 3)
    assert (member.follow_up_month, member.month_follow_ups) == expected(member)


def test_a_contact_a_few_minutes_ahead_at_the_end_of_a_month_counts_in_this_month(crew):
    """A browser clock a few minutes fast: the contact is recorded as now, in this month."""
    member = add_member(crew["aa1"])
    last_minute = datetime(2026, 11, 30, 23, 57, tzinfo=SHANGHAI)
    with freeze_time(last_minute):
        record(crew["aa1"], member, contacted_at=last_minute - timedelta(days=2))
        ahead = record(crew["aa1"], member, contacted_at=last_minute + timedelta(minutes=4))
        member.refresh_from_db()
        viewer = Staff.objects.select_related("role").get(pk=crew["aa1"].pk)
        figures = business_figures(viewer=viewer)
    ahead.refresh_from_db()
    assert ahead.contacted_at == last_minute
    assert (member.follow_up_month, member.month_follow_ups) == (date(2026, 11, 1), 2)
    assert (member.follow_up_month, member.month_follow_ups) == expected(member)
    assert figures["follow_ups_done"] == 2


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    notes=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 80 * 24)),
        max_size=14,
    ),
    signed=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_the_home_figure_is_this_months_follow_ups_of_the_visible_members(crew, notes, signed):
    FollowUp.objects.all().delete()
    Member.objects.update(follow_up_month=None, month_follow_ups=None)
    members = list(Member.objects.order_by("pk")[:4])
    while len(members) < 4:
        members.append(add_member(crew["aa1"]))
    # two of them in another team; some signed (their notes are after-sales service notes)
    for i, m in enumerate(members):
        owner = crew["aa1"] if i < 2 else crew["bb1"]
        stage = "signed" if signed[i] else "following"
        Member.objects.filter(pk=m.pk).update(presales_owner=owner, sales_stage=stage)
    with freeze_time(NOW):
        now = timezone.now()
        for who, hours_back in notes:
            member = Member.objects.get(pk=members[who].pk)
            actor = crew["aa1"] if who < 2 else crew["bb1"]
            record(actor, member, contacted_at=now - timedelta(hours=hours_back))
        for m in members:
            m.refresh_from_db()
            assert (m.follow_up_month, m.month_follow_ups) == expected(m)
        month_start = datetime(2026, 11, 1, tzinfo=SHANGHAI)
        for key in ("aa1", "bb1", "mgr1", "mgr2", "admin"):
            viewer = Staff.objects.select_related("role").get(pk=crew[key].pk)
            seen = Member.objects.visible_to(viewer).values("pk")
            straight = FollowUp.objects.filter(member__in=seen, contacted_at__gte=month_start)
            figures = business_figures(viewer=viewer)
            if figures:
                assert figures["follow_ups_done"] == straight.count(), key
