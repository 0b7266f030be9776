"""Background jobs of the finance app: the daily renewal reminders."""

from datetime import time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.finance import services
from hongniang.jobs.periodic import periodic
from hongniang.jobs.services import job_task


@periodic(
    name="renewal_reminders", title=gettext_lazy("Remind of contracts to renew"), at=time(8, 30)
)
@job_task
def renewal_reminders(run):
    with run.commit():
        told = services.renewal_reminders_notify(since=_last_run_day(run))
    return {"summary": _("%(count)s contract(s) reminded of.") % {"count": told}}


def _last_run_day(run):
    """The local day of this job's last successful run (None: its first run)."""
    from django.utils import timezone

    from hongniang.jobs.models import Job, JobState

    last = (
        Job.objects.filter(task_path=run.job.task_path, state=JobState.SUCCEEDED)
        .exclude(pk=run.job.pk)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return timezone.localdate(last) if last else None
