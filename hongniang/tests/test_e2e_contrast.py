"""Text on the workbench's busiest pages reads at the WCAG AA contrast ratio.

Checked by axe-core (installed from npm with the other front-end assets) in the real browser, on
the pages with the most badges and link buttons, as an administrator who sees every kind of row.
"""

from pathlib import Path

import pytest

from hongniang.conftest import login
from hongniang.staff.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [
    "/workbench/",
    "/",  # the public site
    "/search/",
    "/stories/",
    "/members/",
    "/members/presales/",
    "/members/allocate/",
    "/matching/",
    "/members/aftersales/",
    "/finance/contracts/",
    "/finance/payments/",
    "/finance/refunds/",
    "/finance/complaints/",
    "/matching/appointments/",
    "/finance/report/",  # the green net figure
]
CONTRAST = """async () => {
  const r = await axe.run(document, {runOnly: ['color-contrast']});
  return r.violations.flatMap(v => v.nodes.map(
    n => n.html.slice(0, 100) + ' — ' + n.any.map(a => a.message).join('; ').slice(0, 120)));
}"""


def test_badges_and_link_buttons_meet_the_contrast_ratio(page, seeded_agency):
    from hongniang.finance.demo import seed_finance
    from hongniang.sales.demo import seed_follow_ups

    seed_follow_ups()
    seed_finance()
    axe = AXE.read_text(encoding="utf-8")
    login(page, "admin", DEMO_PASSWORD)
    failures = {}
    page.goto(page.base_url + "/search/")
    # and one public member page
    profile = page.locator("a[href^='/profile/']").first.get_attribute("href")
    # and the detail pages with solid success / warning and outlined danger buttons
    from hongniang.finance.models import Complaint
    from hongniang.members.models import Member
    from hongniang.staff.models import Staff

    details = [
        f"/members/{Member.objects.filter(is_hidden=False).order_by('pk').first().pk}/",
        f"/finance/complaints/{Complaint.objects.order_by('pk').first().pk}/",
        f"/staff/{Staff.objects.get(username='hn111').pk}/",
    ]
    for path in [*PAGES, profile, *details]:
        response = page.goto(page.base_url + path)
        assert response.status == 200, path
        page.evaluate(axe)  # evaluated, not a <script> tag: the page's CSP stays on
        found = page.evaluate(CONTRAST)
        if found:
            failures[path] = found[:5]
    assert not failures, failures
