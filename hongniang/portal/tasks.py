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


@job_task
def open_accounts(run):
    """Open an account for each member of the job who has none and a mobile, and send them
    their one-time password by SMS (`accounts.open_many`, the import's option too)."""
    from hongniang.portal import accounts

    ids = run.params["member_ids"]
    run.progress(0, len(ids), force=True)
    counts = accounts.open_many(
        actor=run.job.created_by,
        member_ids=ids,
        site_url=run.params.get("site_url", ""),
        progress=lambda done, total: run.progress(done, total),
    )
    run.progress(len(ids), len(ids), force=True)
    return {"summary": accounts.open_accounts_summary(counts), **counts}
