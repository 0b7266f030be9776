"""The audit trail is read a page at a time from a cursor: walking it either way gives every
change once, newest first, whatever the page size, ties of time across tables or runs of saves
that changed nothing; a deep page costs the queries of the first."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hongniang.members.models import MatePreference, Member
from hongniang.members.tests.helpers import add_member
from hongniang.siteconfig.audit import AUDITED, LIMIT_SLACK, Cursor, audit_page
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.models import Staff


def _history(org):
    """Changes in several tables, with a run of empty saves longer than a round reads beyond a
    page, and every member and staff version at one time (as a bulk import writes them)."""
    members = []
    for i in range(4):
        org["aa1"].name = f"改名{i}"
        org["aa1"].save()
        member = add_member(org["aa1"], name=f"会员{i}")
        member.name = f"会员{i}改"
        member.save()
        members.append(member)
    for _ in range(LIMIT_SLACK + 5):
        members[0].save()  # nothing changed: read, and left out
    members[1].name = "最后一改"
    members[1].save()
    same_time = timezone.now() - timedelta(days=1)
    for model in (Member, MatePreference, Staff):
        model.history.model.objects.update(history_date=same_time)


def _keys(entries):
    return [(e.kind, e.history_id) for e in entries]


def _walk(size, **filters):
    pages, page = [], audit_page(size=size, **filters)
    while True:
        pages.append(page)
        if not page.older:
            return pages
        assert len(pages) < 500
        page = audit_page(size=size, before=Cursor.parse(page.older), **filters)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 3, 7])
def test_walking_older_then_newer_gives_every_change_once_in_order(org, size):
    _history(org)
    everything = audit_page(size=100_000)
    assert everything.older is None and everything.newer is None
    expected = _keys(everything.object_list)
    assert len(expected) > 20 and len(set(expected)) == len(expected)
    assert {kind for kind, _hid in expected} >= {"member", "preference", "staff"}

    pages = _walk(size)
    assert all(page.object_list for page in pages)  # no empty page on the way
    assert all(len(page.object_list) <= size for page in pages)
    assert [k for page in pages for k in _keys(page.object_list)] == expected
    assert pages[0].newer is None and all(page.newer for page in pages[1:])

    # Back from the oldest page by the newer links: the same changes, the same order.
    back, page = [pages[-1]], pages[-1]
    while page.newer:
        page = audit_page(size=size, after=Cursor.parse(page.newer))
        back.append(page)
        assert len(back) < 500
    assert [k for page in reversed(back) for k in _keys(page.object_list)] == expected
    assert _keys(back[-1].object_list) == _keys(pages[0].object_list)  # ends at the newest


@pytest.mark.django_db
def test_filters_hold_across_pages(org):
    _history(org)
    for filters in ({"kind": "member"}, {"actor_id": org["aa1"].pk}, {"kind": "staff"}):
        expected = _keys(audit_page(size=100_000, **filters).object_list)
        walked = [k for page in _walk(2, **filters) for k in _keys(page.object_list)]
        assert walked == expected, filters


@pytest.mark.django_db
def test_a_deep_page_costs_the_queries_of_the_first(client, org):
    _history(org)
    site = SiteSettings.load()
    site.crm_page_size = 5
    site.save()
    client.force_login(org["admin"])
    client.get(reverse("siteconfig:audit"))  # session and caches warm
    with CaptureQueriesContext(connection) as first:
        response = client.get(reverse("siteconfig:audit"))
    pages = _walk(5)
    assert len(pages) > 3 and pages[-1].object_list
    with CaptureQueriesContext(connection) as last:
        response = client.get(reverse("siteconfig:audit"), {"before": pages[-2].older})
    assert response.status_code == 200
    assert _keys(response.context["page"].object_list) == _keys(pages[-1].object_list)

    # One query per history table either way (the rest names the records shown, one query
    # per related model on the page: stores and roles appear on the oldest page only).
    def reads(ctx):
        return [
            q["sql"].split(" FROM ")[1].split()[0]
            for q in ctx.captured_queries
            if "_historical" in q["sql"].split(" FROM ")[1].split()[0]
        ]

    assert reads(last) == reads(first)
    assert len(last.captured_queries) <= len(AUDITED) + 12


@pytest.mark.django_db
def test_the_page_links_to_older_and_newer_changes(client, org):
    _history(org)
    site = SiteSettings.load()
    site.crm_page_size = 5
    site.save()
    client.force_login(org["admin"])
    first = client.get(reverse("siteconfig:audit"), {"kind": "member"})
    html = first.content.decode()
    assert "较早的记录" in html and "较新的记录" not in html
    older = first.context["page"].older
    assert f"before={older}" in html and "kind=member" in html
    second = client.get(reverse("siteconfig:audit"), {"kind": "member", "before": older})
    html = second.content.decode()
    assert "较新的记录" in html and "最新" in html
    assert not set(_keys(first.context["page"].object_list)) & set(
        _keys(second.context["page"].object_list)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"before": "abc"},
        {"before": "1.2.999"},
        {"after": "-5"},
        {"after": "99999999999999999999999.1.1"},
        {"before": "1.-1.0"},
    ],
)
def test_a_hand_edited_cursor_shows_the_newest_page(client, org, params):
    _history(org)
    client.force_login(org["admin"])
    newest = client.get(reverse("siteconfig:audit"))
    response = client.get(reverse("siteconfig:audit"), params)
    assert response.status_code == 200
    assert _keys(response.context["page"].object_list) == _keys(newest.context["page"].object_list)
