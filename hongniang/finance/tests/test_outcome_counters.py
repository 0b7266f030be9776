"""The outcome report's monthly counters: kept in the transaction of each event, always equal to
a rebuild from the source rows, credited to who served the member at the time, and read with a
number of queries that does not depend on how much happened."""

import contextlib
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.finance import outcomes, selectors, services
from hongniang.finance.models import OUTCOME_MEASURES, PROMISE_MEASURES, OutcomeMonth, PromiseMonth
from hongniang.finance.tests.helpers import SECURE, effective, finance_crew, plan
from hongniang.matching import optin
from hongniang.matching.models import Appointment, OptIn, Recommendation
from hongniang.members import choices as c
from hongniang.members.models import EventKind, MemberEvent
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    return finance_crew(org)


def kept() -> tuple[dict, dict]:
    """The counters (zero measures left out: a kept row may have counted down to nothing) and
    the contract months."""
    counters = {}
    measures = (*OUTCOME_MEASURES, *PROMISE_MEASURES)
    for row in OutcomeMonth.objects.values("staff_id", "month", *measures):
        values = {k: v for k, v in row.items() if k not in ("staff_id", "month") and v}
        assert all(v > 0 for v in values.values()), row
        if values:
            counters[(row["staff_id"], row["month"])] = values
    months = {
        (r[0], r[1]): r[2:]
        for r in PromiseMonth.objects.values_list(
            "contract_id",
            "month",
            "staff_id",
            "intros_promised",
            "dates_promised",
            "intros",
            "dates",
        )
    }
    return counters, months


def at_days_ago(days: int, hour: int):
    today = timezone.localdate() - timedelta(days=days)
    return timezone.make_aware(datetime.combine(today, datetime.min.time())) + timedelta(hours=hour)


@pytest.fixture
def people(crew):
    """Six members served by aa1, aa2 or bb1 in turn; two of aa1's have contracts promising
    introductions and dates every month, one since last month."""
    staff = [crew["aa1"], crew["aa2"], crew["bb1"]]
    members = [
        add_member(staff[n % 3], name=f"会员{n}", sex=c.Sex.FEMALE if n % 2 else c.Sex.MALE)
        for n in range(6)
    ]
    last_month = timezone.localdate().replace(day=1) - timedelta(days=20)
    effective(crew, members[0], plans=[plan(intros=2, dates=1)], service_start=last_month)
    effective(crew, members[3], plans=[plan(intros=1, dates=1)])
    return staff, members


op = st.one_of(
    st.tuples(st.just("intro"), st.integers(0, 5), st.integers(0, 5), st.integers(0, 2)),
    st.tuples(st.just("answer"), st.integers(0, 30), st.booleans()),
    st.tuples(
        st.just("date"),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 2),
        st.integers(0, 45),
        st.sampled_from(["held", "planned", "cancelled"]),
        st.sampled_from(["continue", "stop", ""]),
    ),
    st.tuples(
        st.just("redate"),
        st.integers(0, 30),
        st.integers(0, 45),
        st.sampled_from(["held", "cancelled"]),
        st.sampled_from(["continue", "stop", ""]),
    ),
    st.tuples(st.just("forget"), st.integers(0, 30)),
    # The double opt-in: an answer in the member centre, a withdrawn yes, a pair ended.
    st.tuples(st.just("optin"), st.integers(0, 5), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("withdraw"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("end"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("complaint"), st.integers(0, 5), st.integers(0, 40)),
    st.tuples(st.just("refund"), st.integers(0, 1)),
    st.tuples(st.just("success"), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 5), st.integers(0, 2)),
)


def _run(crew, staff, members, step) -> None:
    kind, *args = step
    if kind == "intro":
        i, j, s = args
        if i != j:
            Recommendation.objects.create(
                member=members[i], candidate=members[j], recommended_by=staff[s], reason="合适"
            )
    elif kind == "answer":
        recs = list(Recommendation.objects.filter(status="sent").order_by("pk"))
        if recs:
            rec = recs[args[0] % len(recs)]
            rec.status = "accepted" if args[1] else "declined"
            rec.save()
    elif kind == "date":
        i, j, s, days, status, outcome = args
        if i != j:
            Appointment.objects.create(
                member=members[i],
                partner=members[j],
                arranged_by=staff[s],
                starts_at=at_days_ago(days, 10 + s),
                place="茶馆",
                status=status,
                outcome=outcome if status == "held" else "",
            )
    elif kind == "redate":
        dates = list(Appointment.objects.order_by("pk"))
        if dates:
            a = dates[args[0] % len(dates)]
            a.starts_at, a.status = at_days_ago(args[1], 9), args[2]
            a.outcome = args[3] if a.status == "held" else ""
            a.save()
    elif kind == "forget":
        recs = list(Recommendation.objects.order_by("pk"))
        if recs:
            recs[args[0] % len(recs)].delete()
    elif kind in ("optin", "withdraw", "end"):
        i, j, *rest = args
        if i == j:
            return
        if kind == "optin":
            optin.answer(member=members[i], other=members[j], accepted=rest[0], via="sug")
        elif kind == "withdraw":
            with contextlib.suppress(ValidationError):
                optin.withdraw(member=members[i], other=members[j])
        else:
            a, b = sorted((members[i].pk, members[j].pk))
            pair = OptIn.objects.filter(low_id=a, high_id=b, ended_at__isnull=True).first()
            if pair is not None:
                optin.end(actor=crew["admin"], pair=pair)
    elif kind == "complaint":
        services.complaint_record(
            actor=crew["admin"],
            member=members[args[0]],
            received_on=timezone.localdate() - timedelta(days=args[1]),
            summary="服务不到位",
        )
    elif kind == "refund":
        contract = members[(0, 3)[args[0]]].contracts.get()
        try:
            r = services.refund_request(
                actor=crew["aa1"], contract=contract, amount="100", reason="协商"
            )
            services.refund_approve(actor=crew["fin"], refund=r, security_password=SECURE)
        except ValidationError:
            pass  # refunded in full already
    elif kind == "success":
        MemberEvent.objects.create(
            member=members[args[0]],
            kind=EventKind.SERVICE,
            summary="服务结束: 找到伴侣",
            data={"step": "finish", "finish_reason": c.FinishReason.SUCCESS},
        )
    elif kind == "move":
        member = members[args[0]]
        member.refresh_from_db()
        member.aftersales_owner = staff[args[1]]
        member.save()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(op, min_size=1, max_size=12))
def test_kept_counters_always_equal_a_rebuild_from_the_source_rows(crew, people, steps):
    staff, members = people
    for step in steps:
        _run(crew, staff, members, step)
    before = kept()
    outcomes.rebuild()
    assert kept() == before


def test_success_and_promises_count_for_who_served_the_member_then(crew, people):
    staff, members = people
    member = members[0]  # served by aa1, with a contract since last month
    MemberEvent.objects.create(
        member=member,
        kind=EventKind.SERVICE,
        summary="服务结束: 找到伴侣",
        data={"step": "finish", "finish_reason": c.FinishReason.SUCCESS},
    )
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    member.refresh_from_db()
    member.aftersales_owner = crew["bb1"]  # another team takes the member over
    member.save()
    months = dict(
        PromiseMonth.objects.filter(member=member).values_list("month", "staff_id").order_by()
    )
    # Last month stays with aa1, who served then; this month and later move to bb1.
    assert months[last_month] == crew["aa1"].pk
    assert months[this_month] == crew["bb1"].pk
    assert all(s == crew["bb1"].pk for m, s in months.items() if m >= this_month)
    rows = {
        r["name"]: r
        for r in selectors.outcome_report(viewer=crew["fin"], start=this_month, end=this_month)
    }
    assert rows[crew["aa1"].name]["successes"] == 1  # finished while aa1 served her
    assert rows[crew["bb1"].name]["successes"] == 0
    # Her promise this month is bb1's to keep; aa1 keeps the other member's (members[3]).
    cells = selectors.promise_months(viewer=crew["fin"], start=last_month, end=this_month)
    assert cells[(crew["bb1"].pk, this_month)]["members"] == 1
    assert cells[(crew["aa1"].pk, this_month)]["members"] == 1
    assert cells[(crew["aa1"].pk, last_month)]["members"] == 1
    assert (crew["bb1"].pk, last_month) not in cells
    before = kept()
    outcomes.rebuild()
    assert kept() == before


def test_the_section_reads_a_fixed_number_of_queries(client, crew, people):
    staff, members = people
    client.force_login(crew["admin"])
    url = reverse("finance:report_outcomes")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"window": "year"}).status_code == 200
        return len(ctx)

    queries()  # the first request of a session reads the user, role and rights
    first = queries()
    for n in range(6):
        _run(crew, staff, members, ("intro", n % 6, (n + 1) % 6, n % 3))
        held = ("date", n % 6, (n + 2) % 6, n % 3, 40 * (n % 2), "held", "continue")
        _run(crew, staff, members, held)
        _run(crew, staff, members, ("complaint", n % 6, 0))
    assert queries() == first
