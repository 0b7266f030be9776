import os
import socket
import subprocess
import sys

import pytest
from django.urls import reverse

from hongniang.jobs.models import Job, JobKind, JobState
from hongniang.jobs.services import job_start, requeue_lost_jobs
from hongniang.jobs.tests.sample_jobs import make_stores
from hongniang.staff.models import Store

pytestmark = pytest.mark.django_db


def start(user, **params):
    return job_start(
        actor=user, kind=JobKind.OTHER, title="建店任务", work_task=make_stores, params=params
    )


def test_a_job_runs_to_success_with_its_result(org):
    job = start(org["mgr1"], names=["甲店", "乙店"])
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"summary": "2 stores"}
    assert job.percent == 100 and job.attempts == 1 and job.finished_at
    assert set(Store.objects.filter(name__in=["甲店", "乙店"]).values_list("name", flat=True)) == {
        "甲店",
        "乙店",
    }


def test_a_failing_job_saves_nothing_and_says_why(org, client):
    before = Store.objects.count()
    job = start(org["mgr1"], names=["甲店", "乙店", "丙店"], fail_at=2)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "row 3 is bad" in job.error
    assert Store.objects.count() == before  # the two rows before the failure were rolled back
    client.force_login(org["mgr1"])
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "row 3 is bad" in page


def test_a_job_already_applied_is_not_applied_again(org):
    job = start(org["mgr1"], names=["甲店"])
    make_stores.call(str(job.pk))  # the task delivered a second time
    assert Store.objects.filter(name="甲店").count() == 1


def test_a_job_lost_with_its_worker_runs_again_once(org):
    job = start(org["mgr1"], names=["丁店"])
    Store.objects.filter(name="丁店").delete()  # as if the writes were rolled back by the kill
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, worker=f"{socket.gethostname()}:{dead.pid}"
    )
    assert [j.pk for j in requeue_lost_jobs()] == [job.pk]
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 2
    assert Store.objects.filter(name="丁店").count() == 1
    assert requeue_lost_jobs() == []


def test_a_running_job_of_a_live_worker_is_left_alone(org):
    job = start(org["mgr1"], names=["戊店"])
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, worker=f"{socket.gethostname()}:{os.getpid()}"
    )
    assert requeue_lost_jobs() == []


def test_job_pages_are_for_the_starter_and_administrators(org, client):
    job = start(org["mgr1"], names=["己店"])
    client.force_login(org["mgr2"])
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:progress", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:list")).status_code == 403
    client.force_login(org["mgr1"])
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 200
    client.force_login(org["admin"])
    listing = client.get(reverse("jobs:list"), {"state": "succeeded"})
    assert listing.status_code == 200 and "建店任务" in listing.content.decode()
    assert "建店任务" not in client.get(reverse("jobs:list"), {"state": "failed"}).content.decode()


def test_progress_fragment_polls_until_finished(org, client):
    job = start(org["mgr1"], names=["庚店"])
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, done=3, total=12)
    client.force_login(org["mgr1"])
    url = reverse("jobs:progress", args=[job.pk])
    running = client.get(url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in running.content.decode()
    assert 'value="25"' in running.content.decode()
    Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED)
    done = client.get(url, headers={"HX-Request": "true"})
    assert "every 1s" not in done.content.decode() and done["HX-Refresh"] == "true"


def test_redis_queue_is_selectable_by_settings(settings):
    from django_tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    assert type(task_backends["default"]).__name__ == "RQBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert type(task_backends["default"]).__name__ == "DatabaseBackend"
