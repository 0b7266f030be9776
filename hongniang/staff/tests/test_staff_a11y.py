"""Staff pages in a real browser: every form control has an accessible name once the scripts
have run (Tom Select moves a select's label to its own input), and axe-core finds no critical
violation when it is installed (the look tools put it in $TMPDIR/look-node)."""

import os
from pathlib import Path

import pytest

from hongniang.conftest import login
from hongniang.staff.tests.factories import PASSWORD

AXE_PATHS = [
    Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js",
    Path(os.environ.get("TMPDIR") or "/tmp")
    / "look-node"
    / "node_modules"
    / "axe-core"
    / "axe.min.js",
]

UNNAMED = """() => Array.from(document.querySelectorAll('select, input, textarea'))
  .filter(el => el.type !== 'hidden' && !el.closest('.modal:not(.show)'))
  .filter(el => {
    const by = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .map(id => (document.getElementById(id) || {}).textContent || '').join('');
    const labels = Array.from(el.labels || []).map(l => l.textContent).join('');
    return !((el.getAttribute('aria-label') || '') + by + labels + (el.title || '')).trim();
  })
  .map(el => el.outerHTML.slice(0, 160))"""

CRITICAL = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'critical').map(v => v.id + ': ' + v.nodes[0].html.slice(0, 160))"""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_staff_pages_name_every_control(page, org):
    axe = next((p.read_text(encoding="utf-8") for p in AXE_PATHS if p.exists()), None)
    login(page, "admin", PASSWORD)
    pk = org["aa1"].pk
    urls = [
        "/staff/",
        "/staff/new/",
        f"/staff/{pk}/",
        f"/staff/{pk}/edit/",
        "/staff/roles/",
        f"/staff/roles/{org['mm_role'].pk}/",
        "/staff/stores/",
        "/staff/lockouts/",
        "/staff/account/",
    ]
    problems = {}
    for url in urls:
        page.goto(page.base_url + url)
        page.wait_for_load_state("networkidle")
        found = page.evaluate(UNNAMED)
        if axe:
            page.evaluate(axe)
            found += page.evaluate(CRITICAL)
        if found:
            problems[url] = found
    assert problems == {}
