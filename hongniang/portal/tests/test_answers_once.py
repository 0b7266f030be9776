"""Every answer a member gives about another — to a matchmaker's recommendation (in the
workbench or the member centre), to a daily suggestion, or on a masked card — is one outcome
for the learning step and one answer for the engine, exactly once per direction (issue 12
with issue 13's double opt-in): the member's first answer about the other, at its time."""

import contextlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching import index, optin, selectors
from hongniang.matching import services as matching
from hongniang.matching.engine.collab import GIVEN, RECEIVED, SAID_YES
from hongniang.matching.models import (
    Answer,
    AnswerVia,
    EngineChange,
    EngineChangeKind,
    OptIn,
    Recommendation,
)
from hongniang.matching.tests.test_optin import two  # noqa: F401 (fixture)
from hongniang.portal import centre_services as centre
from hongniang.portal.models import Suggestion
from hongniang.portal.services import MemberSession

from .conftest import give_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def duo(two):  # noqa: F811
    """Her (aa1's member) and him (bb1's), each with an account for the member centre."""
    for who in ("her", "him"):
        two[f"{who}_session"] = MemberSession(account=give_account(two[who]))
    two["matchmaker"] = {"her": two["aa1"], "him": two["bb1"]}
    return two


def _other(who: str) -> str:
    return "him" if who == "her" else "her"


def _pair(duo) -> OptIn | None:
    a, b = duo["her"].pk, duo["him"].pk
    return OptIn.objects.filter(low_id=min(a, b), high_id=max(a, b)).first()


def _rec(duo, who: str) -> Recommendation:
    return Recommendation.objects.create(
        member=duo[who],
        candidate=duo[_other(who)],
        recommended_by=duo["matchmaker"][who],
        reason="性格相合",
    )


def _answers(duo) -> set:
    """The learning step's outcomes about the two: (actor, target, yes, reasons, at)."""
    ids = {duo["her"].pk, duo["him"].pk}
    return {
        (o.actor, o.target, o.yes, o.reasons, o.at)
        for o in selectors.learning_outcomes()
        if o.actor in ids
    }


def _feedback(duo, who: str) -> list:
    return list(
        EngineChange.objects.filter(
            kind=EngineChangeKind.FEEDBACK, member_id=duo[who].pk, other_id=duo[_other(who)].pk
        ).values_list("data", flat=True)
    )


def answer_via(duo, channel: str, who: str, accepted: bool, reasons=("too_old",), day=None):
    """`who` answers about the other through `channel`; returns the time the channel recorded
    for the answer. Raises ValidationError where the channel takes no answer now."""
    me, other, session = duo[who], duo[_other(who)], duo[f"{who}_session"]
    reasons = [] if accepted else list(reasons)
    if channel == "rec_staff":
        rec = matching.recommendation_answer(
            actor=duo["matchmaker"][who],
            recommendation=_rec(duo, who),
            accepted=accepted,
            reasons=reasons,
        )
        return rec.answered_at
    if channel == "rec_centre":
        rec = centre.recommendation_answer(
            session=session, recommendation=_rec(duo, who), accepted=accepted, reasons=reasons
        )
        return rec.answered_at
    if channel == "sug":
        sug = Suggestion.objects.create(
            member=me, candidate=other, day=day or timezone.localdate(), rank=1
        )
        return centre.suggestion_answer(
            session=session, suggestion=sug, accepted=accepted, reasons=reasons
        ).answered_at
    assert channel == "card"
    pair = _pair(duo)
    if pair is None:
        raise ValidationError("no card")
    open_rec = Recommendation.objects.filter(
        member=me, candidate=other, status__in=centre.OPEN_RECOMMENDATION
    ).first()
    pair = centre.pair_answer(session=session, pair=pair, accepted=accepted, reasons=reasons)
    if open_rec is not None:
        open_rec.refresh_from_db()
        return open_rec.answered_at
    return getattr(pair, f"{pair.side(me.pk)}_answered_at")


@pytest.mark.parametrize("channel", ["rec_staff", "rec_centre", "sug", "card"])
@pytest.mark.parametrize("accepted", [True, False])
def test_an_answer_through_each_channel_is_one_outcome_and_one_engine_answer(
    duo, channel, accepted
):
    if channel == "card":  # his yes brings her the masked card
        answer_via(duo, "sug", "him", True)
    at = answer_via(duo, channel, "her", accepted)
    her, him = duo["her"].pk, duo["him"].pk
    reasons = () if accepted else ("too_old",)
    mine = {a for a in _answers(duo) if a[0] == her}
    assert mine == {(her, him, accepted, reasons, at.timestamp())}
    assert _feedback(duo, "her") == [{"liked": accepted, "reasons": list(reasons)}]
    row = Answer.objects.get(member_id=her)
    assert row.via == {"rec_staff": "rec", "rec_centre": "rec"}.get(channel, channel)
    assert _pair(duo).answer_of(her) == ("yes" if accepted else "no")


def test_a_later_answer_about_the_same_member_teaches_nothing_new(duo):
    """A suggestion answered yes, then a matchmaker recommends him again and she says no: the
    pair shows her latest answer, the engine and the learning step keep her first."""
    first = answer_via(duo, "sug", "her", True)
    answer_via(duo, "rec_staff", "her", False, reasons=["too_far"])
    answer_via(duo, "rec_centre", "her", True)
    her, him = duo["her"].pk, duo["him"].pk
    assert _answers(duo) == {(her, him, True, (), first.timestamp())}
    assert len(_feedback(duo, "her")) == 1
    assert Answer.objects.count() == 1
    # Her timeline still shows each answer she gave.
    assert Recommendation.objects.filter(member_id=her, status="declined").count() == 1


def test_a_withdrawn_yes_stays_a_yes_and_a_mutual_yes_is_two(duo):
    at_her = answer_via(duo, "rec_centre", "her", True)
    at_him = answer_via(duo, "card", "him", True)
    assert _pair(duo).revealed
    centre.pair_withdraw(session=duo["her_session"], pair=_pair(duo))
    her, him = duo["her"].pk, duo["him"].pk
    assert _answers(duo) == {
        (her, him, True, (), at_her.timestamp()),
        (him, her, True, (), at_him.timestamp()),
    }
    assert len(_feedback(duo, "her")) == len(_feedback(duo, "him")) == 1


def test_an_open_suggestion_answered_with_the_card_is_not_a_second_answer(duo):
    """The masked card answers her open suggestion of him too (it took its place)."""
    Suggestion.objects.create(
        member=duo["her"], candidate=duo["him"], day=timezone.localdate(), rank=1
    )
    answer_via(duo, "sug", "him", True)
    answer_via(duo, "card", "her", False)
    assert len(_feedback(duo, "her")) == 1
    assert Answer.objects.filter(member=duo["her"]).count() == 1


step = st.tuples(
    st.sampled_from(["rec_staff", "rec_centre", "sug", "card", "withdraw", "end"]),
    st.sampled_from(["her", "him"]),
    st.booleans(),
    st.sampled_from([("too_old",), ("too_far", "appearance"), ("not_my_type",)]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_outcomes_are_each_members_first_answer_whatever_the_channels(duo, steps):
    """Any sequence of answers through any channels, withdrawals and a matchmaker ending the
    pair: the outcomes are exactly each side's first answer (yes or no, its reasons, the time
    the channel recorded it); the engine was told each of them once."""
    with transaction.atomic():
        first: dict[str, tuple] = {}
        for n, (channel, who, accepted, reasons) in enumerate(steps):
            if channel == "withdraw":
                pair = _pair(duo)
                if pair is not None:  # else: nothing of theirs to withdraw
                    with contextlib.suppress(ValidationError):
                        centre.pair_withdraw(session=duo[f"{who}_session"], pair=pair)
                continue
            if channel == "end":
                pair = _pair(duo)
                if pair is not None and pair.ended_at is None:
                    optin.end(actor=duo["aa1"], pair=pair)
                continue
            try:
                at = answer_via(
                    duo,
                    channel,
                    who,
                    accepted,
                    reasons,
                    day=timezone.localdate() - timedelta(days=n),
                )
            except ValidationError:
                continue  # the channel takes no answer now (no card waits for them)
            first.setdefault(who, (accepted, () if accepted else reasons, at.timestamp()))
        ids = {w: duo[w].pk for w in ("her", "him")}
        expected = {
            (ids[who], ids[_other(who)], yes, why, at) for who, (yes, why, at) in first.items()
        }
        assert _answers(duo) == expected, steps
        for who in ("her", "him"):
            told = _feedback(duo, who)
            assert len(told) == (1 if who in first else 0), steps
            if told:
                assert told[0] == {"liked": first[who][0], "reasons": list(first[who][1])}
        transaction.set_rollback(True)


def _counts(engine, member_id: int) -> list[float]:
    rates = engine._graph.rates
    rates.merge()
    i = int(rates.ids.searchsorted(member_id))
    if i < len(rates.ids) and rates.ids[i] == member_id:
        return [float(x) for x in rates.counts[i]]
    return [0.0, 0.0, 0.0, 0.0]


@pytest.mark.django_db(transaction=True)
def test_live_engine_snapshot_replay_and_full_build_count_each_answer_once(duo):
    """Answers through every channel, some about the same member twice: the engine kept
    current by the log, one loaded from a snapshot and replaying the log, and one built from
    the database agree, and count one answer per direction."""
    her, him = duo["her"].pk, duo["him"].pk
    index.build_snapshot()
    live = index.get_engine()
    answer_via(duo, "sug", "him", True)
    answer_via(duo, "card", "her", True)
    answer_via(duo, "rec_staff", "her", False)  # again about him: not a second answer
    answer_via(duo, "rec_centre", "him", True)  # and again
    live = index.get_engine()
    index.reset()
    replayed = index.get_engine()  # the snapshot from before, then the log
    assert replayed is not live
    built = index.build_engine()[0]
    for engine in (live, replayed, built):
        mine, his = _counts(engine, her), _counts(engine, him)
        assert (mine[GIVEN], mine[SAID_YES], mine[RECEIVED]) == (1, 1, 1)
        assert (his[GIVEN], his[SAID_YES], his[RECEIVED]) == (1, 1, 1)
        assert engine._graph.weight(her, him) == live._graph.weight(her, him)
    assert len(selectors.learning_outcomes()) == 2


def _rows() -> set:
    rows = Answer.objects.values_list("member_id", "other_id", "accepted", "reasons", "answered_at")
    return {(m, o, a, tuple(r), at) for m, o, a, r, at in rows}


def test_the_migration_finds_the_first_answers_recorded_before_the_table(duo):
    """Matching 0009 and portal 0007 read recommendations, the pairs' history and suggestions."""
    import importlib

    at_sug = answer_via(duo, "sug", "her", False, reasons=["too_far"])
    answer_via(duo, "rec_staff", "her", True)
    at_him = answer_via(duo, "card", "him", True)
    centre.pair_withdraw(session=duo["him_session"], pair=_pair(duo))
    before = _rows()
    Answer.objects.all().delete()
    importlib.import_module("hongniang.matching.migrations.0009_answers").first_answers(apps, None)
    importlib.import_module(
        "hongniang.portal.migrations.0007_answers_from_suggestions"
    ).suggestion_answers(apps, None)
    after = _rows()
    her, him = duo["her"].pk, duo["him"].pk
    assert (
        after
        == before
        == {
            (her, him, False, ("too_far",), at_sug),
            (him, her, True, (), at_him),
        }
    )
    assert Answer.objects.get(member_id=her).via == AnswerVia.SUGGESTION
