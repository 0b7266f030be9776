"""The audit trail in a real browser: every filter control has an accessible name."""

import pytest

from hongniang.conftest import login, shot
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAMELESS_SELECTS = """() => [...document.querySelectorAll('select, input:not([type=hidden])')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.title)
  .map(el => el.outerHTML.slice(0, 120))"""


def test_audit_filters_have_accessible_names(page, org):
    org["aa1"].name = "改名"
    org["aa1"].save()
    login(page, "admin", PASSWORD)
    page.goto(f"{page.base_url}/settings/audit/")
    page.wait_for_selector("#f-actor.tomselected")
    shot(page, "audit-log")
    assert page.evaluate(NAMELESS_SELECTS) == []
    assert "姓名" in page.locator("table").inner_text()
