"""The home page's contract items at scale: this month's promise is read once per page from the
members the viewer serves, the end-date items test each contract's member by a join, and the
page's query count does not grow with the contracts. The reads keep returning exactly what the
straightforward definitions return (hypothesis over owners, scopes, statuses and dates)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.finance import selectors as fs
from hongniang.finance.models import Contract, ContractStatus
from hongniang.finance.tests.helpers import finance_crew
from hongniang.matching.models import Appointment, AppointmentStatus, Recommendation
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.models import Staff
from hongniang.staff.tests.factories import role_with
from hongniang.staff.visibility import DataScope

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 26)  # the month's last week: the "behind the promise" task is on
_numbers = count(1)


def _contract(
    member, signer, *, start, end, status=ContractStatus.EFFECTIVE, intros=2, dates=1, **more
):
    return Contract.objects.create(
        number=f"HT-T{next(_numbers):05d}",
        member=member,
        amount=Decimal("9800.00"),
        service_start=start,
        service_end=end,
        signed_by=signer,
        store=signer.store,
        created_by=signer,
        status=status,
        introductions_per_month=intros,
        dates_per_month=dates,
        **more,
    )


@pytest.fixture
def crew(org):
    crew = finance_crew(org)
    crew["mgr1"].role = role_with(
        "members.view", "members.allocate", "aftersales.view", "matching.view", "finance.view"
    )
    crew["mgr1"].save()
    return crew


def _book(crew, n):
    """n members per matchmaker, each with a contract in force promising introductions and
    dates, one delivery this month, and contracts ending within 7 days and expired unrenewed."""
    for key in ("aa1", "aa2", "bb1"):
        who = crew[key]
        for i in range(n):
            member = add_member(who, name=f"会员{key}{i}")
            Member.objects.filter(pk=member.pk).update(aftersales_owner=who)
            _contract(member, who, start=TODAY - timedelta(days=40), end=TODAY + timedelta(300))
            other = add_member(who, sex=c.Sex.MALE)
            Recommendation.objects.create(member=member, candidate=other, reason="同城")
            ending = add_member(who, name=f"将到期{key}{i}")
            _contract(
                ending,
                who,
                start=TODAY - timedelta(360),
                end=TODAY + timedelta(5),
                intros=0,
                dates=0,
            )
            gone = add_member(who, name=f"已到期{key}{i}")
            _contract(
                gone,
                who,
                start=TODAY - timedelta(380),
                end=TODAY - timedelta(10),
                intros=0,
                dates=0,
            )


@freeze_time(datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI))
@pytest.mark.parametrize("who", ["aa1", "mgr1", "admin"])
def test_the_home_page_reads_contracts_in_a_fixed_number_of_queries(crew, client, who):
    client.force_login(crew[who])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("home:index"))
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    _book(crew, 1)
    queries()  # the first request fills the per-process caches (settings, permissions)
    few, _html = queries()
    _book(crew, 4)
    many, html = queries()
    assert many == few
    if who == "aa1":  # the items the page shows for a matchmaker's own book
        assert 'id="promise-this-month"' in html
        assert "5 位有每月承诺的会员中 5 位未达承诺" in html
        mine = {e.key: e for e in _entries(crew["aa1"])}
        assert mine["behind_promise"].count == 5
        assert mine["contracts_ending_7"].count == 5
        assert mine["contracts_expired"].count == 5


def _entries(viewer):
    from hongniang.home.selectors import todo_list

    return todo_list(viewer=viewer)


@freeze_time(datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI))
def test_the_page_reads_the_promise_once_for_the_panel_and_the_task(crew, client):
    _book(crew, 2)
    client.force_login(crew["aa1"])
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("home:index")).content.decode()
    # the promise is read as terms only (`promise_this_month`): once for both
    terms = 'AS "introductions_per_month"'
    promise_reads = [q for q in ctx.captured_queries if terms in q["sql"]]
    assert len(promise_reads) == 1
    assert "会员aa10" in html and "会员aa11" in html


# --- the same rows as the straightforward definitions ---------------------------------------


def promise_reference(viewer, today):
    """This month's promise as first written: the viewer's visible contracts in force whose
    member they serve, delivered counts taken row by row."""
    month = today.replace(day=1)
    start = timezone.make_aware(datetime.combine(month, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(today + timedelta(days=1), datetime.min.time()))
    rows = []
    for k in (
        Contract.objects.visible_to(viewer)
        .filter(
            status__in=[ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED],
            service_start__lte=today,
            service_end__gte=today,
        )
        .filter(
            Q(member__aftersales_owner=viewer)
            | Q(member__aftersales_owner__isnull=True, member__presales_owner=viewer)
        )
        .filter(Q(introductions_per_month__gt=0) | Q(dates_per_month__gt=0))
    ):
        intros = Recommendation.objects.filter(
            member_id=k.member_id, created_at__gte=start, created_at__lt=end
        ).count()
        dates = (
            Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
            .filter(Q(member_id=k.member_id) | Q(partner_id=k.member_id))
            .exclude(status=AppointmentStatus.CANCELLED)
            .count()
        )
        rows.append(
            (k.pk, k.member_id, k.introductions_per_month, k.dates_per_month, intros, dates)
        )
    return sorted(rows, key=lambda r: (-(max(r[2] - r[4], 0) + max(r[3] - r[5], 0)), r[0]))


def renewals_reference(viewer, tab, today):
    """The end-date tabs as first written: every visible contract, tested field by field."""
    out = set()
    below = set(Staff.objects.filter(path__startswith=viewer.path).values_list("pk", flat=True))
    for k in Contract.objects.visible_to(viewer).select_related("member"):
        if tab == fs.ENDING_7:
            hit = k.status == ContractStatus.EFFECTIVE and today <= k.service_end
            hit = hit and k.service_end <= today + timedelta(days=7)
        else:
            hit = k.status in (ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED)
            hit = hit and today - timedelta(days=30) <= k.service_end < today
            hit = hit and not Contract.objects.filter(renewal_of=k).exists()
        if hit and (k.signed_by_id in below or k.member.aftersales_owner_id in below):
            out.add(k.pk)
    return out


def ending_reference(viewer, today):
    """The "ending within 30 days" tab as first written: every visible contract in force."""
    return {
        k.pk
        for k in Contract.objects.visible_to(viewer)
        if k.status == ContractStatus.EFFECTIVE
        and today <= k.service_end <= today + timedelta(days=30)
    }


STATUSES = [
    ContractStatus.DRAFT,
    ContractStatus.SUBMITTED,
    ContractStatus.EFFECTIVE,
    ContractStatus.PARTLY_REFUNDED,
    ContractStatus.REFUNDED,
]
books = st.tuples(
    # each member: (pre-sales owner, after-sales owner) as picks among the staff, or None
    st.lists(
        st.tuples(st.none() | st.integers(0, 5), st.none() | st.integers(0, 5)),
        min_size=6,
        max_size=6,
    ),
    # contracts: (member, signer, status, start offset, length, intros, dates, renews one)
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(0, 5),
            st.sampled_from(STATUSES),
            st.integers(-420, 20),
            st.integers(1, 420),
            st.integers(0, 3),
            st.integers(0, 2),
            st.booleans(),
        ),
        max_size=10,
    ),
    # deliveries this month or last: (member, partner, kind, days back, cancelled)
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(0, 5),
            st.sampled_from(["intro", "date"]),
            st.integers(0, 40),
            st.booleans(),
        ),
        max_size=8,
    ),
    st.sampled_from(list(DataScope.values)),
)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(book=books)
def test_the_contract_reads_select_what_the_definitions_select(crew, book):
    owners, contracts, deliveries, scope = book
    # The examples share one database; contracts in force refuse a delete (and renewals
    # protect what they renew), so the rows go without the model's checks.
    Contract.objects.all()._raw_delete(Contract.objects.db)
    Recommendation.objects.all().delete()
    Appointment.objects.all().delete()
    staff = [crew[k] for k in ("aa1", "aa2", "bb1", "mgr1", "mgr2", "admin")]
    crew["aa1"].role.data_scope = scope  # the matchmakers' role: each scope in turn
    crew["aa1"].role.save()
    members = list(Member.objects.order_by("pk")[:6])
    while len(members) < 6:
        members.append(add_member(crew["aa1"]))
    for m, (pre, after) in zip(members, owners, strict=True):
        Member.objects.filter(pk=m.pk).update(
            presales_owner=None if pre is None else staff[pre],
            aftersales_owner=None if after is None else staff[after],
        )
    made, renewed = [], set()
    for m, signer, status, offset, length, intros, dates, renews in contracts:
        start = TODAY + timedelta(days=offset)
        renewal_of = made[-1] if renews and made and made[-1].pk not in renewed else None
        k = _contract(
            members[m],
            staff[signer],
            start=start,
            end=start + timedelta(days=length),
            status=status,
            intros=intros,
            dates=dates,
            renewal_of=renewal_of,
        )
        if renewal_of is not None:
            renewed.add(renewal_of.pk)
        made.append(k)
    noon = timezone.make_aware(datetime.combine(TODAY, datetime.min.time())) + timedelta(hours=12)
    for a, b, kind, back, cancelled in deliveries:
        if a == b:  # nobody is introduced to or dates themselves
            continue
        when = noon - timedelta(days=back)
        if kind == "intro":
            rec = Recommendation.objects.create(member=members[a], candidate=members[b], reason="r")
            Recommendation.objects.filter(pk=rec.pk).update(created_at=when)
        else:
            Appointment.objects.create(
                member=members[a],
                partner=members[b],
                starts_at=when,
                place="咖啡馆",
                status=AppointmentStatus.CANCELLED if cancelled else AppointmentStatus.PLANNED,
            )
    for viewer in staff:
        viewer = Staff.objects.select_related("role").get(pk=viewer.pk)
        found = [
            (p.contract_id, p.member_id, p.intros_promised, p.dates_promised, p.intros, p.dates)
            for p in fs.promise_this_month(viewer=viewer, today=TODAY)
        ]
        assert found == promise_reference(viewer, TODAY), viewer.username
        counts = fs.end_date_counts(viewer=viewer, today=TODAY)
        for tab in (fs.ENDING_7, fs.EXPIRED):
            due = set(
                fs.renewals_due(viewer=viewer, tab=tab, today=TODAY).values_list("pk", flat=True)
            )
            assert due == renewals_reference(viewer, tab, TODAY), (viewer.username, tab)
            # the home page's one-query counts are the reminders' and the list's rows
            assert counts[tab] == len(due), (viewer.username, tab)
        ending = fs.contract_list(viewer=viewer, tab=fs.ENDING_30, today=TODAY)
        assert counts[fs.ENDING_30] == len(ending_reference(viewer, TODAY)), viewer.username
        assert counts[fs.ENDING_30] == ending.count(), viewer.username
        assert fs.end_date_counts(viewer=viewer, today=TODAY, renewals=False) == {
            fs.ENDING_30: counts[fs.ENDING_30]
        }
        assert fs.end_date_counts(viewer=viewer, today=TODAY, ending=False) == {
            fs.ENDING_7: counts[fs.ENDING_7],
            fs.EXPIRED: counts[fs.EXPIRED],
        }
        for per_row in (False, True):
            seen = Contract.objects.visible_to(viewer, per_row=per_row)
            assert set(seen.values_list("pk", flat=True)) == set(
                Contract.objects.filter(member__in=Member.objects.visible_to(viewer)).values_list(
                    "pk", flat=True
                )
            ), (viewer.username, per_row)
