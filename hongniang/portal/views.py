"""The member centre's pages (/m/) and the workbench's "log in as this member" action."""

import mimetypes
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hongniang.members.selectors import member_get
from hongniang.staff.forms import SecurityActionForm
from hongniang.workbench.forms import add_service_errors

from . import selectors, services
from .centre_selectors import completeness
from .forms import MemberLoginForm, MemberPasswordForm
from .models import ImpersonationEnd


def member_required(view=None, *, while_must_change: bool = False):
    """The member centre's door: the member this browser is logged in as (or a staff user
    browses as) in `request.member_session`, else the member login. A member who must change
    their password sees only that page."""

    def decorator(view):
        @wraps(view)
        @never_cache
        def wrapped(request, *args, **kwargs):
            session = services.current(request)
            if session is None:
                return redirect_to_login(request.get_full_path(), reverse("portal:login"))
            if (
                session.account.must_change_password
                and not session.impersonating
                and not while_must_change
            ):
                return redirect("portal:password")
            request.member_session = session
            return view(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    home = reverse("portal:home")
    # Only back into the member centre: a member has nothing to do on a workbench page.
    if target.startswith(home) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return home


@never_cache
def login(request):
    if request.method != "POST" and services.current(request) is not None:
        return redirect("portal:home")
    form = MemberLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.authenticate(
                request, form.cleaned_data["identifier"], form.cleaned_data["password"]
            )
        except services.LoginLocked as locked:
            return render(
                request,
                "portal/locked_out.html",
                {"minutes": locked.minutes, "until": locked.until},
                status=429,
            )
        except services.LoginRefused as refused:
            form.add_error(None, str(refused))
            account = None
        else:
            if account is None:
                # The same words whether the account exists or not.
                form.add_error(None, _("The mobile or username and the password do not match."))
        if account is not None:
            services.login(request, account)
            return redirect(_next_url(request))
    return render(request, "portal/login.html", {"form": form, "next": _next_url(request)})


@require_POST
def logout(request):
    """Leaves the member centre. A staff user browsing as a member goes back to the workbench."""
    ended = services.end_impersonation(request, ImpersonationEnd.RETURNED)
    if ended is not None:
        return redirect("members:detail", pk=ended.member_id)
    services.logout(request)
    messages.success(request, _("You have logged out."))
    return redirect("portal:login")


@member_required
def home(request):
    session = request.member_session
    member = selectors.member_for_home(session.member.pk)
    score, missing = completeness(member)
    return render(
        request,
        "portal/home.html",
        {
            "member": member,
            "mobile": member.mobile_masked,
            "profile": selectors.my_profile(member),
            "preferences": selectors.my_preferences(member),
            "matchmaker": selectors.my_matchmaker(member),
            "has_avatar": selectors.my_avatar(member) is not None,
            "score": score,
            "missing": missing,
            "nav": "home",
        },
    )


@member_required(while_must_change=True)
def password(request):
    session = request.member_session
    if session.impersonating:
        raise PermissionDenied  # staff never change a member's password from here
    form = MemberPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                session=session,
                request=request,
                current_password=form.cleaned_data["current_password"],
                new=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your password was changed."))
            return redirect("portal:home")
    return render(
        request,
        "portal/password.html",
        {"form": form, "must_change": session.account.must_change_password, "nav": "password"},
    )


@require_POST
def impersonation_end(request):
    """The banner's one click: back to the member's page in the workbench."""
    ended = services.end_impersonation(request, ImpersonationEnd.RETURNED)
    if ended is None:
        return redirect("home:index")
    return redirect("members:detail", pk=ended.member_id)


@require_POST
def impersonate(request, pk):
    """Staff: log in as this member (the security password comes from the modal)."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("members:detail", args=[pk]))
    if not services.may_impersonate(request.user):
        raise PermissionDenied
    member = member_get(viewer=request.user, pk=pk)  # 404 for a member outside one's view
    form = SecurityActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your security password to confirm."))
        return redirect("members:detail", pk=pk)
    try:
        services.start_impersonation(
            request=request,
            actor=request.user,
            member=member,
            security_password=form.cleaned_data["security_password"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("members:detail", pk=pk)
    return redirect("portal:home")


@member_required
def my_avatar(request):
    """The member's own avatar: their photos are served only to them and to their staff."""
    photo = selectors.my_avatar(request.member_session.member)
    if photo is None:
        raise Http404
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    return response
