"""Complaints about a member's service: recorded by after-sales staff against the matchmaker
serving the member, closed by a manager (after-sales approve) with what was done."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from hongniang.finance import services
from hongniang.finance.models import Complaint, ComplaintStatus
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import StaffFactory, role_with
from hongniang.staff.visibility import DataScope

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    service = role_with(
        "members.view", "members.add", "aftersales.view", "aftersales.add", name="售后红娘"
    )
    for key in ("aa1", "aa2", "bb1"):
        org[key].role = service
        org[key].save()
    org["boss"] = StaffFactory(
        username="boss",
        role=role_with(
            "members.view",
            "aftersales.view",
            "aftersales.approve",
            scope=DataScope.STORE,
            name="售后经理",
        ),
        store=org["store_a"],
        supervisor=org["admin"],
    )
    return org


def test_recorded_against_the_serving_matchmaker_and_closed_once(crew):
    member = add_member(crew["aa1"], name="投诉会员")
    today = timezone.localdate()
    complaint = services.complaint_record(
        actor=crew["aa1"], member=member, received_on=today, summary="约见安排太少"
    )
    assert (complaint.about, complaint.status, complaint.recorded_by) == (
        crew["aa1"],
        ComplaintStatus.OPEN,
        crew["aa1"],
    )
    with pytest.raises(PermissionDenied):  # recording is not closing
        services.complaint_close(actor=crew["aa1"], complaint=complaint, resolution="已道歉")
    with pytest.raises(ValidationError):
        services.complaint_close(actor=crew["boss"], complaint=complaint, resolution="  ")
    services.complaint_close(actor=crew["boss"], complaint=complaint, resolution="已道歉并加派介绍")
    stored = Complaint.objects.get(pk=complaint.pk)
    assert (stored.status, stored.closed_by, stored.resolution) == (
        ComplaintStatus.CLOSED,
        crew["boss"],
        "已道歉并加派介绍",
    )
    assert stored.history.count() == 2  # recorded, closed
    with pytest.raises(ValidationError):
        services.complaint_close(actor=crew["boss"], complaint=complaint, resolution="再次")


def test_refusals_leave_nothing_behind(crew):
    member = add_member(crew["aa1"])
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):  # another team's member
        services.complaint_record(actor=crew["bb1"], member=member, received_on=today, summary="x")
    with pytest.raises(ValidationError):
        services.complaint_record(
            actor=crew["aa1"], member=member, received_on=today + timedelta(days=1), summary="x"
        )
    with pytest.raises(ValidationError):
        services.complaint_record(actor=crew["aa1"], member=member, received_on=today, summary=" ")
    with pytest.raises(PermissionDenied):  # no after-sales right to add
        services.complaint_record(actor=crew["boss"], member=member, received_on=today, summary="x")
    assert not Complaint.objects.exists()


def test_pages_by_role(client, crew):
    member = add_member(crew["aa1"], name="投诉会员")
    today = timezone.localdate()
    client.force_login(crew["aa1"])
    answer = client.post(
        reverse("finance:complaint_new"),
        {"member": member.pk, "received_on": today.isoformat(), "summary": "红娘不回消息"},
    )
    complaint = Complaint.objects.get()
    assert answer.status_code == 302 and answer.url == reverse(
        "finance:complaint", args=[complaint.pk]
    )
    form = client.get(reverse("finance:complaint_new"), {"member": member.pk}).content.decode()
    assert f'value="{today.isoformat()}"' in form  # the date input reads YYYY-MM-DD
    # Another team's member, a future date: a message, nothing saved.
    client.force_login(crew["bb1"])
    refused = client.post(
        reverse("finance:complaint_new"),
        {"member": member.pk, "received_on": today.isoformat(), "summary": "x"},
    )
    assert refused.status_code == 200 and "UID" in refused.content.decode()
    assert client.get(reverse("finance:complaint", args=[complaint.pk])).status_code == 404
    assert "红娘不回消息" not in client.get(reverse("finance:complaints")).content.decode()
    client.force_login(crew["aa1"])
    future = client.post(
        reverse("finance:complaint_new"),
        {
            "member": member.pk,
            "received_on": (today + timedelta(days=2)).isoformat(),
            "summary": "x",
        },
    )
    assert future.status_code == 200 and Complaint.objects.count() == 1
    # The list and the page; the matchmaker may not close.
    listed = client.get(reverse("finance:complaints")).content.decode()
    assert f'data-complaint="{complaint.pk}"' in listed and "投诉会员" in listed
    url = reverse("finance:complaint", args=[complaint.pk])
    assert client.post(url, {"resolution": "自己结案"}).status_code == 403
    # The manager closes it.
    client.force_login(crew["boss"])
    assert client.post(url, {"resolution": "已电话回访"}).status_code == 302
    assert Complaint.objects.get().status == ComplaintStatus.CLOSED
    assert "已电话回访" in client.get(url).content.decode()
    assert client.post(url, {"resolution": "again"}).status_code == 403  # closed: no form
    # No after-sales right: 403 everywhere.
    outsider = StaffFactory(username="cash", role=role_with("finance.view", name="出纳"))
    client.force_login(outsider)
    for page in (reverse("finance:complaints"), reverse("finance:complaint_new"), url):
        assert client.get(page).status_code == 403, page


def test_recording_and_closing_are_on_the_members_timeline(client, crew):
    from hongniang.members.models import EventKind, MemberEvent

    member = add_member(crew["aa1"], name="时间线会员")
    complaint = services.complaint_record(
        actor=crew["aa1"], member=member, received_on=timezone.localdate(), summary="推荐太少"
    )
    with pytest.raises(ValidationError):  # a refused close writes nothing
        services.complaint_close(actor=crew["boss"], complaint=complaint, resolution="")
    services.complaint_close(actor=crew["boss"], complaint=complaint, resolution="已加派介绍")
    events = list(
        MemberEvent.objects.filter(member=member, kind=EventKind.COMPLAINT)
        .order_by("pk")
        .values_list("actor_id", "summary", "data")
    )
    assert events == [
        (crew["aa1"].pk, "登记投诉：推荐太少", {"complaint": complaint.pk, "status": "open"}),
        (
            crew["boss"].pk,
            "投诉已处理并关闭：已加派介绍",
            {"complaint": complaint.pk, "status": "closed"},
        ),
    ]
    client.force_login(crew["aa1"])
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "<strong>投诉</strong>: 登记投诉：推荐太少" in page
    assert "投诉已处理并关闭：已加派介绍" in page
