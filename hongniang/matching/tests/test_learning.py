"""The nightly learning step on the Django side: outcomes read, runs stored, the accepted
model used by the engines, shown to administrators only."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.jobs.periodic import registered
from hongniang.matching import engine as eng
from hongniang.matching import index, selectors, services
from hongniang.matching.models import Appointment, LearnReason, MatchModel
from hongniang.matching.tests.test_library import people  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _answer(people, age, accepted):  # noqa: F811
    rec = services.recommend(
        actor=people["aa1"], member=people["her"], candidate=people["men"][age], reason="试试"
    )
    services.recommendation_answer(
        actor=people["aa1"],
        recommendation=rec,
        accepted=accepted,
        reasons=[] if accepted else ["too_old"],
    )
    return rec


def test_outcomes_are_answers_and_continued_appointments(people):  # noqa: F811
    _answer(people, 29, True)
    _answer(people, 36, False)
    her, him = people["her"], people["men"][33]
    Appointment.objects.create(
        member=her,
        partner=him,
        starts_at=timezone.now() - timedelta(days=1),
        place="公园",
        status="held",
        outcome="continue",
    )
    outcomes = selectors.learning_outcomes()
    got = {(o.actor, o.target, o.yes) for o in outcomes}
    assert (her.pk, people["men"][29].pk, True) in got
    assert (her.pk, people["men"][36].pk, False) in got
    assert {(her.pk, him.pk, True), (him.pk, her.pk, True)} <= got
    assert [o.at for o in outcomes] == sorted(o.at for o in outcomes)
    reasons = {(o.actor, o.target): o.reasons for o in outcomes}
    assert reasons[(her.pk, people["men"][36].pk)] == ("too_old",)  # the learning step weighs it
    assert reasons[(her.pk, people["men"][29].pk)] == ()


def test_too_few_outcomes_keep_the_defaults_and_the_run_is_recorded(people):  # noqa: F811
    _answer(people, 29, True)
    run = services.learn_model()
    assert not run.accepted and run.reason == LearnReason.TOO_FEW
    assert MatchModel.objects.count() == 1
    assert index.current_model() == eng.Model()
    assert "matching_learn" in registered()


def test_the_newest_accepted_model_is_used_and_a_bad_row_falls_back(people):  # noqa: F811
    coefficients = dict(intercept=-2.0, fit=0.5, appeal=1.2, selectivity=0.8, collaborative=0.3)
    MatchModel.objects.create(accepted=True, trained_on=500, checked_on=150, **coefficients)
    MatchModel.objects.create(accepted=False, reason="not_better", **asdict(eng.Model()))
    assert index.current_model() == eng.Model(**coefficients)
    MatchModel.objects.create(accepted=True, **{**coefficients, "fit": -1.0})
    assert index.current_model() == eng.Model()  # refused by the engine: defaults


def test_weights_page_is_for_administrators(client, people):  # noqa: F811
    url = reverse("matching:learned_model")
    client.force_login(people["admin"])
    page = client.get(url)
    assert page.status_code == 200
    assert "使用中：默认权重" in page.content.decode()
    assert "学习步骤尚未运行" in page.content.decode()
    MatchModel.objects.create(
        accepted=True,
        trained_on=800,
        checked_on=200,
        check_auc=0.71,
        default_auc=0.66,
        intercept=-1.0,
        fit=0.4,
        appeal=1.1,
        selectivity=0.9,
        collaborative=0.2,
    )
    text = client.get(url).content.decode()
    assert "已替换默认权重" in text and "0.710" in text and "800" in text
    assert "具有其曾婉拒他人的原因" in text and "2.000" in text  # a run before reasons: default
    assert "答复率先验" in text and "10.000" in text  # no prior of its own: the engine's
    client.force_login(people["aa1"])
    assert client.get(url).status_code == 403


def test_the_learned_rates_prior_is_stored_and_used(people):  # noqa: F811
    coefficients = dict(intercept=-1.0, fit=0.5, appeal=1.2, selectivity=0.8, collaborative=0.3)
    MatchModel.objects.create(accepted=True, rate_prior=2.5, **coefficients)
    assert index.current_model() == eng.Model(rate_prior=2.5, **coefficients)
    run = MatchModel.objects.create(accepted=True, rate_prior=None, **coefficients)
    assert index.current_model().rate_prior is None  # the engine's own prior
    run.rate_prior = -3.0  # edited by hand into something the engine refuses
    run.save()
    assert index.current_model() == eng.Model()
