"""Administrators see who revealed or exported whose personal data, and when."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.members.models import RevealLog
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import StaffFactory, role_with

URL = reverse("siteconfig:personal_data")


@pytest.fixture
def logs(org):
    her = add_member(org["aa1"], name="小芳")
    him = add_member(org["aa1"], name="阿强")
    rows = [
        RevealLog.objects.create(member=her, field="mobile", staff=org["aa1"]),
        RevealLog.objects.create(member=her, field="id_number", staff=org["mgr1"]),
        RevealLog.objects.create(member=him, field="export", staff=org["mgr1"]),
    ]
    # One from long ago, for the date filter.
    old = RevealLog.objects.create(member=him, field="mobile", staff=org["aa1"])
    RevealLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    return {"her": her, "him": him, "rows": rows, "old": old}


def _shown(response):
    return [log.pk for log in response.context["page"].object_list]


@pytest.mark.django_db
def test_admin_sees_every_access_newest_first_with_labels(client, org, logs):
    client.force_login(org["admin"])
    response = client.get(URL)
    assert response.status_code == 200
    assert _shown(response) == [r.pk for r in reversed(logs["rows"])] + [logs["old"].pk]
    html = response.content.decode()
    assert "查看手机号" in html and "查看身份证号" in html and "完整导出" in html
    assert "小芳" in html and f"UID {logs['her'].pk}" in html


@pytest.mark.django_db
def test_filters_by_staff_member_kind_and_dates(client, org, logs):
    client.force_login(org["admin"])
    by_staff = client.get(URL, {"staff": org["mgr1"].pk})
    assert set(_shown(by_staff)) == {logs["rows"][1].pk, logs["rows"][2].pk}
    by_member = client.get(URL, {"member": logs["him"].pk})
    assert set(_shown(by_member)) == {logs["rows"][2].pk, logs["old"].pk}
    exports = client.get(URL, {"kind": "export"})
    assert _shown(exports) == [logs["rows"][2].pk]
    reveals = client.get(URL, {"kind": "reveal"})
    assert logs["rows"][2].pk not in _shown(reveals) and len(_shown(reveals)) == 3
    today = timezone.localdate()
    recent = client.get(URL, {"date_from": (today - timedelta(days=7)).isoformat()})
    assert logs["old"].pk not in _shown(recent) and len(_shown(recent)) == 3
    long_ago = client.get(URL, {"date_to": (today - timedelta(days=30)).isoformat()})
    assert _shown(long_ago) == [logs["old"].pk]


@pytest.mark.django_db
def test_bad_filter_input_is_a_message_not_a_500(client, org, logs):
    client.force_login(org["admin"])
    response = client.get(URL, {"member": "abc", "date_from": "2026-13-45", "kind": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert _shown(response) == []


@pytest.mark.django_db
def test_paginated(client, org, logs, settings):
    from hongniang.siteconfig.models import SiteSettings

    site = SiteSettings.load()
    site.crm_page_size = 5
    site.save()
    for _ in range(7):
        RevealLog.objects.create(member=logs["her"], field="mobile", staff=org["aa1"])
    client.force_login(org["admin"])
    first = client.get(URL)
    assert len(_shown(first)) == 5 and first.context["page"].paginator.count == 11
    last = client.get(URL, {"page": 3})
    assert len(_shown(last)) == 1


@pytest.mark.django_db
def test_only_administrators(client, org, logs):
    manager = StaffFactory(
        role=role_with("settings.view", "members.view", "members.reveal"), supervisor=org["admin"]
    )
    client.force_login(manager)
    assert client.get(URL).status_code == 403
    client.force_login(org["aa1"])
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
def test_sidebar_links_the_page_for_administrators_only(client, org):
    client.force_login(org["admin"])
    assert URL in client.get(reverse("home:index")).content.decode()
    manager = StaffFactory(role=role_with("settings.view"), supervisor=org["admin"])
    client.force_login(manager)
    assert URL not in client.get(reverse("home:index")).content.decode()
