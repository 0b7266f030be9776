"""The public pages of the front desk (no login): consultation and registration, their live
checks and the region cascade. Each form is limited per address (and per mobile), has a honeypot
field and CSRF protection."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.models import Member
from hongniang.members.regions import children
from hongniang.members.validators import validate_username

from . import services, throttle
from .forms import ConsultationForm, RegistrationForm, RegistrationPreferenceForm
from .models import FrontDeskSettings


def _too_many(request, template: str, context: dict):
    context["too_many"] = True
    return render(request, template, context, status=429)


def consult(request):
    form = ConsultationForm(request.POST or None)
    if request.method != "POST":
        return render(request, "frontdesk/consult.html", {"form": form})
    address = throttle.client_address(request)
    if throttle.hit(throttle.ATTEMPTS_PER_ADDRESS, address) or throttle.exceeded(
        throttle.CONSULT_PER_ADDRESS, address
    ):
        return _too_many(request, "frontdesk/consult.html", {"form": form})
    if not form.is_valid():
        return render(request, "frontdesk/consult.html", {"form": form})
    if form.cleaned_data["website"]:
        return redirect("frontdesk:consult_thanks")  # a robot: thanked, nothing kept
    if throttle.hit(throttle.CONSULT_PER_MOBILE, form.cleaned_data["mobile"]):
        return _too_many(request, "frontdesk/consult.html", {"form": form})
    throttle.hit(throttle.CONSULT_PER_ADDRESS, address)
    services.consultation_submit(
        name=form.cleaned_data["name"],
        mobile=form.cleaned_data["mobile"],
        message=form.cleaned_data["message"],
        heard_from=form.cleaned_data["heard_from"],
    )
    return redirect("frontdesk:consult_thanks")


def consult_thanks(request):
    return render(request, "frontdesk/thanks.html", {"what": "consult"})


def join_with_code(request, code):
    """The address in a matchmaker's QR code: the registration form, credited to them."""
    return redirect(f"{reverse('frontdesk:join')}?{urlencode({'ref': code})}")


def join(request):
    required = set(FrontDeskSettings.load().required_fields)
    data = request.POST if request.method == "POST" else None
    form = RegistrationForm(data, required=required, initial={"ref": request.GET.get("ref", "")})
    pref_form = RegistrationPreferenceForm(data, required=required)
    code = (data or request.GET).get("ref", "")
    context = {"form": form, "pref_form": pref_form, "referrer": services.referrer_for(code)}
    if request.method != "POST":
        return render(request, "frontdesk/join.html", context)
    address = throttle.client_address(request)
    if throttle.hit(throttle.ATTEMPTS_PER_ADDRESS, address) or throttle.exceeded(
        throttle.REGISTER_PER_ADDRESS, address
    ):
        return _too_many(request, "frontdesk/join.html", context)
    valid = form.is_valid() & pref_form.is_valid()  # both, so every error shows at once
    if valid and form.cleaned_data["website"]:
        return redirect("frontdesk:join_thanks")
    if valid:
        personal = form.personal_data()
        try:
            services.register(
                member=form.save(commit=False),
                preference=pref_form.save(commit=False),
                password=form.cleaned_data["password"],
                referrer=context["referrer"],
                **personal,
            )
        except ValidationError as exc:
            _add_errors(form, pref_form, exc)
        else:
            throttle.hit(throttle.REGISTER_PER_ADDRESS, address)
            return redirect("frontdesk:join_thanks")
    return render(request, "frontdesk/join.html", context)


def _add_errors(form, pref_form, exc: ValidationError) -> None:
    from hongniang.workbench.forms import add_service_errors

    add_service_errors([form, pref_form], exc)


def join_thanks(request):
    return render(request, "frontdesk/thanks.html", {"what": "join"})


def _answer(ok: bool, message) -> HttpResponse:
    css = "text-success" if ok else "text-danger"
    return HttpResponse(format_html('<span class="{}">{}</span>', css, message))


def _limited(view):
    def wrapped(request):
        if throttle.hit(throttle.CHECKS_PER_ADDRESS, throttle.client_address(request)):
            response = _answer(False, _("Too many checks. Please wait a minute and try again."))
            response.status_code = 429
            return response
        return view(request)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return require_GET(wrapped)


@_limited
def check_username(request):
    username = request.GET.get("username", "").strip()
    try:
        validate_username(username)
    except ValidationError as exc:
        return _answer(False, exc.messages[0])
    if Member.objects.filter(username=username).exists():
        return _answer(False, _("This username is taken."))
    return _answer(True, _("This username is available."))


# The mobile and ID number checks look at the format only: whether a number is a member's is
# never said to an outsider (it would tell who is a client of the agency). A registration with a
# number on file is answered as any other (`services.register`).
@_limited
def check_mobile(request):
    try:
        pd.normalize_mobile(request.GET.get("mobile", ""))
    except ValidationError as exc:
        return _answer(False, exc.messages[0])
    return _answer(True, _("The mobile number looks right."))


@_limited
def check_id_number(request):
    if request.GET.get("id_type", c.IdType.RESIDENT_ID) != c.IdType.RESIDENT_ID:
        return HttpResponse("")
    try:
        pd.normalize_resident_id(request.GET.get("id_number", ""))
    except ValidationError as exc:
        return _answer(False, exc.messages[0])
    return _answer(True, _("The ID number looks right."))


@require_GET
@cache_control(public=True, max_age=3600)
def region_children(request):
    """The region cascade of the public form (the divisions of China are public data)."""
    parent = request.GET.get("parent", "").strip()
    return render(request, "members/_region_options.html", {"regions": children(parent)})
