"""Every edit form of the product, opened and saved unchanged, changes no stored record.

Generic on purpose: the edit pages are found from the URL configuration (a URL named ``edit`` or
``…_edit``, or whose route ends in ``edit/``), and a concrete address for each is found the way a
user finds it, by following links from the pages an administrator can open. A new edit page is
picked up without new code; one that cannot be reached or submitted fails the test by name.
"""

import re
from collections import defaultdict, deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404

from hongniang.conftest import login
from hongniang.staff.demo import DEMO_PASSWORD
from hongniang.staff.models import Staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Rows that record that something happened, not what is stored: sessions, login attempts, and
# the field history of simple_history (a save writes a history row by design).
IGNORED_APPS = {"sessions", "axes", "contenttypes", "auth"}
# Links a crawler must not follow: they act on GET or leave the workbench.
SKIPPED_LINKS = re.compile(r"^/(static|media)/|/logout/|/export/|/template/|setlang")
PAGES_PER_URL_NAME = 3  # enough to reach the records a page lists, without walking every page
MAX_PAGES = 400
PER_EDIT_PAGE = 2  # concrete records exercised per edit URL


def named_patterns():
    """(url name, route, pattern) of every named URL."""

    def walk(patterns, namespace, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, ns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}{p.name}", prefix + str(p.pattern), p

    yield from walk(get_resolver().url_patterns, "", "/")


def edit_patterns() -> dict[str, str]:
    """{url name: route} of every edit page in the URL configuration."""
    return {
        name: route
        for name, route, _p in named_patterns()
        if name.rsplit(":", 1)[-1] == "edit" or name.endswith("_edit") or route.endswith("edit/")
    }


def url_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def start_pages() -> list[str]:
    """Every page without parameters: the lists and forms a user starts from."""
    return [reverse(name) for name, _route, p in named_patterns() if not p.pattern.converters]


def find_edit_urls(client: Client, wanted: dict[str, str]) -> dict[str, list[str]]:
    """Follow links from every parameterless page until each edit page has an address."""
    found: dict[str, list[str]] = defaultdict(list)
    visits: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    queue = deque(start_pages())
    pages = 0
    while queue and pages < MAX_PAGES:
        path = queue.popleft()
        if path in seen or SKIPPED_LINKS.search(path):
            continue
        seen.add(path)
        name = url_name(urlsplit(path).path)
        if name is None:
            continue
        if name in wanted and path not in found[name] and len(found[name]) < PER_EDIT_PAGE:
            found[name].append(path)
        if visits[name] >= PAGES_PER_URL_NAME:
            continue
        visits[name] += 1
        pages += 1
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in re.findall(r'href="([^"#][^"]*)"', response.content.decode()):
            link = urldefrag(href.replace("&amp;", "&"))[0]
            if link.startswith("/") and link not in seen:
                queue.append(link)
    return found


def tracked_models():
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label in IGNORED_APPS or any(f.name == "history_id" for f in meta.fields):
            continue
        yield model


def snapshot() -> dict:
    """Every stored row of the tracked models, without the columns a save always touches."""
    rows = {}
    for model in tracked_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if not getattr(f, "auto_now", False) and f.name != "last_login"
        ]
        for values in model._base_manager.order_by("pk").values_list(*fields):
            rows[(model._meta.label, values[fields.index(model._meta.pk.attname)])] = dict(
                zip(fields, values, strict=True)
            )
    return rows


def differences(before: dict, after: dict) -> list[str]:
    lines = []
    for key in sorted(before.keys() | after.keys(), key=str):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None or new is None:
            lines.append(f"{key[0]} #{key[1]} {'created' if old is None else 'deleted'}")
            continue
        changed = {f: (old[f], new[f]) for f in old if old[f] != new[f]}
        text = ", ".join(f"{f} {a!r} → {b!r}" for f, (a, b) in changed.items())
        lines.append(f"{key[0]} #{key[1]}: {text}")
    return lines


# The form a page is about: posts to the page itself, and has the most fields.
_MAIN_FORM_JS = """
() => {
  const here = new URL(location.href);
  let best = null, bestCount = -1;
  for (const form of document.forms) {
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") continue;
    const action = new URL(form.getAttribute("action") || location.href, location.href);
    if (action.pathname !== here.pathname) continue;
    const count = form.querySelectorAll("input[name], select[name], textarea[name]").length;
    if (count > bestCount) { best = form; bestCount = count; }
  }
  if (!best) return false;
  best.setAttribute("data-edit-under-test", "1");
  return true;
}
"""
_SUBMIT = (
    "form[data-edit-under-test] button[type=submit].btn-primary, "
    "form[data-edit-under-test] button[type=submit], "
    "form[data-edit-under-test] input[type=submit]"
)
_ERRORS = ".invalid-feedback.d-block, .is-invalid, .alert-danger, .errorlist"


def test_every_edit_form_saved_unchanged_changes_nothing(page, seeded_agency):
    wanted = edit_patterns()
    assert wanted, "no edit page found in the URL configuration"
    admin = Staff.objects.get(username="admin")
    client = Client()
    client.force_login(admin)
    urls = find_edit_urls(client, wanted)
    unreachable = sorted(set(wanted) - set(urls))
    assert not unreachable, (
        f"No page links to these edit pages as the administrator: {unreachable}. Give the "
        "seeded_agency fixture a record of their model (or link the page) so they are tested."
    )

    login(page, "admin", DEMO_PASSWORD)
    page.on("dialog", lambda dialog: dialog.accept())
    problems = []
    for name in sorted(urls):
        for path in urls[name]:
            before = snapshot()
            page.goto(f"{page.base_url}{path}")
            page.wait_for_load_state("networkidle")
            if not page.evaluate(_MAIN_FORM_JS):
                problems.append(f"{name} {path}: no form posting to the page")
                continue
            button = page.locator(_SUBMIT).first
            try:
                with page.expect_response(
                    lambda r: r.request.method == "POST", timeout=10000
                ) as response_info:
                    button.click()
            except Exception as exc:  # noqa: BLE001 - report every page, then fail
                problems.append(f"{name} {path}: the unchanged form was not submitted ({exc})")
                continue
            page.wait_for_load_state("networkidle")
            status = response_info.value.status
            errors = page.locator(_ERRORS).all_inner_texts()
            if status >= 400 or errors:
                problems.append(f"{name} {path}: saving unchanged was refused ({status}) {errors}")
            problems += [f"{name} {path}: {line}" for line in differences(before, snapshot())]
    assert not problems, "\n".join(problems)
