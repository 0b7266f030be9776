"""The new finance screens walked as an attacker: another team's matchmaker, a peer manager with
the right to close complaints, finance (no after-sales right) and a role that sees no members.
Other teams' complaints and members answer 404 (as missing ones do), rights missing answer 403,
nothing changes, and the outcome section shows the viewer's team only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.finance import services
from hongniang.finance.models import Complaint, ComplaintStatus
from hongniang.finance.tests.helpers import effective, finance_crew, plan
from hongniang.matching.models import Recommendation
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import StaffFactory, role_with
from hongniang.staff.visibility import DataScope

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    crew = finance_crew(org)
    service = role_with(
        "members.view",
        "members.add",
        "aftersales.view",
        "aftersales.add",
        "finance.view",
        "finance.add",
        name="售后红娘",
    )
    for key in ("aa1", "aa2", "bb1"):
        crew[key].role = service
        crew[key].save()
    managers = role_with(
        "members.view",
        "aftersales.view",
        "aftersales.approve",
        "reports.view",
        name="售后经理",
    )
    for key in ("mgr1", "mgr2"):
        crew[key].role = managers
        crew[key].save()
    crew["nobody"] = StaffFactory(
        username="nobody",
        role=role_with("reports.view", scope=DataScope.SELF, name="只看报表"),
        store=crew["store_a"],
        supervisor=crew["admin"],
    )
    member = add_member(crew["aa1"], name="林小雨")
    effective(crew, member, plans=[plan(intros=2, dates=1)])
    crew["member"] = member
    crew["complaint"] = services.complaint_record(
        actor=crew["aa1"], member=member, received_on=timezone.localdate(), summary="推荐太少"
    )
    Recommendation.objects.create(
        member=member,
        candidate=add_member(crew["aa1"], name="张先生", sex="M"),
        recommended_by=crew["aa1"],
        reason="合适",
    )
    return crew


def _pages(crew):
    complaint, member = crew["complaint"], crew["member"]
    return {
        "complaint": reverse("finance:complaint", args=[complaint.pk]),
        "ledger": reverse("home:member_ledger", args=[member.pk]),
        "member": reverse("members:detail", args=[member.pk]),
    }


@pytest.mark.parametrize("who", ["bb1", "mgr2"])
def test_another_teams_complaint_and_member_answer_404_and_cannot_be_closed(client, crew, who):
    pages = _pages(crew)
    client.force_login(crew[who])
    for name, url in pages.items():
        assert client.get(url).status_code == 404, name
    answer = client.post(pages["complaint"], {"resolution": "我来结案"})
    assert answer.status_code == 404
    assert Complaint.objects.get().status == ComplaintStatus.OPEN
    listing = client.get(reverse("finance:complaints")).content.decode()
    assert f'data-complaint="{crew["complaint"].pk}"' not in listing
    assert "林小雨" not in listing and "推荐太少" not in listing
    # Recording one against another team's member by its UID: refused, the same as a missing
    # UID, nothing recorded.
    if who == "bb1":
        form = client.post(
            reverse("finance:complaint_new"),
            {"member": crew["member"].pk, "received_on": timezone.localdate(), "summary": "x"},
        )
        assert form.status_code == 200 and "林小雨" not in form.content.decode()
        assert Complaint.objects.count() == 1


def test_a_peer_managers_outcomes_and_promises_leave_out_the_other_team(client, crew):
    today = timezone.localdate().isoformat()
    query = {"window": "range", "start": today, "end": today}
    url = reverse("finance:report_outcomes")
    client.force_login(crew["mgr1"])  # aa1's manager
    mine = client.get(url, query).content.decode()
    assert f'data-staff="{crew["aa1"].pk}"' in mine
    assert f'data-promise-staff="{crew["aa1"].pk}"' in mine
    client.force_login(crew["mgr2"])
    theirs = client.get(url, query).content.decode()
    assert crew["aa1"].name not in theirs
    assert f'data-staff="{crew["aa1"].pk}"' not in theirs


def test_finance_without_after_sales_rights_is_refused_complaints(client, crew):
    pages = _pages(crew)
    client.force_login(crew["fin"])
    assert client.get(reverse("finance:complaints")).status_code == 403
    assert client.get(pages["complaint"]).status_code == 403
    assert client.post(pages["complaint"], {"resolution": "结案"}).status_code == 403
    assert Complaint.objects.get().status == ComplaintStatus.OPEN


def test_a_role_without_members_sees_no_member_and_only_itself_in_the_report(client, crew):
    pages = _pages(crew)
    client.force_login(crew["nobody"])
    assert client.get(reverse("finance:complaints")).status_code == 403
    assert client.get(pages["complaint"]).status_code == 403
    assert client.get(pages["ledger"]).status_code == 403
    assert client.get(pages["member"]).status_code == 403
    section = client.get(reverse("finance:report_outcomes"), {"window": "year"})
    assert section.status_code == 200
    html = section.content.decode()
    assert crew["aa1"].name not in html and "data-staff=" not in html


def test_odd_report_ranges_answer_without_an_error(client, crew):
    client.force_login(crew["admin"])
    for query in (
        {"window": "range", "start": "9999-12-01", "end": "9999-12-31"},
        {"window": "range", "start": "0001-01-01", "end": "0001-03-01"},
        {"window": "range", "start": "2026-13-01", "end": "x"},
        {"window": "nonsense"},
    ):
        for name in ("finance:report", "finance:report_outcomes"):
            assert client.get(reverse(name), query).status_code == 200, (name, query)
