"""Outcome metrics beside sales, per matchmaker and per store, on a small known dataset; and the
promise ledger month by month per matchmaker on the report."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.finance import selectors, services
from hongniang.finance.tests.helpers import SECURE, effective, finance_crew, plan
from hongniang.matching.models import Appointment, Recommendation
from hongniang.members import choices as c
from hongniang.members.models import EventKind, MemberEvent
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    return finance_crew(org)


def at(day, hour):
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=hour)


def recommend(member, candidate, by, status):
    return Recommendation.objects.create(
        member=member, candidate=candidate, recommended_by=by, reason="合适", status=status
    )


def date_(member, partner, by, when, outcome):
    return Appointment.objects.create(
        member=member,
        partner=partner,
        starts_at=when,
        place="茶馆",
        arranged_by=by,
        status="held",
        outcome=outcome,
    )


@pytest.fixture
def known(crew):
    """aa1 (store A) and bb1 (store B); everything happens today unless said otherwise."""
    today = timezone.localdate()
    aa1, bb1 = crew["aa1"], crew["bb1"]
    w = add_member(aa1, name="王女士")
    men = [add_member(aa1, name=f"男{n}", sex=c.Sex.MALE) for n in range(3)]
    # Four introductions by aa1: three to W (yes, no, unanswered) and W to man 0 (yes): W and
    # man 0 said yes to each other.
    recommend(w, men[0], aa1, "accepted")
    recommend(w, men[1], aa1, "declined")
    recommend(w, men[2], aa1, "sent")
    recommend(men[0], w, aa1, "accepted")
    # Dates: W and man 0 meet twice today and go on (a first and a second date, one
    # relationship started); W and man 1 met last month and again today (a second date).
    date_(w, men[0], aa1, at(today, 9), "continue")
    date_(w, men[0], aa1, at(today, 15), "continue")
    date_(w, men[1], aa1, at(today.replace(day=1) - timedelta(days=5), 10), "continue")
    date_(w, men[1], aa1, at(today, 11), "stop")
    # A success story: a member of aa1 whose service finished because she found a partner.
    happy = add_member(aa1, name="成功会员")
    MemberEvent.objects.create(
        member=happy,
        kind=EventKind.SERVICE,
        summary="服务中 → 服务结束: 找到伴侣",
        data={"step": "finish", "finish_reason": c.FinishReason.SUCCESS},
    )
    # A member with a promise of 2 introductions and 1 date a month who had nothing this
    # month; a complaint against aa1 and a refund on the contract aa1 signed.
    short = add_member(aa1, name="欠服务会员")
    contract = effective(
        crew, short, plans=[plan(intros=2, dates=1)], service_start=today.replace(day=1)
    )
    services.complaint_record(
        actor=crew["admin"], member=short, received_on=today, summary="一个月没有安排介绍"
    )
    refund = services.refund_request(actor=aa1, contract=contract, amount="100", reason="协商")
    services.refund_approve(actor=crew["fin"], refund=refund, security_password=SECURE)
    # bb1: one introduction, unanswered.
    recommend(add_member(bb1), add_member(bb1, sex=c.Sex.MALE), bb1, "sent")
    return today


def test_outcomes_per_matchmaker_on_a_known_dataset(crew, known):
    today = known
    rows = {
        r["name"]: r for r in selectors.outcome_report(viewer=crew["fin"], start=today, end=today)
    }
    mine = rows[crew["aa1"].name]
    assert {k: mine[k] for k in ("intros", "yes", "answered", "mutual")} == {
        "intros": 4,
        "yes": 2,
        "answered": 3,
        "mutual": 2,
    }
    assert (mine["yes_rate"], mine["mutual_rate"]) == (67, 50)
    assert (mine["dates"], mine["first_dates"], mine["second_dates"]) == (3, 1, 2)
    assert (mine["going_on"], mine["relationships"]) == (2, 1)
    assert (mine["successes"], mine["promises_missed"], mine["complaints"], mine["refunds"]) == (
        1,
        1,
        1,
        1,
    )
    theirs = rows[crew["bb1"].name]
    assert (theirs["intros"], theirs["yes_rate"], theirs["dates"], theirs["complaints"]) == (
        1,
        None,
        0,
        0,
    )
    # Per store: each matchmaker counts for their store.
    stores = {r["name"]: r for r in selectors.outcomes_by_store(list(rows.values()))}
    assert stores[crew["store_a"].name]["intros"] == 4
    assert stores[crew["store_a"].name]["relationships"] == 1
    assert stores[crew["store_b"].name]["intros"] == 1
    # A manager sees their team only.
    team = selectors.outcome_report(viewer=crew["mgr1"], start=today, end=today)
    assert [r["name"] for r in team] == [crew["aa1"].name]
    # The counters are monthly: any day of last month reads last month, with its one date
    # (the pair's first, which started a relationship) and nothing of this month.
    last_month = today.replace(day=1) - timedelta(days=1)
    (before,) = selectors.outcome_report(viewer=crew["fin"], start=last_month, end=last_month)
    assert (before["name"], before["intros"], before["dates"]) == (crew["aa1"].name, 0, 1)
    assert (before["first_dates"], before["relationships"]) == (1, 1)


def test_promise_ledger_month_by_month_per_matchmaker(crew, known):
    today = known
    start = today.replace(day=1) - timedelta(days=40)  # last month and this one
    cells = selectors.promise_months(viewer=crew["fin"], start=start, end=today)
    report = selectors.promise_report(cells, start=start, end=today)
    assert report["months"][-1] == today.replace(day=1)
    (row,) = report["rows"]
    assert row["name"] == crew["aa1"].name
    this_month = row["cells"][-1]
    assert this_month == {
        "members": 1,
        "behind": 1,
        "intros": 0,
        "intros_promised": 2,
        "dates": 0,
        "dates_promised": 1,
    }
    assert row["cells"][0] is None  # the contract started this month
    assert selectors.promise_months(viewer=crew["mgr2"], start=start, end=today) == {}


def test_the_report_shows_outcomes_stores_and_the_ledger(client, crew, known):
    crew["fin"].role.grants = [*crew["fin"].role.grants, "reports.view"]
    crew["fin"].role.save()
    client.force_login(crew["fin"])
    today = known.isoformat()
    query = {"window": "range", "start": today, "end": today}
    page = client.get(reverse("finance:report"), query).content.decode()
    assert reverse("finance:report_outcomes") in page  # loaded after the sales figures
    html = client.get(reverse("finance:report_outcomes"), query).content.decode()
    staff_row = html[html.index(f'data-staff="{crew["aa1"].pk}"') :]
    staff_row = staff_row[: staff_row.index("</tr>")]
    for key, value in (("relationships", 1), ("second_dates", 2), ("complaints", 1)):
        assert f'data-k="{key}">{value}<' in staff_row.replace(' text-danger"', '"'), key
    assert f'data-store="{crew["store_b"].pk}"' in html
    ledger = html[html.index('id="promise-ledger"') :]
    assert f'data-promise-staff="{crew["aa1"].pk}"' in ledger
    assert "1/1" in ledger


def test_outcomes_need_the_reports_right(client, crew, known):
    client.force_login(crew["aa1"])  # a matchmaker: no reports right
    assert client.get(reverse("finance:report_outcomes")).status_code == 403
    client.force_login(crew["admin"])
    assert client.get(reverse("finance:report_outcomes")).status_code == 200


def _mutual(crew, today):
    """(aa1's counters, bb1's counters) of today's month, zero measures left out."""
    rows = {
        r["name"]: r for r in selectors.outcome_report(viewer=crew["fin"], start=today, end=today)
    }
    keys = ("intros", "yes", "answered", "mutual", "mutual_centre", "mutual_rate")
    return tuple(
        {k: rows[crew[s].name][k] for k in keys} if crew[s].name in rows else None
        for s in ("aa1", "bb1")
    )


def test_a_mutual_yes_formed_in_the_member_centre_counts_for_each_sides_matchmaker(crew):
    """Both said yes to daily suggestions or masked cards, no recommendation: one mutual yes
    for each member's matchmaker, in the month it became mutual; withdrawing it later, or a
    matchmaker ending the pair, does not undo that it happened."""
    from hongniang.matching import optin

    today = timezone.localdate()
    her = add_member(crew["aa1"], name="王女士")
    him = add_member(crew["bb1"], name="李先生", sex=c.Sex.MALE)
    optin.answer(member=her, other=him, accepted=True, via="sug")
    assert _mutual(crew, today) == (None, None)  # one yes is not a mutual yes
    optin.answer(member=him, other=her, accepted=True, via="card")
    centre = {
        "intros": 0,
        "yes": 0,
        "answered": 0,
        "mutual": 1,
        "mutual_centre": 1,
        "mutual_rate": 100,
    }
    assert _mutual(crew, today) == (centre, centre)
    optin.withdraw(member=him, other=her)
    assert _mutual(crew, today) == (centre, centre)
    # The rebuild from the source rows agrees.
    from hongniang.finance import outcomes

    outcomes.rebuild()
    assert _mutual(crew, today) == (centre, centre)


def test_a_side_that_answered_a_recommendation_credits_its_recommender_once(crew):
    """Her yes answered aa2's recommendation, his came on the masked card: aa2 has the
    introduction, the yes and her side of the mutual yes (in the recommendation's month);
    bb1 (his matchmaker) his side. Both recommendations accepted and the pair mutual: the two
    recommenders, once each, as before the member centre."""
    from hongniang.matching import optin

    today = timezone.localdate()
    her = add_member(crew["aa1"], name="王女士")
    him = add_member(crew["bb1"], name="李先生", sex=c.Sex.MALE)
    rec = recommend(her, him, crew["aa2"], "sent")
    rec.status, rec.answered_at = "accepted", timezone.now()
    rec.save()
    optin.answer(member=her, other=him, accepted=True, via="rec")
    optin.answer(member=him, other=her, accepted=True, via="card")
    rows = {
        r["name"]: r for r in selectors.outcome_report(viewer=crew["fin"], start=today, end=today)
    }
    aa2, bb1 = rows[crew["aa2"].name], rows[crew["bb1"].name]
    assert (aa2["intros"], aa2["yes"], aa2["mutual"], aa2["mutual_centre"]) == (1, 1, 1, 0)
    assert (bb1["intros"], bb1["mutual"], bb1["mutual_centre"], bb1["mutual_rate"]) == (
        0,
        1,
        1,
        100,
    )
    assert crew["aa1"].name not in rows  # her own matchmaker recommended nothing
    # Now bb1 recommends her to him as well and he accepts: his side moves to bb1's
    # recommendation (an introduction with a yes), not a second mutual yes.
    back = recommend(him, her, crew["bb1"], "accepted")
    rows = {
        r["name"]: r for r in selectors.outcome_report(viewer=crew["fin"], start=today, end=today)
    }
    bb1 = rows[crew["bb1"].name]
    assert (bb1["intros"], bb1["yes"], bb1["mutual"], bb1["mutual_centre"]) == (1, 1, 1, 0)
    assert rows[crew["aa2"].name]["mutual"] == 1
    back.delete()
    bb1 = {
        r["name"]: r for r in selectors.outcome_report(viewer=crew["fin"], start=today, end=today)
    }[crew["bb1"].name]
    assert (bb1["intros"], bb1["mutual"], bb1["mutual_centre"]) == (0, 1, 1)
