"""Excel import and export of members. The work is in ``members.excel``; these views parse the
request, keep track of uploads waiting for confirmation and render."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hongniang.jobs.models import JobKind
from hongniang.jobs.services import job_start
from hongniang.members import excel, tasks
from hongniang.staff.permissions import can, require_perm
from hongniang.staff.services import verify_security_password
from hongniang.workbench.forms import StyledFormMixin

# request.session[SESSION_KEY] = {token: {"owner": staff pk, "name": file name}}
SESSION_KEY = "member_imports"
MAX_PENDING = 10


class ImportUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + excel.XLSX_CONTENT_TYPE}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        excel.check_file(upload.name, upload.size)
        return upload


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _remember(request, token: str, name: str) -> None:
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {"owner": request.user.pk, "name": name[:200]}
    for old in list(pending)[:-MAX_PENDING]:
        pending.pop(old)
        excel.discard_upload(old)
    request.session[SESSION_KEY] = pending


def _forget(request, token: str) -> None:
    pending = request.session.get(SESSION_KEY, {})
    pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    excel.discard_upload(token)


@require_perm("members", "add")
def import_members(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    context = {"form": form, "max_rows": excel.MAX_ROWS, "max_mb": excel.MAX_FILE_MB}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token = excel.store_upload(upload)
        try:
            rows = excel.read_rows(excel.upload_path(token))
        except ValidationError as exc:
            excel.discard_upload(token)
            form.add_error("file", exc)
        else:
            _remember(request, token, upload.name)
            results = excel.validate_rows(rows, request.user)
            valid = [r for r in results if r.valid]
            context |= {
                "token": token,
                "file_name": upload.name,
                "ignored_columns": rows.ignored,
                "valid_count": len(valid),
                "invalid_count": len(results) - len(valid),
                "preview_rows": valid[: excel.PREVIEW_ROWS],
                "preview_limit": excel.PREVIEW_ROWS,
                "error_rows": [r for r in results if not r.valid],
            }
    return render(request, "members/import.html", context)


@require_perm("members", "add")
@require_POST
def import_confirm(request):
    token = request.POST.get("token", "")
    if not excel.TOKEN_RE.fullmatch(token):
        raise Http404
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not entry or entry.get("owner") != request.user.pk:
        raise Http404
    path = excel.upload_path(token)
    if not path.exists():
        _forget(request, token)
        messages.error(request, _("This upload has expired. Please upload the file again."))
        return redirect("members:import")
    try:
        # Read and check again: members may have been added since the preview.
        results = excel.validate_rows(excel.read_rows(path), request.user)
        created = excel.import_rows(results, request.user, file_name=entry.get("name", ""))
    except excel.ImportFailed as exc:
        context = {
            "form": ImportUploadForm(),
            "max_rows": excel.MAX_ROWS,
            "max_mb": excel.MAX_FILE_MB,
            "file_name": entry.get("name", ""),
            "failed_rows": exc.rows,
        }
        return render(request, "members/import.html", context)
    except (ValidationError, DatabaseError) as exc:
        detail = " ".join(exc.messages) if isinstance(exc, ValidationError) else ""
        messages.error(
            request,
            _("The import failed and no member was saved. %(detail)s") % {"detail": detail},
        )
        return redirect("members:import")
    finally:
        _forget(request, token)
    invalid = sum(not r.valid for r in results)
    text = _(
        "Imported %(created)s member(s); %(invalid)s row(s) had errors and were not imported."
    ) % {"created": created, "invalid": invalid}
    (messages.success if created else messages.warning)(request, text)
    return redirect("members:list")


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
