"""Excel import and export of members. The work is in ``members.excel``; these views parse the
request, keep track of uploads waiting for confirmation and render."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hongniang.jobs.models import Job, JobKind, JobState
from hongniang.jobs.selectors import jobs_visible_to
from hongniang.jobs.services import job_start
from hongniang.members import excel, tasks
from hongniang.members.importing import options as import_options
from hongniang.members.importing import pipeline, sources
from hongniang.staff.permissions import can, require_perm
from hongniang.staff.services import verify_security_password
from hongniang.workbench.forms import StyledFormMixin

# request.session[SESSION_KEY] = {token: {"owner": staff pk, "name": file name,
#   "mapping": [field key or None per column] | None (None: the template's headers),
#   "sheet": sheet name | None, "preview": id of the preview job of that mapping | None}}
# The mapping screen stores the clerk's mapping under "mapping" and drops "preview".
SESSION_KEY = "member_imports"
MAX_PENDING = 10


class ImportUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Member file (.xlsx, .xls or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": sources.ACCEPT}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        sources.check_upload(upload.name, upload.size)
        return upload


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _remember(request, token: str, name: str) -> None:
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {"owner": request.user.pk, "name": name[:200], "mapping": None}
    for old in list(pending)[:-MAX_PENDING]:
        pending.pop(old)
        excel.discard_upload(old)
    request.session[SESSION_KEY] = pending


def _forget(request, token: str, *, discard: bool = True) -> None:
    pending = request.session.get(SESSION_KEY, {})
    pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if discard:
        excel.discard_upload(token)


def pending_upload(request, token: str) -> dict:
    """The session's record of the user's upload ``token``; 404 for anything else."""
    if not excel.TOKEN_RE.fullmatch(token or ""):
        raise Http404
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not entry or entry.get("owner") != request.user.pk:
        raise Http404
    return entry


def save_pending(request, token: str, entry: dict) -> None:
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = entry
    request.session[SESSION_KEY] = pending


def _preview_counts(result: dict) -> list[tuple]:
    c = result.get("counts", {})
    return [
        ("new", _("new members, ready to import"), "green", "user-plus", c.get("new", 0)),
        ("existing", _("match registered members"), "azure", "users", c.get("existing", 0)),
        ("rejected", _("rows rejected"), "red", "alert-triangle", c.get("rejected", 0)),
        ("warned", _("rows with warnings"), "yellow", "alert-circle", c.get("warned", 0)),
    ]


def _result_counts(result: dict) -> list[tuple]:
    extra = []
    for key, outcome in result.get("options", {}).items():
        option = import_options.get(key)
        if option is not None and option.count_label:
            extra.append((key, option.count_label, "purple", "key", outcome.get("count", 0)))
    return [
        ("created", _("members imported"), "green", "user-plus", result.get("created", 0)),
        *extra,
        ("updated", _("members updated"), "azure", "refresh", result.get("updated", 0)),
        (
            "skipped",
            _("skipped as registered"),
            "secondary",
            "player-skip-forward",
            result.get("skipped", 0),
        ),
        ("rejected", _("rows rejected"), "red", "alert-triangle", result.get("rejected", 0)),
        ("warned", _("rows with warnings"), "yellow", "alert-circle", result.get("warned", 0)),
    ]


@require_perm("members", "add")
def import_members(request):
    """Upload: the file is stored and opened (refused at once if unreadable); the clerk goes on
    to match its columns."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token = excel.store_upload(upload)
        try:
            source = pipeline.open_upload(excel.upload_path(token), file_name=upload.name)
        except ValidationError as exc:
            excel.discard_upload(token)
            form.add_error("file", exc)
        else:
            _remember(request, token, upload.name)
            # A file made from the template needs no matching: straight to the preview (it
            # links back to the mapping screen).
            if pipeline.is_template_file(source):
                return redirect("members:import_preview", token)
            return redirect("members:import_mapping", token)
    return render(
        request,
        "members/import.html",
        {"form": form, "max_rows": f"{excel.MAX_ROWS:,}", "max_mb": excel.MAX_FILE_MB},
    )


def _mapping(entry: dict, token: str) -> tuple[list[str | None], list[str]]:
    """The upload's mapping (the clerk's, else the guess) and its headers."""
    source = pipeline.open_upload(
        excel.upload_path(token), file_name=entry.get("name", ""), sheet=entry.get("sheet")
    )
    try:
        return entry.get("mapping") or pipeline.default_mapping(source), source.headers
    finally:
        source.close()


def _preview_job(request, token: str, entry: dict, mapping) -> Job:
    job = None
    if entry.get("preview"):
        job = Job.objects.filter(pk=entry["preview"], created_by=request.user).first()
    if (
        job is None
        or job.state == JobState.FAILED
        or job.params.get("mapping") != mapping
        or job.params.get("sheet") != entry.get("sheet")
    ):
        job = job_start(
            actor=request.user,
            kind=JobKind.MEMBER_IMPORT,
            title=_("Import check: %(file)s") % {"file": entry.get("name", "")},
            work_task=tasks.import_preview,
            params={
                "step": tasks.PREVIEW,
                "token": token,
                "file_name": entry.get("name", ""),
                "mapping": mapping,
                "sheet": entry.get("sheet"),
            },
        )
        entry["preview"] = str(job.pk)
        save_pending(request, token, entry)
    return job


@require_perm("members", "add")
def import_preview(request, token):
    """The dry run: what a confirm would do, row by row (a job with progress for big files)."""
    entry = pending_upload(request, token)
    if not excel.upload_path(token).exists():
        _forget(request, token)
        messages.error(request, _("This upload has expired. Please upload the file again."))
        return redirect("members:import")
    try:
        mapping, headers = _mapping(entry, token)
    except ValidationError as exc:
        _forget(request, token)
        messages.error(request, " ".join(exc.messages))
        return redirect("members:import")
    context = {"token": token, "file_name": entry.get("name", ""), "headers": headers}
    missing = pipeline.missing_required(mapping)
    if missing:
        context["missing"] = [str(excel.HEADERS[k]) for k in missing]
        return render(request, "members/import_preview.html", context)
    job = _preview_job(request, token, entry, mapping)
    job.refresh_from_db()
    context |= {
        "job": job,
        "ignored_columns": [h for h, k in zip(headers, mapping, strict=False) if h and not k],
        "may_update": can(request.user, "members", "edit"),
        "modes": pipeline.Mode,
        "counts": _preview_counts(job.result),
        "import_options": import_options.available(request.user),
    }
    return render(request, "members/import_preview.html", context)


def _chosen_options(request, token: str) -> list[str]:
    """The options ticked on the confirm step: each must be one the user may choose (403
    otherwise, as for updating without the right) and take this many new members."""
    chosen = []
    for key in dict.fromkeys(request.POST.getlist("options")):
        option = import_options.get(key)
        if option is None:
            continue
        if not option.allowed(request.user):
            raise PermissionDenied
        chosen.append(option)
    preview = Job.objects.filter(
        pk=pending_upload(request, token).get("preview"), created_by=request.user
    ).first()
    new = (preview.result.get("counts", {}).get("new", 0) if preview else 0) or 0
    for option in chosen:
        limit = option.limit()
        if limit is not None and new > limit:
            raise ValidationError(
                _("%(option)s: at most %(n)s members at once; import the file in parts.")
                % {"option": option.label, "n": limit}
            )
    return [o.key for o in chosen]


@require_perm("members", "add")
@require_POST
def import_confirm(request):
    """Start the import as a job. Updating existing members (a bulk change to records already
    there) needs the edit permission and the security password; adding new ones does not, as
    on the member form."""
    token = request.POST.get("token", "")
    entry = pending_upload(request, token)
    path = excel.upload_path(token)
    if not path.exists():
        _forget(request, token)
        messages.error(request, _("This upload has expired. Please upload the file again."))
        return redirect("members:import")
    mode = request.POST.get("mode", pipeline.Mode.SKIP)
    if mode not in pipeline.Mode.ALL:
        mode = pipeline.Mode.SKIP
    if mode == pipeline.Mode.UPDATE:
        if not can(request.user, "members", "edit"):
            raise PermissionDenied
        try:
            verify_security_password(request.user, request.POST.get("security_password", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("members:import_preview", token)
    try:
        chosen = _chosen_options(request, token)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("members:import_preview", token)
    mapping, _headers = _mapping(entry, token)
    job = job_start(
        actor=request.user,
        kind=JobKind.MEMBER_IMPORT,
        title=_("Member import: %(file)s") % {"file": entry.get("name", "")},
        work_task=tasks.import_confirm,
        params={
            "step": tasks.CONFIRM,
            "token": token,
            "file_name": entry.get("name", ""),
            "mapping": mapping,
            "sheet": entry.get("sheet"),
            "mode": mode,
            "options": chosen,
            "site_url": request.build_absolute_uri("/"),
        },
    )
    _forget(request, token, discard=False)  # the job removes the file once it has run
    if job.state == JobState.QUEUED and (ahead := tasks._import_ahead(job)):
        messages.info(request, tasks.import_waiting_message(ahead))
    return redirect("members:import_job", job.pk)


@require_perm("members", "add")
def import_job(request, pk):
    """An import's progress, then its result: counts, sample rows, the rows to fix."""
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=JobKind.MEMBER_IMPORT), pk=pk)
    context = {"job": job, "counts": _result_counts(job.result)}
    return render(request, "members/import_result.html", context)


@require_perm("members", "add")
def import_template(request):
    return _xlsx_response(excel.template_workbook(), "member-import-template.xlsx")


@require_perm("members", "export")
def export_members(request):
    """GET: how many members the filtered list would export, and a button to start.
    POST: start the export as a background job and show its progress. Mobiles and ID numbers
    stay masked; with the reveal permission and the security password they are written in full
    (mode "full"), each member's reveal logged."""
    if request.method != "POST":
        query = request.GET.urlencode()
        count = tasks.export_queryset(request.user, query).count()
        return render(request, "members/export_confirm.html", {"query": query, "count": count})
    query = request.POST.get("query", "")
    full = request.POST.get("mode") != "masked"
    if full:
        if not can(request.user, "members", "reveal"):
            raise PermissionDenied
        try:
            verify_security_password(request.user, request.POST.get("security_password", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(f"{reverse('members:list')}?{query}")
    job = job_start(
        actor=request.user,
        kind=JobKind.MEMBER_EXPORT,
        title=_("Member export (full)") if full else _("Member export"),
        work_task=tasks.export_members,
        params={"query": query, "full": full},
    )
    return redirect("jobs:detail", job.pk)
