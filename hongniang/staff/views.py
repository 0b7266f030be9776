from axes.helpers import get_cool_off
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongniang.staff import selectors, services
from hongniang.staff.forms import (
    RoleForm,
    SecurityActionForm,
    SecurityPasswordForm,
    StaffFilterForm,
    StaffForm,
    StoreForm,
    StyledPasswordChangeForm,
)
from hongniang.staff.models import Role, StaffStatus, Store
from hongniang.staff.permissions import Action, Module, can, require_perm
from hongniang.workbench.forms import add_service_errors
from hongniang.workbench.listing import Sorting, key_param, paginate

STAFF_SORTING = Sorting(
    {
        "name": "name",
        "username": "username",
        "created": "created_at",
        "order": "sort_order",
        "role": "role__name",
        "store": "store__name",
    },
    default="order",
)


ROLE_SORTING = Sorting({"name": "name", "users": "user_count", "id": "pk"}, default="id")
STORE_SORTING = Sorting(
    {"name": "name", "staff": "staff_count", "order": "sort_order"}, default="order"
)


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Django's LoginView puts the sites framework's "site" here, which would hide the
        # agency's settings (name, hotline) that the context processor provides as "site".
        context.pop("site", None)
        context.pop("site_name", None)
        return context


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lock-out answer (AXES_LOCKOUT_CALLABLE): says until when, and for how long.
    Axes has just recorded this very try, and a lock runs for the cool-off from the last try."""
    cool_off = get_cool_off(request)
    return render(
        request,
        "staff/locked_out.html",
        {
            "until": timezone.now() + cool_off,
            "minutes": max(1, round(cool_off.total_seconds() / 60)),
        },
        status=429,
    )


@require_perm("staff")
def staff_list(request):
    form = StaffFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = STAFF_SORTING.apply(selectors.staff_list(viewer=request.user, filters=filters), request)
    page = paginate(request, qs, "matchmaker")
    return render(
        request,
        "staff/staff_list.html",
        {
            "filter_form": form,
            "page": page,
            "default_sort": STAFF_SORTING.default,
        },
    )


@require_perm("staff")
def staff_detail(request, pk):
    staff = selectors.staff_get(viewer=request.user, pk=pk)
    team = (
        selectors.staff_list(viewer=request.user)
        .filter(path__startswith=staff.path)
        .exclude(pk=staff.pk)
        .select_related("role")[:50]
    )
    return render(
        request,
        "staff/staff_detail.html",
        {
            "staff": staff,
            "team": team,
            "may_manage": services.may_manage_staff(request.user, staff),
            "action_form": SecurityActionForm(),
        },
    )


@require_perm("staff", "add")
def staff_create(request):
    form = StaffForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        staff = form.save(commit=False)
        try:
            services.staff_create(
                actor=request.user,
                staff=staff,
                password=form.cleaned_data["password"],
                security_password=form.cleaned_data.get("security_password", ""),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Matchmaker %(name)s was added.") % {"name": staff.name})
            return redirect("staff:detail", pk=staff.pk)
    return render(request, "staff/staff_form.html", {"form": form, "creating": True})


@require_perm("staff", "edit")
def staff_edit(request, pk):
    staff = selectors.staff_get(viewer=request.user, pk=pk)
    if not services.may_manage_staff(request.user, staff):
        raise PermissionDenied
    form = StaffForm(
        request.POST or None, request.FILES or None, instance=staff, actor=request.user
    )
    if request.method == "POST" and form.is_valid():
        staff = form.save(commit=False)
        try:
            services.staff_update(
                actor=request.user,
                staff=staff,
                password=form.cleaned_data.get("password", ""),
                security_password=form.cleaned_data.get("security_password", ""),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("staff:detail", pk=staff.pk)
    return render(request, "staff/staff_form.html", {"form": form, "staff": staff})


@require_perm("staff", "edit")
@require_POST
def staff_set_status(request, pk):
    staff = selectors.staff_get(viewer=request.user, pk=pk)
    form = SecurityActionForm(request.POST)
    status = request.POST.get("status")
    if status not in StaffStatus.values or not form.is_valid():
        messages.error(request, _("Enter your security password to confirm."))
        return redirect("staff:detail", pk=pk)
    try:
        services.staff_set_status(
            actor=request.user,
            staff=staff,
            status=status,
            security_password=form.cleaned_data["security_password"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The account is now %(status)s.") % {"status": StaffStatus(status).label}
        )
    return redirect("staff:detail", pk=pk)


@require_perm("staff", "delete")
@require_POST
def staff_delete(request, pk):
    staff = selectors.staff_get(viewer=request.user, pk=pk)
    form = SecurityActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your security password to confirm."))
        return redirect("staff:detail", pk=pk)
    try:
        services.staff_delete(
            actor=request.user,
            staff=staff,
            security_password=form.cleaned_data["security_password"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:detail", pk=pk)
    messages.success(request, _("The account was deleted."))
    return redirect("staff:list")


@login_required
def account(request):
    """My account: change the login password and set the security password."""
    password_form = StyledPasswordChangeForm(request.user, prefix="pw")
    security_form = SecurityPasswordForm(user=request.user, prefix="sec")
    if request.method == "POST" and "pw-old_password" in request.POST:
        password_form = StyledPasswordChangeForm(request.user, request.POST, prefix="pw")
        if password_form.is_valid():
            user = password_form.save()
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password was changed."))
            return redirect("staff:account")
    elif request.method == "POST":
        security_form = SecurityPasswordForm(request.POST, user=request.user, prefix="sec")
        if security_form.is_valid():
            request.user.set_security_password(security_form.cleaned_data["security_password1"])
            request.user.save(update_fields=["security_password"])
            messages.success(request, _("Your security password was set."))
            return redirect("staff:account")
    return render(
        request,
        "staff/account.html",
        {
            "password_form": password_form,
            "security_form": security_form,
        },
    )


@require_perm("staff", "edit")
def role_list(request):
    qs = ROLE_SORTING.apply(selectors.role_list(q=request.GET.get("q", "").strip()), request)
    page = paginate(request, qs)
    for role in page.object_list:
        role.manageable = services.may_manage_role(request.user, role)
    return render(
        request,
        "staff/role_list.html",
        {"roles": page.object_list, "page": page, "default_sort": ROLE_SORTING.default},
    )


@require_perm("staff", "edit")
def role_edit(request, pk=None):
    role = get_object_or_404(Role, pk=pk) if pk else Role()
    allowed = services.may_manage_role(request.user, role) and (
        pk or can(request.user, Module.STAFF, Action.ADD)
    )
    if not allowed:
        raise PermissionDenied
    form = RoleForm(request.POST or None, instance=role, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.role_save(actor=request.user, role=form.save(commit=False))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Role %(name)s was saved.") % {"name": role.name})
            return redirect("staff:roles")
    return render(
        request,
        "staff/role_form.html",
        {
            "form": form,
            "role": role,
            "actions": Action.choices,
        },
    )


@require_perm("staff", "delete")
@require_POST
def role_delete(request, pk):
    role = get_object_or_404(Role, pk=pk)
    try:
        services.role_delete(actor=request.user, role=role)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The role was deleted."))
    return redirect("staff:roles")


@require_perm("staff")
def store_list(request):
    qs = STORE_SORTING.apply(selectors.store_list(q=request.GET.get("q", "").strip()), request)
    page = paginate(request, qs)
    for store in page.object_list:
        store.editable = services.may_edit_store(request.user, store)
    return render(
        request,
        "staff/store_list.html",
        {
            "stores": page.object_list,
            "page": page,
            "default_sort": STORE_SORTING.default,
            "may_add": services.may_create_or_delete_stores(request.user, Action.ADD),
            "may_delete": services.may_create_or_delete_stores(request.user, Action.DELETE),
        },
    )


@require_perm("staff", "edit")
def store_edit(request, pk=None):
    store = get_object_or_404(Store, pk=pk) if pk else Store()
    if pk:
        allowed = services.may_edit_store(request.user, store)
    else:
        allowed = services.may_create_or_delete_stores(request.user, Action.ADD)
    if not allowed:
        raise PermissionDenied
    form = StoreForm(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_save(actor=request.user, store=form.save(commit=False))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The store was saved."))
            return redirect("staff:stores")
    return render(request, "staff/store_form.html", {"form": form, "store": store})


@require_perm("staff", "delete")
@require_POST
def store_delete(request, pk):
    store = get_object_or_404(Store, pk=pk)
    try:
        services.store_delete(actor=request.user, store=store)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The store was deleted."))
    return redirect("staff:stores")


@require_perm("staff", "edit")
def lockouts(request):
    if not services.may_see_lockouts(request.user):
        raise PermissionDenied
    return render(
        request,
        "staff/lockouts.html",
        {
            "login_lockouts": selectors.login_lockouts(),
            "security_lockouts": selectors.security_lockouts(),
        },
    )


@require_perm("staff", "edit")
@require_POST
def lockout_clear(request):
    raw_pk = request.POST.get("pk", "")
    try:
        release = services.lockout_clear(
            actor=request.user,
            kind=request.POST.get("kind", ""),
            pk=key_param(raw_pk),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The lock on %(username)s was lifted.") % {"username": release.username}
        )
    return redirect("staff:lockouts")
