"""Content-Security-Policy: a strict policy on every page, and pages that live within it."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from hongniang.conftest import login, shot
from hongniang.matching import index
from hongniang.members import choices as c
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import PASSWORD

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    parts = [p.strip() for p in header.split(";") if p.strip()]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] if " " in p else "" for p in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/staff/login/", "/", "/members/", "/settings/"])
def test_every_page_carries_the_strict_policy(client, org, url):
    if url != "/staff/login/":
        client.force_login(org["admin"])
    response = client.get(url)
    assert response.status_code == 200
    policy = _policy(response)
    for directive, value in EXPECTED.items():
        assert policy.get(directive) == value, directive
    # Nothing inline or evaluated is allowed anywhere.
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"), "inline script"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
]


def _templates():
    root = Path(settings.BASE_DIR) / "hongniang"
    return sorted(p for p in root.rglob("templates/**/*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p).split("hongniang/", 1)[-1])
def test_no_template_holds_inline_code_or_style(path):
    text = path.read_text(encoding="utf-8")
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{path}: {found}"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_admin_pages_raise_no_csp_violation(page, org, regions):
    index.reset()
    her = add_member(org["admin"], name="小芳", sex=c.Sex.FEMALE, birthday=date(1995, 3, 1))
    add_member(org["admin"], name="阿强", sex=c.Sex.MALE, birthday=date(1992, 6, 1), height=176)
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('Content Security Policy violation: ' + location.pathname"
        " + ' ' + e.violatedDirective + ' ' + e.blockedURI"
        " + ' ' + e.sourceFile + ':' + e.lineNumber));"
    )
    login(page, "admin", PASSWORD)
    base = page.base_url
    page.wait_for_selector("#chart-pipeline canvas")
    page.hover("#chart-pipeline canvas")  # the chart's tooltip is built on hover
    page.wait_for_timeout(300)
    shot(page, "csp-dashboard")
    # The member form's region cascade asks htmx for the cities of the chosen province.
    page.goto(f"{base}/members/new/")
    page.select_option("select[name=region_province]", "440000")
    page.wait_for_selector("select[name=region_city] option[value='440100']", state="attached")
    page.select_option("select[name=region_city]", "440100")
    page.wait_for_selector("select[name=region_county] option[value='440106']", state="attached")
    for url in (
        f"{base}/members/{her.pk}/edit/",
        f"{base}/matching/member/{her.pk}/",
        f"{base}/members/",
        f"{base}/settings/",
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    # The language switch still works without its inline handler.
    with page.expect_navigation():
        page.select_option("#lang-switch", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert refused == [], "\n".join(refused)
