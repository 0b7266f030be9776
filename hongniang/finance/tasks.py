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
        told = services.renewal_reminders_notify()
    return {"summary": _("%(count)s contract(s) reminded of.") % {"count": told}}
