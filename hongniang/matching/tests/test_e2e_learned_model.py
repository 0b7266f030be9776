"""The learned-weights page as an administrator sees it, in a real browser."""

import pytest

from hongniang.conftest import login, shot
from hongniang.matching.models import LearnReason, MatchModel
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_administrator_sees_the_weights_in_use_and_the_runs(page, org):
    MatchModel.objects.create(
        accepted=False,
        reason=LearnReason.TOO_FEW,
        trained_on=120,
        intercept=-1.3863,
        fit=2.7726,
        appeal=1.0,
        selectivity=1.0,
        collaborative=1.5,
    )
    MatchModel.objects.create(
        accepted=True,
        trained_on=15327,
        checked_on=5109,
        check_auc=0.816,
        default_auc=0.798,
        intercept=-0.72,
        fit=0.73,
        appeal=1.58,
        selectivity=1.55,
        collaborative=2.17,
    )
    login(page, "admin", PASSWORD)
    page.goto(f"{page.base_url}/matching/engine/weights/")
    shot(page, "matching-learned-weights")
    in_use = page.locator("[data-in-use]")
    assert "学习" in in_use.locator("h3").inner_text()
    assert "2.170" in in_use.inner_text() and "1.500" in in_use.inner_text()
    assert "权重" in in_use.locator("thead").inner_text()  # the coefficient, not 体重
    runs = page.locator("[data-runs] tbody tr")
    assert runs.count() == 2
    assert "0.816" in runs.first.inner_text()
