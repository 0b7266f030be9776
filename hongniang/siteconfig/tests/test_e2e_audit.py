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


def test_personal_data_page_filters_by_staff(page, org):
    from hongniang.members.models import RevealLog
    from hongniang.members.tests.helpers import add_member

    her = add_member(org["aa1"], name="小芳")
    RevealLog.objects.create(member=her, field="mobile", staff=org["aa1"])
    RevealLog.objects.create(member=her, field="export", staff=org["mgr1"])
    login(page, "admin", PASSWORD)
    page.click("a.nav-link:has-text('系统设置')")  # open the sidebar section
    page.click("a.dropdown-item:has-text('个人信息访问记录')")
    page.wait_for_url("**/settings/personal-data/")
    page.wait_for_selector("#id_staff.tomselected")
    assert page.evaluate(NAMELESS_SELECTS) == []
    assert page.locator("tbody tr").count() == 2
    page.locator("#id_staff").evaluate("(el, v) => el.tomselect.setValue(v)", str(org["mgr1"].pk))
    page.click("button:has-text('筛选')")
    page.wait_for_url("**/settings/personal-data/?*")
    shot(page, "personal-data")
    assert page.locator("tbody tr").count() == 1
    assert "完整导出" in page.locator("tbody").inner_text()


def test_audit_pages_older_and_newer_in_the_browser(page, org):
    from hongniang.siteconfig.models import SiteSettings

    site = SiteSettings.load()
    site.crm_page_size = 5
    site.save()
    for i in range(12):
        org["aa1"].name = f"改名{i}"
        org["aa1"].save()
    login(page, "admin", PASSWORD)
    page.goto(f"{page.base_url}/settings/audit/?kind=staff")
    first = page.locator("tbody").inner_text()
    assert "改名11" in first
    page.click("a:has-text('较早的记录')")
    page.wait_for_url("**before=*")
    assert "kind=staff" in page.url
    shot(page, "audit-log-older")
    second = page.locator("tbody").inner_text()
    assert "改名11" not in second and "改名6" in second
    page.click("a:has-text('较新的记录')")
    page.wait_for_url("**after=*")
    assert page.locator("tbody").inner_text() == first
