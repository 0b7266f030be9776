"""Staff pages of the front desk: consultations, referral links (QR codes, posters), settings."""

import io

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongniang.members.forms import MemberForm, PreferenceForm
from hongniang.members.models import AllocationKind
from hongniang.members.selectors import assignees
from hongniang.staff.models import Staff
from hongniang.staff.permissions import can, require_perm
from hongniang.workbench.forms import add_service_errors
from hongniang.workbench.listing import paginate

from . import selectors, services
from .forms import AssignForm, ConsultationFilterForm, ConsultationUpdateForm, FrontDeskSettingsForm
from .models import FrontDeskSettings, ReferralCode, Registration


@require_perm("presales")
def consultation_list(request):
    form = ConsultationFilterForm(request.GET or None, viewer=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.consultation_list(
        viewer=request.user,
        q=filters.get("q", ""),
        status=filters.get("status", ""),
        assigned_to=filters.get("assigned_to"),
    )
    return render(
        request,
        "frontdesk/consultation_list.html",
        {"page": paginate(request, qs), "filter_form": form},
    )


def _consultation(request, pk):
    return get_object_or_404(
        selectors.consultations_visible(request.user).select_related("assigned_to", "member"),
        pk=pk,
    )


def _assignees(user):
    return assignees(viewer=user, kind=AllocationKind.PRESALES)


@require_perm("presales")
def consultation_detail(request, pk):
    consultation = _consultation(request, pk)
    update_form = ConsultationUpdateForm(
        request.POST or None,
        initial={"status": consultation.status, "result": consultation.result},
    )
    if request.method == "POST" and update_form.is_valid():
        try:
            services.consultation_update(
                actor=request.user, consultation=consultation, **update_form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(update_form, exc)
        else:
            messages.success(request, _("The consultation was saved."))
            return redirect("frontdesk:consultation", pk=pk)
    may_assign = can(request.user, "members", "allocate")
    # The matchmaker handling it calls the visitor: they see the number, others the mask.
    mine = consultation.assigned_to_id == request.user.pk
    return render(
        request,
        "frontdesk/consultation_detail.html",
        {
            "c": consultation,
            "mobile": services.consultation_mobile(consultation) if mine else None,
            "update_form": update_form,
            "may_edit": can(request.user, "presales", "edit"),
            "may_convert": can(request.user, "members", "add") and not consultation.member_id,
            "assign_form": AssignForm(assignees=_assignees(request.user)) if may_assign else None,
        },
    )


@require_perm("members", "allocate")
@require_POST
def consultation_assign(request, pk):
    consultation = _consultation(request, pk)
    form = AssignForm(request.POST, assignees=_assignees(request.user))
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("frontdesk:consultation", pk=pk)
    try:
        services.consultation_assign(
            actor=request.user, consultation=consultation, to=form.cleaned_data["to"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Assigned to %(name)s, who was notified.") % {"name": form.cleaned_data["to"].name},
        )
    return redirect("frontdesk:consultation", pk=pk)


@require_perm("members", "add")
def consultation_convert(request, pk):
    """The member form, filled in from the consultation; the member goes to the pool."""
    consultation = _consultation(request, pk)
    if consultation.member_id:
        messages.info(request, _("This consultation is already a member."))
        return redirect("frontdesk:consultation", pk=pk)
    initial = {"name": consultation.name, "mobile": services.consultation_mobile(consultation)}
    form = MemberForm(request.POST or None, viewer=request.user, initial=initial)
    pref_form = PreferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and pref_form.is_valid():
        try:
            services.consultation_convert(
                actor=request.user,
                consultation=consultation,
                member=form.save(commit=False),
                preference=pref_form.save(commit=False),
                **form.personal_data(),
            )
        except ValidationError as exc:
            add_service_errors([form, pref_form], exc)
        else:
            messages.success(
                request,
                _("%(name)s is now a member, waiting to be allocated.")
                % {"name": consultation.name},
            )
            return redirect("frontdesk:consultation", pk=pk)
    return render(
        request,
        "members/member_form.html",
        {"form": form, "pref_form": pref_form, "creating": True},
    )


# --- referral links ------------------------------------------------------------------------


def _join_url(request, code: str) -> str:
    path = reverse("frontdesk:join_with_code", args=[code])
    base = getattr(settings, "PUBLIC_SITE_URL", "")
    return f"{base.rstrip('/')}{path}" if base else request.build_absolute_uri(path)


def _visible_staff(request, staff_pk):
    if staff_pk is None:
        return request.user
    return get_object_or_404(Staff.objects.visible_to(request.user), pk=staff_pk)


@require_perm("members")
def my_link(request, staff_pk=None):
    staff = _visible_staff(request, staff_pk)
    code = services.referral_code_for(staff)
    credited = Registration.objects.filter(referrer=staff)
    month_start = timezone.localdate().replace(day=1)
    return render(
        request,
        "frontdesk/my_link.html",
        {
            "person": staff,
            "code": code,
            "url": _join_url(request, code.code),
            "total": credited.count(),
            "this_month": credited.filter(created_at__date__gte=month_start).count(),
        },
    )


@require_perm("members")
def qr_svg(request, code):
    """The QR code of a registration link, as SVG made here (no outside service)."""
    row = ReferralCode.objects.select_related("staff").filter(code=code).first()
    visible = Staff.objects.visible_to(request.user).filter(pk=getattr(row, "staff_id", None))
    if row is None or not visible.exists():
        raise Http404
    out = io.BytesIO()
    segno.make(_join_url(request, row.code), error="m").save(
        out, kind="svg", scale=10, border=2, xmldecl=False, title=_("Registration link")
    )
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_perm("members")
def poster(request, staff_pk=None):
    staff = _visible_staff(request, staff_pk)
    code = services.referral_code_for(staff)
    return render(
        request,
        "frontdesk/poster.html",
        {"person": staff, "code": code, "url": _join_url(request, code.code)},
    )


@require_perm("staff")
def referrals(request):
    """How many registrations each matchmaker's link brought, for the viewer's team."""
    page = paginate(request, selectors.referral_counts(viewer=request.user), "matchmaker")
    return render(request, "frontdesk/referrals.html", {"page": page})


# --- settings ------------------------------------------------------------------------------


@require_perm("settings", "edit")
def settings_edit(request):
    current = FrontDeskSettings.load()
    form = FrontDeskSettingsForm(
        request.POST or None,
        initial={
            "required_fields": current.required_fields,
            "default_store": current.default_store,
            "member_editable_fields": current.member_editable_fields,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.settings_update(actor=request.user, **form.cleaned_data)
        messages.success(request, _("The settings were saved."))
        return redirect("frontdesk:settings")
    return render(request, "frontdesk/settings.html", {"form": form})
