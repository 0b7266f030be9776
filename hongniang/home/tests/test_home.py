"""The workbench home: each matchmaker's to-do list and the team's for a manager, through the
viewer's visibility; the business figures."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.finance.tests.signing import sign
from hongniang.home import selectors
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.sales import services as sales
from hongniang.sales.models import FollowUp
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    grants = [
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "presales.add",
        "presales.approve",
        "matching.view",
    ]
    matchmaker, manager = role_with(*grants), role_with(*grants, "members.allocate")
    for key in ("aa1", "aa2", "bb1", "mgr1", "mgr2"):
        org[key].role = manager if key.startswith("mgr") else matchmaker
        org[key].save()
    return org


def entries(viewer, now=None):
    return {e.key: e for e in selectors.todo_list(viewer=viewer, now=now)}


def follow_up(actor, member, next_contact):
    sales.followup_record(
        actor=actor,
        member=member,
        follow_up=FollowUp(remark="电话沟通", next_contact_at=next_contact),
    )


def test_follow_ups_due_today_and_overdue_are_the_matchmakers_own(crew):
    now = timezone.now()
    mine_due = add_member(crew["aa1"], name="今天联系")
    mine_late = add_member(crew["aa1"], name="逾期联系")
    theirs = add_member(crew["bb1"], name="别店会员")
    follow_up(crew["aa1"], mine_due, now + timedelta(minutes=5))
    follow_up(crew["aa1"], mine_late, now + timedelta(minutes=5))
    follow_up(crew["bb1"], theirs, now + timedelta(minutes=5))
    Member.objects.filter(pk=mine_late.pk).update(next_contact_at=now - timedelta(days=3))

    todo = entries(crew["aa1"], now=now)
    assert todo["due_today"].count == 1 and todo["overdue"].count == 1
    assert todo["overdue"].tone == "danger"
    assert [label.split("（")[0] for label, _url, _d in todo["overdue"].items] == ["逾期联系"]
    # Another store's member is nobody's business here.
    assert "别店会员" not in str([e.items for e in todo.values()])
    assert entries(crew["bb1"], now=now)["due_today"].count == 1


def test_a_manager_sees_the_team_and_its_idle_members(crew):
    now = timezone.now()
    member = add_member(crew["aa1"], name="组员会员")
    follow_up(crew["aa1"], member, now + timedelta(minutes=5))
    Member.objects.filter(pk=member.pk).update(followed_up_at=now - timedelta(days=90))
    todo = entries(crew["mgr1"], now=now)
    assert todo["due_today"].count == 1
    assert todo["idle"].count == 1
    assert "idle" not in entries(crew["aa1"], now=now)  # a matchmaker allocates nobody


def test_birthdays_today_and_this_month(crew):
    today = timezone.localdate()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else date(1992, 2, 29)
    add_member(crew["aa1"], name="寿星", birthday=born)
    other_day = 10 if today.day != 10 else 11
    add_member(crew["aa1"], name="本月", birthday=today.replace(year=1991, day=other_day))
    todo = entries(crew["aa1"])
    assert [label.split("（")[0] for label, _u, _d in todo["birthdays"].items] == ["寿星"]
    assert todo["birthdays_month"].count == 2


def test_a_consultation_assigned_to_a_matchmaker_is_on_their_list_until_done(crew):
    from hongniang.frontdesk import services as frontdesk
    from hongniang.frontdesk.models import FrontDeskSettings

    desk = FrontDeskSettings.load()
    desk.default_store = crew["store_a"]
    desk.save()

    def waiting(viewer):
        entry = entries(viewer).get("consultations")
        return [label for label, _url, _detail in entry.items] if entry else []

    consultation = frontdesk.consultation_submit(
        name="王女士", mobile="13912345670", message="想找对象"
    )
    assert waiting(crew["aa1"]) == []
    frontdesk.consultation_assign(actor=crew["mgr1"], consultation=consultation, to=crew["aa1"])
    assert waiting(crew["aa1"]) == ["王女士"] and waiting(crew["aa2"]) == []
    frontdesk.consultation_update(
        actor=crew["admin"], consultation=consultation, status="done", result="已转为会员"
    )
    assert waiting(crew["aa1"]) == []


def test_nothing_to_do_shows_the_empty_state(crew, client):
    client.force_login(crew["aa1"])
    page = client.get(reverse("home:index")).content.decode()
    assert "暂无待办" in page
    assert 'data-todo="' not in page


def test_the_home_page_lists_the_work_with_links(crew, client):
    member = add_member(crew["aa1"], name="要联系的")
    follow_up(crew["aa1"], member, timezone.now() + timedelta(minutes=5))
    client.force_login(crew["aa1"])
    page = client.get(reverse("home:index")).content.decode()
    assert 'data-todo="due_today"' in page
    assert reverse("members:detail", args=[member.pk]) in page
    assert "要联系的" in page


def test_business_figures_count_the_pipeline_follow_ups_and_signings(crew):
    a = add_member(crew["aa1"])
    b = add_member(crew["aa1"])
    add_member(crew["bb1"])  # another store: not in aa1's figures
    follow_up(crew["aa1"], a, None)
    sign(Member.objects.get(pk=b.pk))  # finance approves b's contract
    figures = selectors.business_figures(viewer=crew["aa1"])
    pipeline = {row["name"]: row["value"] for row in figures["pipeline"]}
    assert figures["members"] == 2
    assert pipeline[str(c.SalesStage.FOLLOWING.label)] == 1
    assert pipeline[str(c.SalesStage.SIGNED.label)] == 1
    assert figures["follow_ups_done"] == 1
    assert figures["signed"] == 1
    assert selectors.business_figures(viewer=crew["mgr2"])["signed"] == 0


def test_a_role_without_members_sees_no_member_figures(org, client):
    outsider = StaffFactory(role=role_with("settings.view"), store=org["store_a"])
    assert selectors.business_figures(viewer=outsider) == {}
    assert selectors.todo_list(viewer=outsider) == []
    client.force_login(outsider)
    page = client.get(reverse("home:index"))
    assert page.status_code == 200 and 'data-figure="members"' not in page.content.decode()


def test_the_home_needs_a_login(client):
    response = client.get(reverse("home:index"))
    assert response.status_code == 302


def test_counts_from_other_tables_are_the_viewers_members_only(crew):
    """Recommendations, introductions, signings, stalled couples and follow-ups are counted
    through their members: a matchmaker's own, a manager's team, never another store's."""
    from hongniang.matching.models import IntroductionRequest, Recommendation
    from hongniang.members.models import EventKind, MemberEvent

    mine, also_mine = add_member(crew["aa1"]), add_member(crew["aa1"])
    theirs, theirs_too = add_member(crew["bb1"]), add_member(crew["bb1"])
    Recommendation.objects.create(member=mine, candidate=theirs, reason="r")
    Recommendation.objects.create(member=theirs, candidate=mine, reason="r")
    # An introduction counts for the team of either member; one between two others not at all.
    IntroductionRequest.objects.create(member=theirs, target=mine)
    IntroductionRequest.objects.create(member=theirs, target=theirs_too)
    for member in (also_mine, theirs):
        MemberEvent.objects.create(
            member=member, kind=EventKind.MATCHING, data={"stalled_pair": "1-2"}, summary="s"
        )
        follow_up(crew["aa1"] if member == also_mine else crew["bb1"], member, None)
    sign(Member.objects.get(pk=theirs.pk))

    for viewer in (crew["aa1"], crew["mgr1"]):
        todo = entries(viewer)
        assert todo["recommendations"].count == 1
        assert todo["introductions"].count == 1
        assert todo["stalled"].count == 1
        figures = selectors.business_figures(viewer=viewer)
        assert (figures["follow_ups_done"], figures["signed"]) == (1, 0)
    figures = selectors.business_figures(viewer=crew["bb1"])
    assert (figures["follow_ups_done"], figures["signed"]) == (1, 1)
    assert entries(crew["bb1"])["introductions"].count == 2


def test_members_never_followed_up_are_idle_from_their_registration(crew):
    now = timezone.now()
    days = selectors.SiteSettings.load().pool_return_days
    waiting = add_member(crew["aa1"], name="久未跟进")
    fresh = add_member(crew["aa1"], name="新登记")
    followed = add_member(crew["aa1"], name="刚跟进")
    old = now - timedelta(days=days + 1)
    Member.objects.filter(pk__in=[waiting.pk, followed.pk]).update(registered_at=old)
    Member.objects.filter(pk=followed.pk).update(followed_up_at=now - timedelta(days=1))
    Member.objects.filter(pk=fresh.pk).update(followed_up_at=None)
    assert entries(crew["mgr1"], now=now)["idle"].count == 1


def _busy_team(crew, n):
    """n members per matchmaker with what the home page counts: follow-ups due and overdue,
    birthdays today, recommendations, introductions, stalled couples."""
    from hongniang.matching.models import IntroductionRequest, Recommendation
    from hongniang.members.models import EventKind, MemberEvent

    now, today = timezone.now(), timezone.localdate()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else date(1992, 2, 29)
    for key in ("aa1", "aa2", "bb1"):
        members = [add_member(crew[key], birthday=born) for _ in range(n)]
        for i, member in enumerate(members):
            follow_up(crew[key], member, now + timedelta(minutes=5))
            if i % 2:
                Member.objects.filter(pk=member.pk).update(next_contact_at=now - timedelta(days=2))
            partner = members[i - 1]
            Recommendation.objects.create(member=member, candidate=partner, reason="r")
            IntroductionRequest.objects.create(member=member, target=partner)
            MemberEvent.objects.create(
                member=member, kind=EventKind.MATCHING, data={"stalled_pair": f"{i}"}
            )


@pytest.mark.parametrize("who", ["aa1", "mgr1", "admin"])
def test_the_home_page_queries_do_not_grow_with_the_data(crew, client, who):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(crew[who])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("home:index")).status_code == 200
        return len(ctx.captured_queries)

    _busy_team(crew, 2)
    queries()  # the first request fills the per-process caches (settings, permissions)
    few = queries()
    _busy_team(crew, 8)
    assert queries() == few
    # One count and a preview per entry (finance ones and the paused services due to resume
    # included; birthdays this month counted per calendar), whatever the data.
    # The members shown are presented from the owners their rows carry (no query per entry);
    # the stage figure and the idle members are one pass (`member_tally`); the contracts
    # ending and the renewal reminders are one count (`end_date_counts`); this month's
    # follow-ups are summed in the tally (the members' month counter; counted directly for a
    # viewer who sees every member).
    assert few <= 35, few
