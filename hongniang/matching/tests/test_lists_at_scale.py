"""The appointment and introduction lists at scale (issue 9): per-member appointment counters
that always equal the real counts, lists whose query count does not grow with the rows they
show, and pages that stay correct for members nobody has taken on yet."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching import services
from hongniang.matching.counters import count_all_appointments
from hongniang.matching.models import Appointment, IntroductionRequest, MatchStats
from hongniang.matching.tests.test_appointments import two_teams  # noqa: F401 - fixture
from hongniang.members.models import Member
from hongniang.siteconfig.models import SiteSettings


def real_counts(member_ids) -> dict[int, tuple[int, int]]:
    """(appointments, planned) of each member, counted from the appointments."""
    out = {}
    for pk in member_ids:
        mine = Appointment.objects.filter(member_id=pk) | Appointment.objects.filter(partner_id=pk)
        out[pk] = (mine.count(), mine.filter(status="planned").count())
    return out


def stored_counts(member_ids) -> dict[int, tuple[int, int]]:
    """The counters; a member without a counter row has none."""
    rows = MatchStats.objects.filter(pk__in=member_ids)
    stored = {
        pk: (n, p) for pk, n, p in rows.values_list("pk", "appointments", "appointments_planned")
    }
    return {pk: stored.get(pk, (0, 0)) for pk in member_ids}


def _book(t, member, partner, days=3):
    return services.appointment_create(
        actor=t["aa1"],
        appointment=Appointment(
            member=member,
            partner=partner,
            starts_at=timezone.now() + timedelta(days=days),
            place="咖啡馆",
        ),
        allow_double_booking=True,
    )


def _set_status(t, appointment, status, outcome=""):
    """Change the status as the arranging matchmaker does; a meeting is held after its time."""
    appointment = Appointment.objects.get(pk=appointment.pk)
    if status == "held" and appointment.starts_at > timezone.now():
        Appointment.objects.filter(pk=appointment.pk).update(
            starts_at=timezone.now() - timedelta(hours=1)
        )
        appointment.refresh_from_db()
    appointment.status, appointment.outcome = status, outcome if status == "held" else ""
    return services.appointment_update(actor=t["aa1"], appointment=appointment)


# --- the counters ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_counters_follow_booking_cancelling_holding_and_deleting(two_teams):  # noqa: F811
    t = two_teams
    ann, amy, bob, ben = (t[k].pk for k in ("ann", "amy", "bob", "ben"))
    first = _book(t, t["ann"], t["bob"])
    second = _book(t, t["ann"], t["ben"], days=4)
    assert stored_counts([ann, bob, ben, amy]) == {
        ann: (2, 2),
        bob: (1, 1),
        ben: (1, 1),
        amy: (0, 0),
    }
    _set_status(t, first, "cancelled")
    assert stored_counts([ann, bob]) == {ann: (2, 1), bob: (1, 0)}
    _set_status(t, second, "held", outcome="continue")
    assert stored_counts([ann, ben]) == {ann: (2, 0), ben: (1, 0)}
    Appointment.objects.get(pk=first.pk).delete()
    assert stored_counts([ann, bob, ben]) == {ann: (1, 0), bob: (0, 0), ben: (1, 0)}


@pytest.mark.django_db
def test_deleting_a_member_recounts_the_other_side(two_teams):  # noqa: F811
    t = two_teams
    _book(t, t["ann"], t["bob"])
    _book(t, t["amy"], t["bob"], days=5)
    Member.objects.get(pk=t["ann"].pk).delete()
    assert stored_counts([t["bob"].pk]) == {t["bob"].pk: (1, 1)}
    assert not MatchStats.objects.filter(pk=t["ann"].pk).exists()


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["book", "cancel", "hold", "plan", "delete"]),
        st.integers(0, 3),  # which pair (to book) or which appointment (the others)
    ),
    min_size=1,
    max_size=10,
)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_counters_always_equal_the_real_counts(two_teams, operations):  # noqa: F811
    """Whatever sequence of bookings, cancellations, held meetings, re-planning and deletions
    (the database is shared by the examples, so they build on each other)."""
    t = two_teams
    pairs = [(w, m) for w in ("ann", "amy") for m in ("bob", "ben")]
    people = [t[k].pk for k in ("ann", "amy", "bob", "ben")]
    for op, n in operations:
        existing = list(Appointment.objects.order_by("pk"))
        if op == "book" or not existing:
            woman, man = pairs[n]
            _book(t, t[woman], t[man], days=n + 2)
            continue
        appointment = existing[n % len(existing)]
        if op == "delete":
            appointment.delete()
        elif op == "cancel":
            _set_status(t, appointment, "cancelled")
        elif op == "hold":
            _set_status(t, appointment, "held", outcome="stop")
        elif op == "plan" and appointment.starts_at > timezone.now():
            _set_status(t, appointment, "planned")
        assert stored_counts(people) == real_counts(people)
    assert stored_counts(people) == real_counts(people)


@pytest.mark.django_db
def test_recounting_everything_fills_and_clears_the_counters(two_teams):  # noqa: F811
    """What the data migration and bulk seeding use."""
    t = two_teams
    people = [t[k].pk for k in ("ann", "amy", "bob", "ben")]
    Appointment.objects.bulk_create(
        [
            Appointment(
                member=t["ann"], partner=t["bob"], starts_at=timezone.now(), place="x", status=s
            )
            for s in ("planned", "held", "cancelled")
        ]
    )
    MatchStats.objects.create(member=t["amy"], appointments=7, appointments_planned=3)  # stale
    assert count_all_appointments() == 2
    assert stored_counts(people) == real_counts(people)
    assert stored_counts([t["ann"].pk, t["amy"].pk]) == {t["ann"].pk: (3, 1), t["amy"].pk: (0, 0)}


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_members_by_appointments_tabs_list_the_right_members(client, two_teams):  # noqa: F811
    t = two_teams
    first = _book(t, t["ann"], t["bob"])
    _book(t, t["ann"], t["ben"], days=4)
    _set_status(t, first, "cancelled")
    client.force_login(t["admin"])
    url = reverse("matching:appointments")

    def listed(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        rows = response.context["page"].object_list
        return {m.pk: (m.n_appointments, m.n_planned) for m in rows}

    ann, amy, bob, ben = (t[k].pk for k in ("ann", "amy", "bob", "ben"))
    assert listed(view="arranged") == {ann: (2, 1), ben: (1, 1)}
    assert listed(view="not_arranged") == {amy: (0, 0), bob: (1, 0)}
    assert listed(view="bucket", bucket="0") == {amy: (0, 0)}
    assert listed(view="bucket", bucket="1") == {bob: (1, 0), ben: (1, 1)}
    assert listed(view="bucket", bucket="2-3") == {ann: (2, 1)}
    assert listed(view="bucket", bucket="4+") == {}
    assert set(listed(view="bucket")) == {ann, amy, bob, ben}
    # A matchmaker sees their own members only.
    client.force_login(t["bb1"])
    assert listed(view="bucket", bucket="1") == {bob: (1, 0), ben: (1, 1)}
    assert listed(view="bucket", bucket="2-3") == {}


def _queries(client, url, params) -> int:
    client.get(url, params)  # the first request of a session loads what later ones reuse
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"view": "list"},
        {"view": "list", "status": "planned"},
        {"view": "arranged"},
        {"view": "bucket", "bucket": "1"},
    ],
)
@pytest.mark.parametrize("who", ["admin", "aa1"])
def test_appointment_lists_query_count_does_not_grow_with_rows(client, two_teams, who, params):  # noqa: F811
    t = two_teams
    site = SiteSettings.load()
    site.crm_page_size = site.member_page_size = 50
    site.save()
    client.force_login(t[who])
    url = reverse("matching:appointments")
    others = [t["bob"], t["ben"]]

    def add(n):
        Appointment.objects.bulk_create(
            [
                Appointment(
                    member=t["ann"] if i % 2 else t["amy"],
                    partner=others[i % 2],
                    starts_at=timezone.now() + timedelta(days=i + 1),
                    place="x",
                    arranged_by=t["aa1"],
                )
                for i in range(n)
            ]
        )
        count_all_appointments()

    add(5)
    few = _queries(client, url, params)
    add(20)
    if params["view"] == "list":
        assert len(client.get(url, params).context["page"].object_list) == 25
    assert _queries(client, url, params) == few


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "aa1"])
def test_introductions_query_count_does_not_grow_with_rows(client, two_teams, who):  # noqa: F811
    t = two_teams
    site = SiteSettings.load()
    site.crm_page_size = 50
    site.save()
    client.force_login(t[who])
    url = reverse("matching:introductions")

    def add(n):
        IntroductionRequest.objects.bulk_create(
            [
                IntroductionRequest(
                    member=t["ann"] if i % 2 else t["amy"],
                    target=t["bob"] if i % 3 else t["ben"],
                    entered_by=t["aa1"],
                )
                for i in range(n)
            ]
        )

    add(5)
    few = _queries(client, url, {})
    add(20)
    assert len(client.get(url).context["page"].object_list) == 25
    assert _queries(client, url, {}) == few


@pytest.mark.django_db
def test_introductions_list_shows_a_member_without_any_matchmaker(client, two_teams):  # noqa: F811
    """A request about a member nobody serves (in the allocation pool) lists with "—" for that
    side's matchmaker (was a server error)."""
    t = two_teams
    services.introduction_create(
        actor=t["aa1"], request=IntroductionRequest(member=t["ann"], target=t["bob"])
    )
    Member.objects.filter(pk=t["bob"].pk).update(presales_owner=None, aftersales_owner=None)
    client.force_login(t["admin"])
    response = client.get(reverse("matching:introductions"))
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{t['aa1'].name} / —" in text


# --- who sees which rows: the page's filter and the count's filter agree ------------------------

OWNERS = [None, "aa1", "aa2", "bb1", "mgr2"]


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    owners=st.lists(
        st.tuples(st.sampled_from(OWNERS), st.sampled_from(OWNERS)), min_size=4, max_size=4
    ),
    pairs=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3)).filter(lambda p: p[0] != p[1]), max_size=8
    ),
)
def test_lists_show_and_count_exactly_the_rows_with_a_visible_member(two_teams, owners, pairs):  # noqa: F811
    """An appointment or introduction request is listed, and counted, for a viewer who sees
    either of its members through either owner, whatever the data scope; the page's test (the
    members' owners) and the count's test (the visible members' keys) give the same rows."""
    from hongniang.matching import selectors
    from hongniang.staff.visibility import DataScope

    t = two_teams
    t["aa2"].role.data_scope = DataScope.SELF  # aa2's role is aa2's alone
    t["aa2"].role.save()
    t["mgr2"].role.data_scope = DataScope.STORE
    t["mgr2"].role.save()
    members = [t["ann"], t["amy"], t["bob"], t["ben"]]
    for member, (pre, after) in zip(members, owners, strict=True):
        Member.objects.filter(pk=member.pk).update(
            presales_owner=t[pre] if pre else None, aftersales_owner=t[after] if after else None
        )
    Appointment.objects.all().delete()
    IntroductionRequest.objects.all().delete()
    now = timezone.now()
    Appointment.objects.bulk_create(
        Appointment(member=members[a], partner=members[b], starts_at=now, place="x")
        for a, b in pairs
    )
    IntroductionRequest.objects.bulk_create(
        IntroductionRequest(member=members[a], target=members[b]) for a, b in pairs
    )
    for who in ("admin", "mgr1", "mgr2", "aa1", "aa2", "bb1"):
        viewer = type(t[who]).objects.get(pk=t[who].pk)
        seen = set(Member.objects.visible_to(viewer).values_list("pk", flat=True))
        for found, other in (
            (selectors.appointment_list(viewer=viewer), "partner_id"),
            (selectors.introduction_list(viewer=viewer), "target_id"),
        ):
            model = found.rows.model
            expected = {
                pk
                for pk, a, b in model.objects.values_list("pk", "member_id", other)
                if a in seen or b in seen
            }
            assert {r.pk for r in found.rows} == expected, who
            assert set(found.counted.values_list("pk", flat=True)) == expected, who
            assert found.counted.count() == len(expected), who
        assert {a.pk for a in selectors.appointments(viewer=viewer)} == {
            pk
            for pk, a, b in Appointment.objects.values_list("pk", "member_id", "partner_id")
            if a in seen or b in seen
        }
