"""The sales report (whitepaper 2.6.4): totals kept day by day equal the source rows, a manager
sees their team, the export asks for the security password."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.finance import selectors, services
from hongniang.finance.models import Contract, PlanDay, SalesDay
from hongniang.finance.tests.helpers import SECURE, approve, draft, effective, finance_crew, plan
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    crew = finance_crew(org)
    crew["mgr1"].role = role_with("members.view", "reports.view", "reports.export", name="经理报表")
    crew["mgr1"].save()
    return crew


def kept():
    days = sorted(
        SalesDay.objects.values_list(
            "day", "staff_id", "store_id", "contracts", "contract_value", "received", "refunded"
        )
    )
    plans = sorted(
        PlanDay.objects.values_list("day", "plan_id", "staff_id", "contracts", "contract_value")
    )
    return days, plans


def test_report_adds_up_signings_money_and_refunds(crew):
    a = effective(crew, add_member(crew["aa1"]), amount="10000")
    theirs = draft(crew["bb1"], add_member(crew["bb1"]), amount="6000")
    services.contract_submit(actor=crew["bb1"], contract=theirs)
    approve(crew["fin"], theirs)
    refund = services.refund_request(actor=crew["aa1"], contract=a, amount="2500", reason="退部分")
    services.refund_approve(actor=crew["fin"], refund=refund, security_password=SECURE)
    today = timezone.localdate()
    report = selectors.sales_report(viewer=crew["fin"], start=today - timedelta(days=6), end=today)
    total = report["total"]
    assert (total["contracts"], total["value"]) == (2, Decimal("16000.00"))
    assert (total["received"], total["refunded"], total["net"]) == (
        Decimal("16000.00"),
        Decimal("2500.00"),
        Decimal("13500.00"),
    )
    assert [r["name"] for r in report["by_staff"]] == [crew["aa1"].name, crew["bb1"].name]
    assert report["trend"][-1]["net"] == Decimal("13500.00")
    # The manager sees only their team (aa1 is below mgr1, bb1 is not).
    mine = selectors.sales_report(viewer=crew["mgr1"], start=today, end=today)
    assert mine["total"]["net"] == Decimal("7500.00")
    assert [r["name"] for r in mine["by_staff"]] == [crew["aa1"].name]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["sign", "pay", "refund"]),
            st.decimals(min_value=Decimal("1"), max_value=Decimal("5000"), places=2),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_kept_totals_equal_a_rebuild_from_the_source_rows(crew, ops):
    today = timezone.localdate()
    for op, amount in ops:
        contracts = list(Contract.objects.filter(status__in=["effective", "partly_refunded"]))
        try:
            if op == "sign" or not contracts:
                c = draft(
                    crew["aa1"],
                    add_member(crew["aa1"]),
                    amount=str(amount * 2),
                    payment_type="deposit",
                    instalments=[(today, amount), (today + timedelta(days=30), amount)],
                    plans=[plan()],
                )
                services.contract_submit(actor=crew["aa1"], contract=c)
                services.contract_approve(
                    actor=crew["fin"],
                    contract=c,
                    security_password=SECURE,
                    amount=amount,
                    method="cash",
                    paid_on=today,
                )
            elif op == "pay":
                services.payment_record(
                    actor=crew["fin"],
                    contract=contracts[0],
                    security_password=SECURE,
                    amount=amount,
                    method="bank",
                    paid_on=today - timedelta(days=3),
                )
            else:
                r = services.refund_request(
                    actor=crew["aa1"], contract=contracts[-1], amount=amount, reason="测试"
                )
                services.refund_approve(actor=crew["fin"], refund=r, security_password=SECURE)
        except ValidationError:
            pass
    before = kept()
    services.rebuild_sales_days()
    assert kept() == before


def test_report_page_and_export(client, crew):
    effective(crew, add_member(crew["aa1"]), amount="8800")
    client.force_login(crew["mgr1"])
    page = client.get(reverse("finance:report"), {"window": "week"})
    assert page.status_code == 200
    assert "¥8800.00" in page.content.decode()
    bad = client.get(reverse("finance:report"), {"window": "range", "start": "2026-01-01"})
    assert bad.status_code == 200  # the error is shown, the default window answers
    refused = client.post(
        reverse("finance:report_export"), {"security_password": "no", "query": ""}
    )
    assert refused.status_code == 302
    ok = client.post(
        reverse("finance:report_export"), {"security_password": SECURE, "query": "window=week"}
    )
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(crew["aa1"])  # no reports right
    assert client.get(reverse("finance:report")).status_code == 403


def test_outcomes_count_introductions_answers_dates_and_refunds_per_matchmaker(crew):
    from hongniang.matching.models import Appointment, Recommendation
    from hongniang.members import choices as c

    member = add_member(crew["aa1"])
    men = [add_member(crew["aa1"], sex=c.Sex.MALE) for _ in range(3)]
    for man, status in zip(men, ["accepted", "declined", "sent"], strict=True):
        Recommendation.objects.create(
            member=member, candidate=man, reason="合适", recommended_by=crew["aa1"], status=status
        )
    Appointment.objects.create(
        member=member,
        partner=men[0],
        starts_at=timezone.now(),
        place="茶馆",
        arranged_by=crew["aa1"],
        status="held",
        outcome="continue",
    )
    Recommendation.objects.create(
        member=add_member(crew["bb1"]),
        candidate=add_member(crew["bb1"], sex=c.Sex.MALE),
        reason="x",
        recommended_by=crew["bb1"],
    )
    today = timezone.localdate()
    rows = {
        r["name"]: r for r in selectors.outcome_report(viewer=crew["fin"], start=today, end=today)
    }
    mine = rows[crew["aa1"].name]
    assert (mine["intros"], mine["yes_rate"], mine["dates"], mine["going_on"]) == (3, 50, 1, 1)
    assert rows[crew["bb1"].name]["intros"] == 1
    team = selectors.outcome_report(viewer=crew["mgr1"], start=today, end=today)
    assert [r["name"] for r in team] == [crew["aa1"].name]
