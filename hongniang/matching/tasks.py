"""Periodic jobs of matching (declared with `jobs.periodic`, started by the worker)."""

from datetime import time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.jobs.periodic import periodic
from hongniang.jobs.services import job_task
from hongniang.matching import services


@periodic(name="stalled_pairs", title=gettext_lazy("Report stalled couples"), at=time(8, 0))
@job_task
def stalled_pairs(run):
    with run.commit():
        told = services.stalled_pairs_notify()
    return {"summary": _("%(count)s stalled couple(s) reported.") % {"count": told}}
