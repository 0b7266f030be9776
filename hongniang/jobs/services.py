"""Starting, running and recovering background jobs.

A job's work is a plain function `work(run) -> dict | None` wrapped by `job_task`; `run` reports
progress and wraps the writes:

    @job_task
    def import_members(run):
        rows = parse(run.params["file"])            # progress: run.progress(i, total)
        with run.commit():                            # one transaction: the writes + "succeeded"
            save(rows)
        return {"saved": len(rows)}

Long work outside `commit()` keeps SQLite free for other users; the writes inside it either all
land together with the job's "succeeded" state or not at all, so a job run again after a killed
worker finds itself succeeded and does nothing, or starts over from a clean database.
"""

import contextlib
import logging
import os
import socket
import time
from datetime import timedelta
from functools import wraps

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks import task

from hongniang.jobs.models import Job, JobState

logger = logging.getLogger(__name__)

# How often a running job writes its progress (and heartbeat) at most.
PROGRESS_EVERY = 0.5
# A running job whose heartbeat is older than this is taken for lost (its worker died elsewhere).
STALE_AFTER = timedelta(minutes=10)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRun:
    """What a job's work function gets: its parameters, progress reporting and the commit."""

    def __init__(self, job: Job):
        self.job = job
        self.params = job.params
        self._last = 0.0
        self.committed = False
        self.result: dict = {}

    def progress(self, done: int, total: int | None = None, message: str = "", force=False):
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        fields = {"done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            fields["total"] = total
        if message:
            fields["message"] = message[:300]
        Job.objects.filter(pk=self.job.pk).update(**fields)

    def attach(self, name: str, content: bytes, *, failed_rows: bool = False):
        """Keep a file the job produced (stored under a random name, served by the job page)."""
        field = self.job.failed_rows_file if failed_rows else self.job.result_file
        field.save(
            f"{self.job.pk}-{'failed' if failed_rows else 'result'}",
            ContentFile(content),
            save=False,
        )
        if not failed_rows:
            self.job.result_file_name = name

    @contextlib.contextmanager
    def commit(self):
        """The job's writes and its "succeeded" state, in one transaction."""
        with transaction.atomic():
            yield
            self.committed = True
            _mark_succeeded(self.job, self.result)


def _mark_succeeded(job: Job, result: dict):
    job.state = JobState.SUCCEEDED
    job.result = result or {}
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "state",
            "result",
            "finished_at",
            "result_file",
            "result_file_name",
            "failed_rows_file",
        ]
    )


def run_job(job_id: str, work) -> str:
    """Run `work` for the job; the task wrapper of every job calls this."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("Background job %s no longer exists; nothing to run.", job_id)
        return "missing"
    if job.finished:
        # Already applied (the task was picked up again after a lost worker): never twice.
        return job.state
    now = timezone.now()
    job.state = JobState.RUNNING
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    job.attempts += 1
    job.worker = _worker_name()
    job.error = ""
    job.save(update_fields=["state", "started_at", "heartbeat_at", "attempts", "worker", "error"])
    run = JobRun(job)
    try:
        result = work(run)
        if result:
            run.result.update(result)
        if run.committed:
            # What the work returned after its commit (counts, a summary) joins the result.
            Job.objects.filter(pk=job.pk).update(result=run.result)
        else:
            with transaction.atomic():
                _mark_succeeded(job, run.result)
    except Exception as exc:
        logger.exception("Background job %s (%s) failed", job.pk, job.kind)
        Job.objects.filter(pk=job.pk).update(
            state=JobState.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        return JobState.FAILED
    return JobState.SUCCEEDED


def job_task(work):
    """Declare a job's work function as a Django task taking the job's id."""

    @wraps(work)
    def runner(job_id: str):
        return run_job(job_id, work)

    return task()(runner)


def job_start(*, actor, kind: str, title: str, work_task, params: dict | None = None) -> Job:
    """Create the job row and queue its task. The page then polls the job."""
    job = Job.objects.create(
        kind=kind,
        title=title[:200],
        created_by=actor,
        task_path=work_task.module_path,
        params=params or {},
    )
    _enqueue(job, work_task)
    job.refresh_from_db()
    return job


def _enqueue(job: Job, work_task):
    def send():
        result = work_task.enqueue(str(job.pk))
        Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id))

    # A database queue shares the transaction (the task appears together with its job row);
    # any other queue is told only after the job row is committed, so a worker can read it.
    if _queue_is_database(work_task):
        send()
    else:
        transaction.on_commit(send)


def _queue_is_database(work_task) -> bool:
    backend = work_task.get_backend()
    return type(backend).__module__.startswith(("django_tasks_db", "django_tasks.backends"))


def _alive_here(worker: str) -> bool | None:
    """For a job run on this host: is its worker process still alive? None for another host."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def requeue_lost_jobs(*, now=None) -> list[Job]:
    """Queue again the jobs whose worker died while running them (killed, machine restarted).

    A job counts as lost when its worker process on this host is gone, or, for another host,
    when its heartbeat is older than STALE_AFTER. Their writes were rolled back with the dead
    connection, so running them again cannot duplicate rows.
    """
    now = now or timezone.now()
    lost = []
    for job in Job.objects.filter(state=JobState.RUNNING):
        alive = _alive_here(job.worker)
        stale = job.heartbeat_at is None or now - job.heartbeat_at > STALE_AFTER
        if alive is False or (alive is None and stale):
            _forget_task_result(job.task_result_id)
            job.state = JobState.QUEUED
            job.message = _("Queued again after the worker stopped.")
            job.save(update_fields=["state", "message"])
            _enqueue(job, import_string(job.task_path))
            lost.append(job)
    return lost


def _forget_task_result(task_result_id: str):
    # The database backend would show the dead attempt as running for ever; close it.
    if not task_result_id:
        return
    with contextlib.suppress(ImportError, LookupError, ValueError, ValidationError):
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.filter(pk=task_result_id, status="RUNNING").update(
            status="FAILED",
            finished_at=timezone.now(),
            exception_class_path="hongniang.jobs.WorkerLost",
            traceback="The worker stopped while running this task.",
        )


def start_due_periodic_jobs(*, now=None, registry=None) -> list[Job]:
    """Start every periodic job that is due (see `jobs.periodic`); return the jobs started.

    Safe to call from several workers at once: each due run is claimed by moving its schedule
    row's next due time with a conditional update, and only the caller whose update matched
    starts the job.
    """
    from hongniang.jobs.models import JobKind, PeriodicSchedule
    from hongniang.jobs.periodic import registered

    now = now or timezone.now()
    started = []
    for entry in (registry if registry is not None else registered()).values():
        schedule, _created = PeriodicSchedule.objects.get_or_create(
            name=entry.name, defaults={"next_due_at": entry.first_due(now)}
        )
        if schedule.next_due_at > now:
            continue
        with transaction.atomic():
            claimed = PeriodicSchedule.objects.filter(
                name=entry.name, next_due_at=schedule.next_due_at
            ).update(next_due_at=entry.next_after(now))
            if not claimed:
                continue  # another worker took this run
            job = job_start(
                actor=None, kind=JobKind.NIGHTLY, title=str(entry.title), work_task=entry.work_task
            )
            PeriodicSchedule.objects.filter(name=entry.name).update(last_job=job)
        started.append(job)
    return started
