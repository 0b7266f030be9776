"""A visitor browses the public site in a real browser, on a desktop and on a phone:
home → search → a member's page → success stories. The home page's screenshots go to
test-artifacts/; with UPDATE_SCREENSHOTS=1 they replace the ones kept in docs/screenshots/ (so a
test run does not rewrite tracked files)."""

import os
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def demo_site(regions):
    """The demo agency as `seed_demo` makes it, small: featured members, team, plans, banners,
    two stories."""
    from django.core.management import call_command

    call_command("seed_demo", members=120, quiet=True)


def _browse(page, base, name):
    from hongniang.conftest import shot

    page.goto(f"{base}/")
    assert page.locator("[data-member-card]").count() >= 2  # featured women and men
    assert page.locator("#team .site-matchmaker").count() >= 1
    assert page.locator("#plans .site-plan").count() >= 1
    assert page.locator("[data-story-card]").count() == 2
    page.wait_for_load_state("networkidle")
    shot(page, f"site-home-{name}")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(SCREENSHOTS / f"site-home-{name}.png"), full_page=True)

    # Search women with a location chosen in the cascade (the province's cities load by htmx).
    form = page.locator("#site-search").first
    form.locator("select[name=sex]").select_option("F")
    form.locator("select[name=region_province]").select_option("440000")
    # A locator, not wait_for_function: the page's CSP forbids the eval that one polls with.
    form.locator("select[name=region_city] option").nth(1).wait_for(state="attached")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/search/?**")
    assert "sex=F" in page.url and "region_province=440000" in page.url
    shot(page, f"site-search-{name}")
    cards = page.locator("#site-results [data-member-card]")
    if cards.count() == 0:  # no woman in Guangdong among the demo members: search all women
        page.goto(f"{base}/search/?sex=F")
        cards = page.locator("#site-results [data-member-card]")
    assert cards.count() >= 1
    cards.first.click()
    page.wait_for_url("**/profile/**")
    assert "女士" in page.locator("#site-member-title").inner_text()
    meet = page.locator("#site-meet")
    assert "/m/login/?next=" in meet.get_attribute("href")
    shot(page, f"site-member-{name}")

    page.goto(f"{base}/stories/")
    page.locator("[data-story-card]").first.click()
    page.wait_for_url("**/stories/*/")
    assert page.locator("#story-title").inner_text()
    shot(page, f"site-story-{name}")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_visitor_browses_the_public_site_on_desktop(browser, live_server, demo_site):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        _browse(page, live_server.url, "desktop")
    finally:
        context.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_visitor_browses_the_public_site_on_a_phone(browser, live_server, demo_site):
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        _browse(page, live_server.url, "phone")
        # No sideways scrolling on a phone.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1
    finally:
        context.close()
