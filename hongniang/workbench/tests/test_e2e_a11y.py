"""Accessible names that scripts could take away: selects enhanced by Tom Select, the user menu."""

import pytest

from hongniang.conftest import login
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAMELESS = """() => [...document.querySelectorAll('select, input:not([type=hidden])')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.title)
  .map(el => el.outerHTML.slice(0, 120))"""


def test_enhanced_selects_keep_their_names(page, org):
    login(page, "admin", PASSWORD)
    for path in ("/matching/appointments/new/", "/matching/introductions/new/", "/staff/new/"):
        page.goto(f"{page.base_url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("select.tomselected").count() > 0, path
        assert page.evaluate(NAMELESS) == [], path


def test_user_menu_is_named_by_its_visible_text(page, org):
    login(page, "admin", PASSWORD)
    menu = page.locator("header [data-bs-toggle=dropdown]")
    assert menu.get_attribute("aria-label") is None
    name = menu.evaluate("el => el.textContent.replace(/\\s+/g, ' ')")
    assert org["admin"].name in name and "用户菜单" in name
