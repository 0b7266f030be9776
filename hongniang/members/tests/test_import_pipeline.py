"""The import pipeline: every problem of a row at once, required vs optional, duplicates and the
update option, bulk writing in one transaction, the rows to fix, and one import at a time."""

import io
import zipfile
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from hongniang.jobs.models import Job, JobKind, JobState
from hongniang.jobs.services import job_start, run_job
from hongniang.members import choices as c
from hongniang.members import excel, tasks
from hongniang.members.importing import pipeline, snapshot, writer
from hongniang.members.models import EventKind, Member
from hongniang.members.signals import members_bulk_changed
from hongniang.members.tests.test_import_export import (
    add_member,
    check,
    confirm,
    good_row,
    header,
    resident_id,
    upload,
    xlsx,
)

pytestmark = pytest.mark.django_db


def test_every_problem_of_a_row_is_reported_at_once(org, regions, tmp_path):
    """No rounds: the mobile and ID checks run although other cells are bad."""
    (row,) = check(
        xlsx(
            [good_row(1, sex="外星", mobile="12345", id_number="440106199001019999", weight="重")]
        ),
        org["aa1"],
        tmp_path,
    )
    assert {e.key for e in row.errors} == {"sex", "mobile"}  # required: the row is rejected
    assert {w.key for w in row.warnings} == {"id_number", "weight"}  # optional: left out
    mobile_error = next(e.message for e in row.errors if e.key == "mobile")
    assert "12345" in mobile_error  # the message quotes the value it refuses


def test_an_invalid_optional_cell_is_left_out_with_a_warning(client, org, regions):
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1, weight=500, monthly_income="很多", qq="0")]))
    job, _response = confirm(client, token)
    assert (job.result["created"], job.result["warned"]) == (1, 1)
    member = Member.objects.get()
    assert member.weight is None and member.monthly_income is None and member.qq == ""
    (warned,) = job.result["samples"]["warned"]
    assert {column for column, _m in warned["warnings"]} == {
        header("weight"),
        header("monthly_income"),
        header("qq"),
    }


def test_rows_to_fix_hold_the_original_cells_and_the_reasons_never_as_formulas(
    client, org, regions
):
    client.force_login(org["aa1"])
    token = upload(
        client,
        xlsx(
            [
                good_row(1),
                good_row(2, about="@SUM(A1)", wechat="-2+3", region="火星"),
                good_row(3, weight="abc"),
            ]
        ),
    )
    job = Job.objects.get(params__token=token)
    response = client.get(reverse("jobs:file", args=[job.pk, "failed"]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no cell is a formula
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    head = list(rows[0])
    assert head[-2:] == [_("Row in the file"), _("Problems")]
    by_row = {r[-2]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert set(by_row) == {3, 4}  # the rejected and the warned row; the good one is not there
    # The clerk's cells as they were, as text.
    assert (by_row[3][header("about")], by_row[3][header("wechat")]) == ("@SUM(A1)", "-2+3")
    assert by_row[3][header("region")] == "火星"
    assert header("region") in by_row[3][_("Problems")] and "火星" in by_row[3][_("Problems")]
    assert header("weight") in by_row[4][_("Problems")]


def test_a_row_matching_another_teams_member_is_refused_without_naming_them(client, org, regions):
    other = add_member(org["bb1"], "乙队会员", "13912340001")
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2)]))
    preview = client.get(reverse("members:import_preview", args=[token]))
    job = preview.context["job"]
    assert job.result["counts"]["existing"] == 0 and job.result["counts"]["rejected"] == 1
    assert "乙队会员" not in preview.content.decode()
    confirm(client, token, mode=pipeline.Mode.UPDATE, security_password="Secure-999")
    other.refresh_from_db()
    assert other.name == "乙队会员" and other.height == 175


def test_duplicates_by_id_number_are_named_and_may_update_own_members(client, org, regions):
    born = date(1990, 1, 1)
    own = add_member(org["aa1"], "旧名字", "13800138111")
    own.sex, own.birthday = c.Sex.FEMALE, born
    own.save()
    from hongniang.members import services

    services.apply_personal_data(own, mobile=None, id_number=resident_id(born, seq=1))
    own.save()
    client.force_login(org["aa1"])
    # Row 1 has the member's ID number (and a new mobile); row 2 is new.
    file = xlsx([good_row(1, name="新名字", height=170, weight=None), good_row(2)])
    token = upload(client, file)
    job = Job.objects.get(params__token=token)
    assert job.result["counts"] == {"new": 1, "existing": 1, "rejected": 0, "warned": 0}
    (existing,) = job.result["samples"]["existing"]
    assert existing["member"] == own.pk

    # Updating needs the security password.
    wrong = client.post(
        reverse("members:import_confirm"),
        {"token": token, "mode": pipeline.Mode.UPDATE, "security_password": "nope"},
    )
    assert wrong.status_code == 302 and wrong.url == reverse("members:import_preview", args=[token])
    assert Job.objects.filter(params__step=tasks.CONFIRM).count() == 0

    job, _r = confirm(client, token, mode=pipeline.Mode.UPDATE, security_password="Secure-999")
    assert (job.result["created"], job.result["updated"]) == (1, 1), job.result
    own.refresh_from_db()
    assert own.name == "新名字" and own.height == 170
    assert own.mobile_masked == "139****0001"
    assert own.username.startswith("u")  # an import never renames
    event = own.events.get(kind=EventKind.UPDATED)
    assert "name" in event.data["fields"] and "height" in event.data["fields"]
    assert own.history.count() >= 2


def test_skipping_registered_members_leaves_them_alone(client, org, regions):
    own = add_member(org["aa1"], "旧名字", "13912340001")
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2, name="新名字")]))
    job, _r = confirm(client, token)
    assert (job.result["created"], job.result["skipped"], job.result["updated"]) == (1, 1, 0)
    own.refresh_from_db()
    assert own.name == "旧名字"


def test_update_needs_the_edit_permission(client, org, regions):
    from hongniang.staff.tests.factories import StaffFactory, role_with

    clerk = StaffFactory(role=role_with("members.view", "members.add"), store=org["store_a"])
    client.force_login(clerk)
    token = upload(client, xlsx([good_row(1)]))
    response = client.post(
        reverse("members:import_confirm"),
        {"token": token, "mode": pipeline.Mode.UPDATE, "security_password": "Secure-999"},
    )
    assert response.status_code == 403


def test_the_engine_hears_of_the_batch_once(org, regions, tmp_path):
    calls = []

    def receiver(sender, member_ids, **kwargs):
        calls.append(list(member_ids))

    members_bulk_changed.connect(receiver, dispatch_uid="test-bulk")
    try:
        outcomes = check(xlsx([good_row(n) for n in range(1, 6)]), org["aa1"], tmp_path)
        result = writer.write(writer.prepare(outcomes, org["aa1"], mode="skip"), org["aa1"])
    finally:
        members_bulk_changed.disconnect(dispatch_uid="test-bulk")
    assert calls == [result.member_ids] and len(result.member_ids) == 5


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_rows(org, regions, tmp_path):
    small = xlsx([good_row(n) for n in range(1, 6)])
    large = xlsx([good_row(n, mobile=f"1391235{n:04d}") for n in range(1, 29)])
    checker_queries = []
    writer_queries = []
    for file in (small, large):
        outcomes = []
        checker_queries.append(
            _queries(lambda file=file, out=outcomes: out.extend(check(file, org["aa1"], tmp_path)))
        )
        prepared = writer.prepare(outcomes, org["aa1"], mode="skip")
        writer_queries.append(_queries(lambda p=prepared: writer.write(p, org["aa1"])))
        Member.objects.all().delete()
    assert checker_queries[0] == checker_queries[1], checker_queries
    assert writer_queries[0] == writer_queries[1], writer_queries


def test_a_job_run_again_after_a_failed_attempt_does_not_duplicate(
    client, org, regions, monkeypatch
):
    """A worker killed in the write: the transaction is rolled back with it, the job queued
    again and run once more; its members are there exactly once."""
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2)]))
    real = writer._PREFERENCES.insert
    state = {"fail": True}

    def dies_once(rows):
        if state.pop("fail", False):
            raise SystemError("worker killed")
        return real(rows)

    monkeypatch.setattr(writer._PREFERENCES, "insert", dies_once)
    job, _r = confirm(client, token)
    assert job.state == JobState.FAILED and Member.objects.count() == 0
    # The upload is still there (the job removes it only when it succeeds): run it again.
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    assert run_job(str(job.pk), tasks.import_confirm.func.__wrapped__) == JobState.SUCCEEDED
    assert Member.objects.count() == 2
    # Picked up once more (a lost worker's task): it has succeeded, so nothing is written.
    assert run_job(str(job.pk), tasks.import_confirm.func.__wrapped__) == JobState.SUCCEEDED
    assert Member.objects.count() == 2


def test_a_second_import_waits_for_the_one_before(client, org, regions, monkeypatch):
    ahead = Job.objects.create(
        kind=JobKind.MEMBER_IMPORT,
        title="大文件",
        created_by=org["aa2"],
        task_path="x",
        params={"step": tasks.CONFIRM},
        state=JobState.RUNNING,
        heartbeat_at=timezone.now(),
    )
    Job.objects.filter(pk=ahead.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    slept = []

    def sleep(seconds):
        # While this import waits, the one ahead finishes.
        job = Job.objects.exclude(pk=ahead.pk).get(params__step=tasks.CONFIRM)
        slept.append(job.message)
        Job.objects.filter(pk=ahead.pk).update(state=JobState.SUCCEEDED)

    monkeypatch.setattr(tasks.time, "sleep", sleep)
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1)]))
    job, _r = confirm(client, token)
    assert job.state == JobState.SUCCEEDED and Member.objects.count() == 1
    (message,) = slept
    ahead.refresh_from_db()
    assert message == tasks.import_waiting_message(ahead)
    assert org["aa2"].name in message


def test_the_waiting_message_is_shown_when_an_import_is_already_running(org, regions):
    ahead = Job.objects.create(
        kind=JobKind.MEMBER_IMPORT,
        title="大文件",
        created_by=org["aa2"],
        task_path="x",
        params={"step": tasks.CONFIRM},
        state=JobState.RUNNING,
        heartbeat_at=timezone.now(),
    )
    later = Job.objects.create(
        kind=JobKind.MEMBER_IMPORT,
        title="小文件",
        created_by=org["aa1"],
        task_path="x",
        params={"step": tasks.CONFIRM},
    )
    assert tasks._import_ahead(later) == ahead
    assert tasks._import_ahead(ahead) is None  # the earlier one never waits for a later one
    # A preview never blocks an import.
    Job.objects.filter(pk=ahead.pk).update(params={"step": tasks.PREVIEW})
    assert tasks._import_ahead(later) is None


def test_the_confirm_uses_the_rows_its_preview_checked(client, org, regions, monkeypatch):
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2)]))
    assert tasks.snapshot_path(token).exists()

    def unchecked(*args, **kwargs):
        raise AssertionError("the confirm checked the rows again")

    monkeypatch.setattr(pipeline.Checker, "check", unchecked)
    job, _r = confirm(client, token)
    assert job.state == JobState.SUCCEEDED, job.error
    assert Member.objects.count() == 2
    assert not tasks.snapshot_path(token).exists()


def test_a_tampered_snapshot_is_ignored_and_the_file_checked_again(client, org, regions):
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2)]))
    path = tasks.snapshot_path(token)
    content = bytearray(path.read_bytes())
    content[-5] ^= 1
    path.write_bytes(bytes(content))
    assert snapshot.load(path) is None
    job, _r = confirm(client, token)
    assert job.state == JobState.SUCCEEDED and Member.objects.count() == 2


def test_jobs_started_without_a_mapping_use_the_guessed_one(org, regions):
    """As the bench starts them: no mapping chosen, the preview's guess serves the confirm."""
    token = excel.store_upload(xlsx([good_row(1), good_row(2)]))
    params = {"token": token, "file_name": "x.xlsx", "mapping": None, "mode": "skip"}
    preview = job_start(
        actor=org["aa1"],
        kind=JobKind.MEMBER_IMPORT,
        title="preview",
        work_task=tasks.import_preview,
        params={**params, "step": tasks.PREVIEW},
    )
    assert preview.state == JobState.SUCCEEDED, preview.error
    confirmed = job_start(
        actor=org["aa1"],
        kind=JobKind.MEMBER_IMPORT,
        title="confirm",
        work_task=tasks.import_confirm,
        params={**params, "step": tasks.CONFIRM},
    )
    assert confirmed.state == JobState.SUCCEEDED, confirmed.error
    assert confirmed.result["created"] == 2 and Member.objects.count() == 2
