"""Background jobs of the members app: exports run outside requests, with progress."""

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.jobs.services import job_task
from hongniang.members import excel, selectors
from hongniang.members.forms import MemberFilterForm


def export_queryset(viewer, query: str):
    """The members an export of the list filtered by `query` (a query string) writes."""
    # The sorting lives with the list view; the export keeps the list's order.
    from hongniang.members.views import MEMBER_SORTING

    params = QueryDict(query)
    form = MemberFilterForm(params or None, viewer=viewer)
    filters = form.cleaned_data if form.is_valid() else {}
    return MEMBER_SORTING.apply(selectors.member_list(viewer=viewer, filters=filters), params)


@job_task
def export_members(run):
    viewer = run.job.created_by
    qs = export_queryset(viewer, run.params.get("query", ""))
    total = qs.count()
    run.progress(0, total, force=True)
    content = excel.export_workbook(
        qs, viewer, full=bool(run.params.get("full")), progress=lambda done: run.progress(done)
    )
    run.progress(total, total, force=True)
    run.attach(f"members-{timezone.localdate():%Y%m%d}.xlsx", content)
    return {"summary": _("%(count)s member(s) exported.") % {"count": total}, "count": total}
