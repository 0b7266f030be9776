"""Messages to many members run as a job: progress, a report, failed rows, never twice."""

import pytest
from django.core import mail
from django.urls import reverse

from hongniang.jobs.models import Job, JobKind, JobState
from hongniang.members.tests.helpers import add_member
from hongniang.messaging import services, tasks
from hongniang.messaging.models import Channel, Delivery, DeliveryReason, DeliveryStatus, OptOut
from hongniang.messaging.sms import LoggingSmsBackend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "hongniang.messaging.sms.LoggingSmsBackend"
    LoggingSmsBackend.outbox.clear()
    yield
    LoggingSmsBackend.outbox.clear()


@pytest.fixture
def five(org):
    return [
        add_member(org["aa1"], name=f"会员{i}", email=f"m{i}@example.com" if i else "")
        for i in range(5)
    ]


def start(actor, members, channel="sms", body="{name}，周末联谊会见！", subject="邀请"):
    from hongniang.members.models import Member

    qs = Member.objects.filter(pk__in=[m.pk for m in members])
    return services.bulk_start(actor=actor, channel=channel, subject=subject, body=body, members=qs)


def test_a_bulk_sms_sends_to_each_member_skips_opt_outs_and_reports(org, five):
    OptOut.objects.create(member=five[1], channel=Channel.SMS)
    job = start(org["aa1"], five)
    job.refresh_from_db()
    assert job.kind == JobKind.BULK_MESSAGE and job.state == JobState.SUCCEEDED
    assert job.done == job.total == 5 and job.percent == 100
    assert job.result["sent"] == 4 and job.result["skipped"] == 1
    assert job.result["opted_out"] == 1 and job.result["failed"] == 0
    assert "拒收" in job.result["summary"]
    assert sorted(text for _m, text in LoggingSmsBackend.outbox) == sorted(
        f"会员{i}，周末联谊会见！" for i in (0, 2, 3, 4)
    )
    skipped = Delivery.objects.get(job=job, member=five[1])
    assert skipped.status == DeliveryStatus.SKIPPED
    assert skipped.reason_code == DeliveryReason.OPTED_OUT
    assert five[0].events.filter(kind="message").count() == 1
    assert not five[1].events.filter(kind="message").exists()


def test_running_the_job_again_sends_nothing_twice(org, five):
    job = start(org["aa1"], five)
    assert len(LoggingSmsBackend.outbox) == 5
    # The task delivered again after its worker was lost: state back to queued.
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    tasks.bulk_message.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.result["sent"] == 5
    assert len(LoggingSmsBackend.outbox) == 5
    assert Delivery.objects.filter(job=job).count() == 5


def test_a_claim_left_by_a_killed_worker_is_not_sent_again(org, five):
    job = start(org["aa1"], five[:2])
    Delivery.objects.filter(job=job, member=five[1]).update(status=DeliveryStatus.PENDING)
    LoggingSmsBackend.outbox.clear()
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    tasks.bulk_message.call(str(job.pk))
    job.refresh_from_db()
    assert LoggingSmsBackend.outbox == []
    interrupted = Delivery.objects.get(job=job, member=five[1])
    assert interrupted.status == DeliveryStatus.FAILED
    assert interrupted.reason_code == DeliveryReason.INTERRUPTED
    assert job.result["failed"] == 1 and job.failed_rows_file


def test_failed_rows_are_downloadable_with_their_reasons(org, five, client):
    job = start(org["aa1"], five, channel="email")  # five[0] has no email address
    job.refresh_from_db()
    assert len(mail.outbox) == 4
    assert job.result["failed"] == 1 and job.failed_rows_file
    client.force_login(org["aa1"])
    response = client.get(reverse("jobs:file", args=[job.pk, "failed"]))
    assert response.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == five[0].pk and "会员0" in rows[1][1]
    assert rows[1][4] == "没有该方式的地址或号码"


def test_bulk_reaches_only_members_the_sender_may_see(org, five):
    theirs = add_member(org["bb1"], name="别队会员")
    job = start(org["aa1"], [*five[:2], theirs])
    job.refresh_from_db()
    assert job.total == 2 and job.result["sent"] == 2
    assert not Delivery.objects.filter(member=theirs).exists()
    assert "别队会员" not in job.title + str(job.result)
    with pytest.raises(services.ValidationError):
        start(org["aa1"], [theirs])


def test_bulk_is_capped_and_needs_the_edit_right(org, five, settings):
    settings.MESSAGING_BULK_MAX = 3
    with pytest.raises(services.ValidationError):
        start(org["aa1"], five)
    from hongniang.staff.tests.factories import StaffFactory, role_with

    viewer = StaffFactory(
        role=role_with("members.view"), store=org["store_a"], supervisor=org["aa1"]
    )
    with pytest.raises(services.PermissionDenied):
        start(viewer, five[:1])


def test_bulk_page_from_the_list_filter_and_from_ticked_members(org, five, client):
    client.force_login(org["aa1"])
    listing = client.get(reverse("members:list")).content.decode()
    assert 'id="message-form"' in listing and 'form="message-form"' in listing
    url = reverse("member_messages:bulk")
    page = client.get(url, {"query": "name=会员1"}).content.decode()
    assert "1 位会员" in page
    page = client.get(url, {"members": [five[0].pk, five[2].pk]}).content.decode()
    assert "2 位会员" in page
    response = client.post(
        url,
        {"members": [five[0].pk, five[2].pk], "channel": "internal", "body": "{name}好"},
    )
    job = Job.objects.get(kind=JobKind.BULK_MESSAGE)
    assert response.status_code == 302 and response["Location"] == reverse(
        "jobs:detail", args=[job.pk]
    )
    assert Delivery.objects.filter(job=job, status="sent").count() == 2
    detail = client.get(response["Location"]).content.decode()
    assert "已发送 2" in detail
