"""The match library before the worker's first snapshot, in a real browser: it says the engine is
being prepared, shows the build's progress, and shows the matches by itself once it is ready."""

from datetime import date

import pytest
from django.utils import timezone

from hongniang.conftest import login, shot
from hongniang.matching import index
from hongniang.matching.tests.conftest import MATCHING
from hongniang.members import choices as c
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import PASSWORD, role_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_library_waits_for_the_snapshot_then_shows_the_matches(page, org, settings):
    settings.ENGINE_BUILD_IN_REQUEST = False  # as in production
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    org["aa1"].role = role_with("members.view", "members.add", "members.edit", *MATCHING)
    org["aa1"].save()
    her = add_member(
        org["aa1"],
        name="小芳",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 3, 1),
        sales_stage=c.SalesStage.SIGNED,
        service_status=c.ServiceStatus.IN_SERVICE,
        preference={},
    )
    add_member(
        org["aa1"],
        name="阿强",
        sex=c.Sex.MALE,
        height=178,
        birthday=date(timezone.localdate().year - 30, 6, 1),
        sales_stage=c.SalesStage.SIGNED,
        service_status=c.ServiceStatus.IN_SERVICE,
    )
    login(page, "aa1", PASSWORD)
    page.goto(f"{page.base_url}/matching/member/{her.pk}/")
    preparing = page.locator("#engine-preparing")
    assert "匹配引擎正在准备中" in preparing.inner_text()
    assert preparing.locator("progress").count() == 1
    shot(page, "match-library-engine-preparing")

    index.build_snapshot()  # the worker's job finishes
    page.wait_for_selector(".candidate", timeout=20000)  # the page reloaded itself
    assert page.locator("#engine-preparing").count() == 0
    assert page.locator(".candidate .fw-bold a").all_inner_texts() == ["阿强"]
