from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongniang.members.presenter import present_many
from hongniang.siteconfig import services
from hongniang.siteconfig.audit import AUDITED, Cursor, audit_page, describe
from hongniang.siteconfig.forms import PersonalDataFilterForm, SiteImageForm, SiteSettingsForm
from hongniang.siteconfig.models import SiteImage, SiteSettings
from hongniang.siteconfig.selectors import ACCESS_LABELS, personal_data_access
from hongniang.staff.models import Staff
from hongniang.staff.permissions import can, require_perm
from hongniang.staff.visibility import DataScope, user_scope
from hongniang.workbench.listing import key_param, page_size


@require_perm("settings")
def settings_edit(request):
    obj = SiteSettings.load()
    obj.refresh_from_db()
    may_edit = can(request.user, "settings", "edit")
    form = SiteSettingsForm(request.POST or None, request.FILES or None, instance=obj)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and may_edit and form.is_valid():
        try:
            services.settings_update(actor=request.user, settings_obj=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The settings were saved."))
            return redirect("siteconfig:edit")
    return render(request, "siteconfig/settings_form.html", {"form": form, "may_edit": may_edit})


@require_perm("settings")
def image_list(request):
    images = SiteImage.objects.all()
    return render(request, "siteconfig/image_list.html", {"images": images})


@require_perm("settings", "edit")
def image_edit(request, pk=None):
    image = get_object_or_404(SiteImage, pk=pk) if pk else SiteImage()
    form = SiteImageForm(request.POST or None, request.FILES or None, instance=image)
    if request.method == "POST" and form.is_valid():
        services.site_image_save(actor=request.user, image=form.save(commit=False))
        messages.success(request, _("The image was saved."))
        return redirect("siteconfig:images")
    return render(request, "siteconfig/image_form.html", {"form": form, "image": image})


@require_perm("settings", "edit")
@require_POST
def image_delete(request, pk):
    image = get_object_or_404(SiteImage, pk=pk)
    services.site_image_delete(actor=request.user, image=image)
    messages.success(request, _("The image was deleted."))
    return redirect("siteconfig:images")


def administrators_only(view):
    """Settings access plus the data scope "all": pages that show every member's personal data
    (the audit trail, the personal-data access log) are for administrators only."""

    @require_perm("settings")
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if user_scope(request.user) != DataScope.ALL:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@administrators_only
def audit_log(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in AUDITED else ""
    actor_id = key_param(request.GET.get("actor"))
    # A page at a time from a cursor (`before`/`after` the version at a page's edge): each
    # page reads the same few rows whatever its depth.
    page = audit_page(
        kind=kind,
        actor_id=actor_id,
        size=page_size(),
        before=Cursor.parse(request.GET.get("before")),
        after=Cursor.parse(request.GET.get("after")),
    )
    describe(page.object_list, request.user)
    return render(
        request,
        "siteconfig/audit_log.html",
        {
            "page": page,
            "kinds": [(k, _label(k)) for k in AUDITED],
            "kind": kind,
            "actors": Staff.objects.visible_to(request.user).only("pk", "name", "username"),
            "actor_id": actor_id,
        },
    )


@administrators_only
def personal_data(request):
    form = PersonalDataFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        logs = personal_data_access().none()  # say what is wrong; show nothing half-filtered
    else:
        filters = form.cleaned_data if form.is_bound else {}
        logs = personal_data_access(
            staff=filters.get("staff"),
            member_id=filters.get("member"),
            kind=filters.get("kind", ""),
            date_from=filters.get("date_from"),
            date_to=filters.get("date_to"),
        )
    page = Paginator(logs, page_size()).get_page(request.GET.get("page"))
    members = present_many(request.user, [log.member for log in page.object_list])
    rows = [
        {"log": log, "member": member, "what": ACCESS_LABELS.get(log.field, log.field)}
        for log, member in zip(page.object_list, members, strict=True)
    ]
    return render(
        request, "siteconfig/personal_data.html", {"form": form, "page": page, "rows": rows}
    )


def _label(kind: str) -> str:
    from django.apps import apps

    return apps.get_model(AUDITED[kind])._meta.verbose_name
