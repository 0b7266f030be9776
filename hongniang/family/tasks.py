"""Background jobs of family profiles: drafts nobody confirmed are deleted."""

from datetime import time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.jobs.periodic import periodic
from hongniang.jobs.services import job_task


@periodic(
    name="family_expired_drafts",
    title=gettext_lazy("Delete family drafts whose invitation expired long ago"),
    at=time(4, 0),
)
@job_task
def expired_drafts(run):
    """Each pending draft whose last invitation expired more than the agency's N days ago
    (`SiteSettings.family_draft_days`) is deleted as a decline is, the relative told."""
    from hongniang.family import services

    run.progress(0, 0, force=True)
    deleted = services.purge_expired(progress=lambda done, total: run.progress(done, total))
    return {
        "summary": _("%(count)s unconfirmed family draft(s) deleted.") % {"count": deleted},
        "deleted": deleted,
    }
