"""Double opt-in (issue 13): the pair's state machine. Whatever the order of answers,
withdrawals and a matchmaker ending it, the pair is revealed exactly when both sides say yes
now and nobody ended it; the introduction for the matchmakers exists once per mutual yes."""

import threading
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching import optin, services
from hongniang.matching.models import (
    IntroductionRequest,
    IntroductionStatus,
    OptIn,
    OptInState,
    Recommendation,
)
from hongniang.matching.tests.conftest import MATCHING
from hongniang.members import choices as c
from hongniang.members.models import MemberEvent
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Notice
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(org):
    """A woman of aa1's team and a man of bb1's (another store), both signed and in service."""
    for key in ("aa1", "bb1", "aa2"):
        org[key].role = role_with("members.view", "members.add", "members.edit", *MATCHING)
        org[key].save()
    her = add_member(
        org["aa1"],
        name="李小红",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
    )
    him = add_member(
        org["bb1"],
        name="张三丰",
        sex=c.Sex.MALE,
        birthday=date(1992, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
    )
    her.aftersales_owner = org["aa1"]
    her.save(update_fields=["aftersales_owner"])
    him.aftersales_owner = org["bb1"]
    him.save(update_fields=["aftersales_owner"])
    return {"her": her, "him": him, **org}


def _pair(two) -> OptIn:
    a, b = two["her"].pk, two["him"].pk
    return OptIn.objects.get(low_id=min(a, b), high_id=max(a, b))


def _open_intros(two) -> int:
    ids = [two["her"].pk, two["him"].pk]
    return IntroductionRequest.objects.filter(
        member_id__in=ids, target_id__in=ids, status=IntroductionStatus.OPEN
    ).count()


step = st.one_of(
    st.tuples(st.just("answer"), st.sampled_from(["her", "him"]), st.booleans()),
    st.tuples(st.just("withdraw"), st.sampled_from(["her", "him"])),
    st.tuples(st.just("end")),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=10))
def test_revealed_exactly_when_both_say_yes_whatever_the_order(two, steps):
    with transaction.atomic():
        answers = {"her": "", "him": ""}
        ended = False
        mutual_times = 0
        for s in steps:
            who = s[1] if len(s) > 1 else None
            other = "him" if who == "her" else "her"
            before_mutual = answers == {"her": "yes", "him": "yes"} and not ended
            if s[0] == "answer":
                optin.answer(member=two[who], other=two[other], accepted=s[2])
                if not ended:
                    answers[who] = "yes" if s[2] else "no"
            elif s[0] == "withdraw":
                if not ended and answers[who] == "yes":
                    optin.withdraw(member=two[who], other=two[other])
                    answers[who] = "withdrawn"
                else:
                    with pytest.raises(ValidationError):
                        optin.withdraw(member=two[who], other=two[other])
            else:
                if OptIn.objects.exists() and not ended:
                    optin.end(actor=two["aa1"], pair=_pair(two))
                    ended = True
                elif OptIn.objects.exists():
                    with pytest.raises(ValidationError):
                        optin.end(actor=two["aa1"], pair=_pair(two))
            now_mutual = answers == {"her": "yes", "him": "yes"} and not ended
            mutual_times += now_mutual and not before_mutual
            if OptIn.objects.exists():
                pair = _pair(two)
                assert pair.revealed == now_mutual, (steps, answers, ended)
                assert (pair.state == OptInState.ENDED) == ended
                assert _open_intros(two) == (1 if now_mutual else 0)
        # Each move into "both said yes" told both matchmakers once.
        told = Notice.objects.filter(text__contains="都表示愿意").count()
        assert told == 2 * mutual_times
        assert OptIn.objects.count() <= 1  # one row per pair, whichever side spoke first
        transaction.set_rollback(True)


def test_the_same_answer_twice_changes_nothing(two):
    optin.answer(member=two["her"], other=two["him"], accepted=True, via="sug")
    pair = _pair(two)
    optin.answer(member=two["her"], other=two["him"], accepted=True, via="rec")
    again = _pair(two)
    assert again.updated_at == pair.updated_at and again.via == "sug"
    assert again.first == two["her"] and again.state == OptInState.OPEN
    optin.answer(member=two["him"], other=two["her"], accepted=True)
    optin.answer(member=two["him"], other=two["her"], accepted=True)
    assert _open_intros(two) == 1
    assert MemberEvent.objects.filter(member=two["her"], data__optin=pair.pk).count() == 1


def test_mutual_yes_creates_the_introduction_and_tells_both_matchmakers(two):
    optin.answer(member=two["her"], other=two["him"], accepted=True, via="sug")
    assert not Notice.objects.filter(text__contains="都表示愿意").exists()
    optin.answer(member=two["him"], other=two["her"], accepted=True, via="card")
    pair = _pair(two)
    assert pair.revealed and pair.mutual_at
    intro = pair.introduction
    assert (intro.member, intro.target, intro.status) == (two["her"], two["him"], "open")
    assert set(
        Notice.objects.filter(text__contains="都表示愿意").values_list("recipient", flat=True)
    ) == {two["aa1"].pk, two["bb1"].pk}
    # Each matchmaker reads the other team's member masked.
    text = Notice.objects.get(recipient=two["aa1"], text__contains="都表示愿意").text
    assert "李小红" in text and "张三丰" not in text and "张**" in text


def test_an_open_introduction_of_the_two_is_reused(two):
    IntroductionRequest.objects.create(member=two["him"], target=two["her"], message="想认识")
    optin.answer(member=two["her"], other=two["him"], accepted=True)
    optin.answer(member=two["him"], other=two["her"], accepted=True)
    assert IntroductionRequest.objects.count() == 1
    assert _pair(two).introduction.message == "想认识"


def test_withdrawing_hides_the_reveal_and_withdraws_the_open_introduction(two):
    optin.answer(member=two["her"], other=two["him"], accepted=True)
    optin.answer(member=two["him"], other=two["her"], accepted=True)
    optin.withdraw(member=two["him"], other=two["her"])
    pair = _pair(two)
    assert pair.state == OptInState.DECLINED and not pair.revealed
    assert pair.introduction.status == IntroductionStatus.WITHDRAWN
    assert Notice.objects.filter(recipient=two["aa1"], text__contains="撤回").exists()


def test_a_matchmaker_of_either_side_ends_the_pair_and_nobody_else(two):
    optin.answer(member=two["her"], other=two["him"], accepted=True)
    optin.answer(member=two["him"], other=two["her"], accepted=True)
    with pytest.raises(PermissionDenied):
        optin.end(actor=two["aa2"], pair=_pair(two))  # sees neither member
    optin.end(actor=two["bb1"], pair=_pair(two), note="约见后不合适")
    pair = _pair(two)
    assert pair.state == OptInState.ENDED and pair.ended_by == two["bb1"]
    assert pair.introduction.status == IntroductionStatus.WITHDRAWN
    # No answer reopens an ended pair.
    optin.answer(member=two["her"], other=two["him"], accepted=True)
    assert _pair(two).state == OptInState.ENDED


def test_answering_a_recommendation_answers_the_pair(two):
    rec = Recommendation.objects.create(
        member=two["her"], candidate=two["him"], recommended_by=two["aa1"], reason="稳重"
    )
    services.recommendation_answer(actor=two["aa1"], recommendation=rec, accepted=True)
    pair = _pair(two)
    assert pair.answer_of(two["her"].pk) == "yes" and pair.via == "rec"
    assert pair.waits_for(two["him"].pk) and not pair.waits_for(two["her"].pk)


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL's row locks"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_members_answering_at_the_same_moment_make_one_mutual_pair(two):
    """Both say yes at once, the pair row not even created yet: one row, one mutual state,
    one introduction, one notice per matchmaker."""
    barrier = threading.Barrier(2)
    errors: list = []

    def say_yes(member, other):
        try:
            barrier.wait()
            optin.answer(member=member, other=other, accepted=True)
        except Exception as exc:  # noqa: BLE001 - any failure is the test's failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=say_yes, args=(two["her"], two["him"])),
        threading.Thread(target=say_yes, args=(two["him"], two["her"])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert OptIn.objects.count() == 1 and _pair(two).revealed
    assert _open_intros(two) == 1
    assert Notice.objects.filter(text__contains="都表示愿意").count() == 2
