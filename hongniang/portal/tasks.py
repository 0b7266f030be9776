import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.jobs.periodic import periodic
from hongniang.jobs.services import job_task


@periodic(
    name="impersonation_expiry",
    title=gettext_lazy("End logins as a member whose staff session expired"),
    every=datetime.timedelta(hours=1),
)
@job_task
def impersonation_expiry(run):
    from hongniang.portal import services

    with run.commit():
        closed = services.close_expired_impersonations()
    return {
        "summary": _("%(count)s login(s) as a member ended.") % {"count": closed},
        "closed": closed,
    }
