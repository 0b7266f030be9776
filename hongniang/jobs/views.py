from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from hongniang.jobs import selectors
from hongniang.jobs.models import JobKind, JobState
from hongniang.workbench.listing import KeyedPaginator, page_size


@login_required
def job_list(request):
    """Administrators: every job with its state, timing and error."""
    if not selectors.may_see_all_jobs(request.user):
        raise PermissionDenied
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "").strip()
    jobs = selectors.job_list(
        viewer=request.user,
        state=state if state in JobState.values else "",
        kind=kind if kind in JobKind.values else "",
        q=q,
    )
    page = KeyedPaginator(jobs, page_size()).get_page(request.GET.get("page"))
    return render(
        request,
        "jobs/job_list.html",
        {
            "page": page,
            "states": JobState.choices,
            "kinds": JobKind.choices,
            "state": state,
            "kind": kind,
            "q": q,
            "schedules": [] if request.GET.get("page") else selectors.periodic_schedules(),
        },
    )


@login_required
def job_detail(request, pk):
    job = get_object_or_404(selectors.jobs_visible_to(request.user), pk=pk)
    return render(request, "jobs/job_detail.html", {"job": job})


@login_required
def job_progress(request, pk):
    """The progress fragment the job page polls (htmx) until the job has finished."""
    job = get_object_or_404(selectors.jobs_visible_to(request.user), pk=pk)
    response = render(request, "jobs/_progress.html", {"job": job})
    if job.finished and request.htmx:
        # Reload the whole page once, so that the result and its downloads appear.
        response["HX-Refresh"] = "true"
    return response


@login_required
def job_file(request, pk, which):
    job = get_object_or_404(selectors.jobs_visible_to(request.user), pk=pk)
    field = {"result": job.result_file, "failed": job.failed_rows_file}.get(which)
    if not field:
        raise Http404
    name = job.result_file_name if which == "result" else f"{job.title}-failed-rows.xlsx"
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:  # removed from the disk since (cleaned up, restored backup)
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=name or field.name)
