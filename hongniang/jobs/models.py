"""A background job (后台任务) as people see it: what runs, for whom, how far it is, how it ended.

The Django Tasks backend (django-tasks-db by default) queues and runs the work; this row is what
the pages poll. It also makes a job safe to run again: a task's writes and the row's "succeeded"
state commit in one transaction, so a worker killed half-way leaves nothing behind, and a job
that already succeeded is never applied twice when its task is picked up again.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    MEMBER_IMPORT = "member_import", _("Member import")
    MEMBER_EXPORT = "member_export", _("Member export")
    BULK_MESSAGE = "bulk_message", _("Bulk message")
    NIGHTLY = "nightly", _("Nightly job")
    ENGINE_SNAPSHOT = "engine_snapshot", _("Matching engine snapshot")
    OTHER = "other", _("Other")


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=JobKind.choices)
    title = models.CharField(_("title"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
    )
    # The task's parameters, kept here so that a job can be queued again after a killed worker.
    task_path = models.CharField(max_length=200, editable=False)
    params = models.JSONField(default=dict, editable=False)
    task_result_id = models.CharField(max_length=64, blank=True, editable=False, db_index=True)

    state = models.CharField(
        _("state"), max_length=16, choices=JobState.choices, default=JobState.QUEUED
    )
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    message = models.CharField(_("progress"), max_length=300, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # A file the job produced (an export, the failed rows of an import); served only through
    # the job's page, never under a public URL.
    result_file = models.FileField(upload_to="jobs/", blank=True, editable=False)
    result_file_name = models.CharField(max_length=200, blank=True, editable=False)
    failed_rows_file = models.FileField(upload_to="jobs/", blank=True, editable=False)

    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [models.Index(fields=["state", "created_at"], name="job_state_created")]

    def __str__(self):
        return self.title

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)

    @property
    def percent(self) -> int:
        if self.state == JobState.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class PeriodicSchedule(models.Model):
    """When a periodic job (see `jobs.periodic`) is due next, and its last run."""

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    next_due_at = models.DateTimeField(_("next run"))
    last_job = models.ForeignKey(
        Job, verbose_name=_("last run"), on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self):
        return self.name
