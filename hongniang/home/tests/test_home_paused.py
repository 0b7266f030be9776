"""A paused service whose expected return date has come is on the to-do list of whoever serves
the member (and their manager), until it is resumed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.finance.tests.signing import sign
from hongniang.home import selectors
from hongniang.members import journey
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    after = role_with(
        "members.view", "members.edit", "aftersales.view", "aftersales.add", "aftersales.edit"
    )
    manager = role_with("members.view", "members.allocate", "aftersales.view")
    for key in ("aa1", "bb1"):
        org[key].role = after
        org[key].save()
    for key in ("mgr1", "mgr2"):
        org[key].role = manager
        org[key].save()
    return org


def paused(crew, until):
    member = add_member(crew["admin"], name="暂停会员")
    sign(member)
    Member.objects.filter(pk=member.pk).update(aftersales_owner=crew["aa1"])
    member.refresh_from_db()
    journey.advance(actor=crew["aa1"], member=member, step="start_service")
    journey.advance(actor=crew["aa1"], member=member, step="pause", reason="出差", until=until)
    return member


def entry(viewer, now):
    return {e.key: e for e in selectors.todo_list(viewer=viewer, now=now)}.get("paused_due")


def test_a_paused_service_due_back_is_on_the_list_until_resumed(client, crew):
    back = timezone.localdate() + timedelta(days=2)
    member = paused(crew, back)
    on_the_day = timezone.now() + timedelta(days=2)
    assert entry(crew["aa1"], timezone.now()) is None  # not yet
    for viewer in (crew["aa1"], crew["mgr1"]):
        due = entry(viewer, on_the_day)
        assert due.count == 1
        label, url, detail = due.items[0]
        assert url == reverse("members:detail", args=[member.pk])
        assert back.isoformat() in detail
    for outsider in (crew["bb1"], crew["mgr2"]):  # another team
        assert entry(outsider, on_the_day) is None
    journey.advance(actor=crew["aa1"], member=member, step="resume")
    assert entry(crew["aa1"], on_the_day) is None


def test_the_home_page_shows_it(client, crew):
    member = paused(crew, timezone.localdate() + timedelta(days=1))
    Member.objects.filter(pk=member.pk).update(pause_until=timezone.localdate())
    client.force_login(crew["aa1"])
    page = client.get(reverse("home:index")).content.decode()
    assert 'data-todo="paused_due"' in page and "暂停服务到期待恢复" in page
    assert reverse("members:detail", args=[member.pk]) in page
