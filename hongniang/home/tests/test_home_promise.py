"""The contract's promise where the issue wants it (the member's page, the matchmaker's home, a
task in the month's last week) and renewal reminders on the to-do list of whoever handles them."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.finance import services
from hongniang.finance.tests.helpers import approve, draft, effective, finance_crew, plan
from hongniang.home.selectors import todo_list
from hongniang.matching.models import Appointment, AppointmentStatus, Recommendation
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    crew = finance_crew(org)
    # aa2 serves members after sales and has no finance right at all.
    crew["aa2"].role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "aftersales.view",
        "matching.view",
        name="售后红娘",
    )
    crew["aa2"].save()
    return crew


def entries(viewer, now=None):
    return {e.key: e for e in todo_list(viewer=viewer, now=now)}


def noon(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=12)


def last_week_of_this_month():
    today = timezone.localdate()
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=3)


def served_by_aa2(crew, name="许静"):
    """A member of aa2, a matchmaker without any finance right, whose contract the
    administrator entered and finance approved."""
    member = add_member(crew["aa2"], name=name)
    contract = draft(
        crew["admin"],
        member,
        plans=[plan(intros=2, dates=1)],
        service_start=timezone.localdate().replace(day=1),
    )
    services.contract_submit(actor=crew["admin"], contract=contract)
    return member, approve(crew["fin"], contract)


def deliver(crew, member, intros=0, dates=0, when=None):
    when = when or timezone.now()
    for n in range(intros):
        other = add_member(crew["aa2"], name=f"候选{n}", sex=c.Sex.MALE)
        rec = Recommendation.objects.create(
            member=member, candidate=other, recommended_by=crew["aa2"], reason="性格相投"
        )
        Recommendation.objects.filter(pk=rec.pk).update(created_at=when)
    for n in range(dates):
        other = add_member(crew["aa2"], name=f"约见{n}", sex=c.Sex.MALE)
        Appointment.objects.create(
            member=member,
            partner=other,
            starts_at=when,
            place="咖啡馆",
            arranged_by=crew["aa2"],
            status=AppointmentStatus.HELD,
        )


def test_member_page_ledger_shows_delivered_against_promised(client, crew):
    member, contract = served_by_aa2(crew)
    deliver(crew, member, intros=1, dates=1)
    client.force_login(crew["aa2"])
    detail = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert reverse("home:member_ledger", args=[member.pk]) in detail
    panel = client.get(reverse("home:member_ledger", args=[member.pk]))
    assert panel.status_code == 200
    html = panel.content.decode()
    month = timezone.localdate().strftime("%Y-%m")
    assert f'data-month="{month}"' in html
    assert "1 / 2" in html and "1 / 1" in html  # introductions 1 of 2, dates 1 of 1
    assert contract.number in html


def test_member_ledger_refusals(client, crew):
    member, _contract = served_by_aa2(crew)
    url = reverse("home:member_ledger", args=[member.pk])
    client.force_login(crew["bb1"])  # another team's matchmaker
    assert client.get(url).status_code == 404
    cashier = StaffFactory(
        username="cashier", role=role_with("finance.view", name="出纳"), supervisor=crew["mgr1"]
    )
    client.force_login(cashier)  # no right on members
    assert client.get(url).status_code == 403
    plain = add_member(crew["aa2"])  # no contract: the placeholder goes away
    client.force_login(crew["aa2"])
    answer = client.get(reverse("home:member_ledger", args=[plain.pk]))
    assert answer.status_code == 200 and answer.content == b""


def test_matchmakers_home_lists_this_months_promise_furthest_behind_first(client, crew):
    behind, _k = served_by_aa2(crew, name="落后会员")
    kept, _k2 = served_by_aa2(crew, name="达标会员")
    deliver(crew, kept, intros=2, dates=1)
    client.force_login(crew["aa2"])
    html = client.get(reverse("home:index")).content.decode()
    panel = html[html.index('id="promise-this-month"') :]
    assert panel.index("落后会员") < panel.index("达标会员")
    assert "0 / 2" in panel and "2 / 2" in panel
    assert "2 位有每月承诺的会员中 1 位未达承诺" in panel
    client.force_login(crew["bb1"])
    assert 'id="promise-this-month"' not in client.get(reverse("home:index")).content.decode()


def test_falling_behind_is_a_task_the_matchmaker_can_open(client, crew):
    member, _contract = served_by_aa2(crew)
    deliver(crew, member, intros=2)  # introductions kept, the date missing
    when = noon(last_week_of_this_month())
    task = entries(crew["aa2"], when)["behind_promise"]
    assert task.count == 1 and task.tone == "danger"
    label, url, detail = task.items[0]
    assert "许静" in label and "2/2" in detail and "0/1" in detail
    client.force_login(crew["aa2"])  # no finance right: the link still opens
    assert client.get(url.split("#")[0]).status_code == 200
    assert client.get(task.link).status_code == 200
    deliver(crew, member, dates=1)
    assert "behind_promise" not in entries(crew["aa2"], when)
    early = noon(timezone.localdate().replace(day=1))
    assert "behind_promise" not in entries(crew["aa2"], early)


def ended(crew, member, days_ago):
    """An effective contract of aa1's member that ended `days_ago` days ago (or ends in
    -days_ago days)."""
    end = timezone.localdate() - timedelta(days=days_ago)
    return effective(crew, member, service_start=end - timedelta(days=365), service_end=end)


def test_renewal_reminders_reach_the_signer_and_their_manager_only(crew):
    ending = ended(crew, add_member(crew["aa1"], name="将到期"), -5)
    expired = ended(crew, add_member(crew["aa1"], name="已到期"), 10)
    ended(crew, add_member(crew["aa1"], name="早已到期"), 40)  # past the reminder's window
    ended(crew, add_member(crew["aa1"], name="还早"), -20)  # the 30-day item only
    for who in ("aa1", "mgr1"):
        mine = entries(crew[who])
        assert mine["contracts_ending_7"].count == 1, who
        assert mine["contracts_expired"].count == 1, who
        assert mine["contracts_expired"].tone == "danger"
    label, _url, detail = entries(crew["aa1"])["contracts_ending_7"].items[0]
    assert "将到期" in label and ending.number in detail
    assert ending.service_end.isoformat() in detail
    for who in ("bb1", "mgr2", "fin"):  # another team; finance handles no renewal
        theirs = entries(crew[who])
        assert "contracts_ending_7" not in theirs and "contracts_expired" not in theirs, who
    assert entries(crew["aa1"])["contracts_ending"].count == 2  # the 30-day item beside them
    # Renewing the expired contract takes it off the list.
    renewal = draft(crew["aa1"], expired.member, renewal_of=expired)
    assert renewal.renewal_of_id == expired.pk
    assert "contracts_expired" not in entries(crew["aa1"])


def test_the_after_sales_matchmaker_is_reminded_too(crew):
    member, contract = served_by_aa2(crew)
    Member.objects.filter(pk=member.pk).update(aftersales_owner=crew["aa2"])
    # Five days before the end: the member's after-sales matchmaker (no finance right) sees it.
    when = noon(contract.service_end - timedelta(days=5))
    reminder = entries(crew["aa2"], when)["contracts_ending_7"]
    assert reminder.count == 1
    assert reminder.items[0][1] == reverse("members:detail", args=[member.pk])
