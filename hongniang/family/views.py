"""Family profiles' pages: the public form (为子女/亲属登记), the relatives' centre (their drafts
and, when the child allows, the child's introductions, read-only), the child's invitation, and
the child's switch in the member centre."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hongniang.frontdesk import throttle
from hongniang.frontdesk.models import FrontDeskSettings
from hongniang.portal import services as portal_services
from hongniang.portal.views import member_required
from hongniang.workbench.forms import add_service_errors

from . import selectors, services
from .forms import (
    DraftForm,
    RelativeForm,
    RelativeLoginForm,
    ReviewForm,
    ReviewPreferenceForm,
)


def relative_required(view):
    """The relatives' centre's door: the relative logged in in this browser, else their login."""

    @wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        relative = services.current_relative(request)
        if relative is None:
            return redirect("family:login")
        request.relative = relative
        return view(request, *args, **kwargs)

    return wrapped


def _too_many(request, context):
    context["too_many"] = True
    return render(request, "family/register.html", context, status=429)


def register(request):
    """为子女/亲属登记: the relative's account and the child's profile in one form, with the
    registration form's limits (per address), honeypot and checks."""
    required = set(FrontDeskSettings.load().required_fields)
    data = request.POST if request.method == "POST" else None
    relative_form = RelativeForm(data)
    form = DraftForm(data, required=required)
    pref_form = ReviewPreferenceForm(data, required=required)
    context = {"relative_form": relative_form, "form": form, "pref_form": pref_form}
    if request.method != "POST":
        return render(request, "family/register.html", context)
    address = throttle.client_address(request)
    if throttle.hit(throttle.ATTEMPTS_PER_ADDRESS, address) or throttle.exceeded(
        throttle.REGISTER_PER_ADDRESS, address
    ):
        return _too_many(request, context)
    valid = relative_form.is_valid() & form.is_valid() & pref_form.is_valid()
    if valid and relative_form.cleaned_data["website"]:
        return redirect("family:thanks")  # a robot: thanked, nothing kept
    if valid:
        member = form.save(commit=False)
        personal = form.personal_data()
        try:
            services.relative_register(
                name=relative_form.cleaned_data["relative_name"],
                mobile=relative_form.cleaned_data["relative_mobile"],
                password=relative_form.cleaned_data["relative_password"],
                relationship=relative_form.cleaned_data["relationship"],
                member=member,
                preference=pref_form.save(commit=False),
                child_mobile=personal["mobile"],
                id_number=personal["id_number"],
                site_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            add_service_errors([form, pref_form, relative_form], exc)
        else:
            throttle.hit(throttle.REGISTER_PER_ADDRESS, address)
            return redirect("family:thanks")
    return render(request, "family/register.html", context)


def thanks(request):
    # The same answer whatever was on file: a relative's account, the child's mobile.
    return render(request, "family/thanks.html")


@never_cache
def login(request):
    if request.method != "POST" and services.current_relative(request) is not None:
        return redirect("family:centre")
    form = RelativeLoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            account = services.relative_authenticate(
                request, form.cleaned_data["mobile"], form.cleaned_data["password"]
            )
        except services.LoginLocked:
            form.add_error(None, _("Too many failed logins: please wait a while and try again."))
            status = 429
        else:
            if account is not None:
                services.relative_login(request, account)
                return redirect("family:centre")
            form.add_error(None, _("The mobile and the password do not match."))
    return render(request, "family/login.html", {"form": form}, status=status)


@require_POST
def logout(request):
    services.relative_logout(request)
    messages.success(request, _("You have logged out."))
    return redirect("family:login")


@relative_required
def centre(request):
    return render(
        request,
        "family/centre.html",
        {"rows": selectors.drafts_of(request.relative), "relative": request.relative},
    )


@relative_required
@require_POST
def resend(request, pk):
    try:
        services.invitation_resend(
            relative=request.relative, pk=pk, site_url=request.build_absolute_uri("/")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("A new invitation was sent; the previous link no longer works.")
        )
    return redirect("family:centre")


@relative_required
def introductions(request, pk):
    """The child's introductions, read-only, when the child allows it (404 otherwise)."""
    profile = selectors.shared_profile(request.relative, pk)
    return render(
        request,
        "family/introductions.html",
        {
            "profile": profile,
            "relative": request.relative,
            **selectors.introductions_of(profile.member),
        },
    )


# --- the child ---------------------------------------------------------------------------------


def _invalid(request):
    return render(request, "family/invitation_invalid.html", status=404)


@never_cache
def invitation(request, token):
    """The child's review: every drafted field, to correct; approve (with their own password) or
    decline. The token is spent by either answer."""
    profile = services.invitation_get(token)
    if profile is None:
        return _invalid(request)
    member = profile.member
    preference = selectors.preference_of(member)
    required = set(FrontDeskSettings.load().required_fields)
    approving = request.method == "POST" and request.POST.get("answer") == "approve"
    data = request.POST if approving else None
    form = ReviewForm(data, instance=member, required=required)
    pref_form = ReviewPreferenceForm(data, instance=preference, required=required)
    context = {"profile": profile, "form": form, "pref_form": pref_form, "member": member}
    if request.method != "POST":
        return render(request, "family/invitation.html", context)
    if request.POST.get("answer") == "decline":  # asked first: it cannot be undone
        return render(request, "family/decline_confirm.html", context)
    if request.POST.get("answer") == "decline_confirmed":
        try:
            services.decline(profile=profile)
        except ValidationError:
            return _invalid(request)
        return render(request, "family/declined.html")
    if approving and form.is_valid() & pref_form.is_valid():
        try:
            account = services.approve(
                profile=profile,
                member=form.save(commit=False),
                preference=pref_form.save(commit=False),
                password=form.cleaned_data["password"],
                **form.personal_data(),
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                return _invalid(request)
            add_service_errors([form, pref_form], exc)
        else:
            portal_services.login(request, account)
            messages.success(
                request,
                _("Welcome! Your profile is confirmed and your matchmaker will be in touch."),
            )
            return redirect("portal:home")
    return render(request, "family/invitation.html", context, status=200)


@member_required
def share(request):
    """The child's switch (member centre): let the relative see my introductions, or not."""
    session = request.member_session
    profile = selectors.approved_profile_of(session.member)
    if profile is None:
        raise Http404
    if request.method == "POST":
        if session.impersonating:
            messages.error(request, _("Only the member can change this."))
            return redirect("family:share")
        services.share_introductions(member=session.member, share=request.POST.get("share") == "1")
        messages.success(request, _("Saved."))
        return redirect("family:share")
    return render(request, "family/share.html", {"profile": profile, "nav": "family"})
