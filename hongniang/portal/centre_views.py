"""The member centre's pages beyond the profile: recommendations and the engine's suggestions
with answers, requests to meet, appointments, messages, my service, editing the profile and
photos, and resetting a forgotten password by SMS."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hongniang.members.forms import PreferenceForm
from hongniang.members.models import MatePreference
from hongniang.workbench.forms import add_service_errors

from . import centre_selectors as selectors
from . import centre_services as services
from . import public_ids, reset
from .forms import (
    AnswerForm,
    FeedbackForm,
    IntroductionForm,
    MemberSelfForm,
    MessageForm,
    PhotoUploadForm,
    ResetForm,
    ResetRequestForm,
)
from .models import RevealKind
from .site_views import photo_response
from .views import member_required

RESET_IDENTIFIER_KEY = "portal.reset_identifier"


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- recommendations and suggestions ----------------------------------------------------------


@member_required
def recommendations(request):
    member = request.member_session.member
    ready = services.suggestions_ensure(member)
    return render(
        request,
        "portal/recommendations.html",
        {
            **selectors.recommendations_page(member),
            "engine_ready": ready,
            "asked": selectors.open_introduction_targets(member),
            "answer_form": AnswerForm(),
            "nav": "recommendations",
        },
    )


@member_required
def card(request, kind, ref):
    member = request.member_session.member
    shown, row = selectors.card_for(member, kind, ref)
    services.profile_viewed(
        session=request.member_session,
        other=row.candidate,
        recommendation=row if kind == "rec" else None,
    )
    return render(
        request,
        "portal/card.html",
        {
            "card": shown,
            "asked": selectors.open_introduction_targets(member),
            "answer_form": AnswerForm(),
            "intro_form": IntroductionForm(),
            "nav": "recommendations",
        },
    )


@member_required
@require_POST
def answer(request, kind, ref):
    member = request.member_session.member
    _shown, row = selectors.card_for(member, kind, ref)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("portal:recommendations")
    accepted = form.cleaned_data["answer"] == "yes"
    reasons = form.cleaned_data["reasons"]
    try:
        if kind == "rec":
            services.recommendation_answer(
                session=request.member_session,
                recommendation=row,
                accepted=accepted,
                reasons=reasons,
            )
        else:
            services.suggestion_answer(
                session=request.member_session, suggestion=row, accepted=accepted, reasons=reasons
            )
    except ValidationError as exc:
        _error(request, exc)
        return redirect("portal:recommendations")
    services.suggestions_ensure(member)  # the answered one is replaced by the next
    messages.success(
        request,
        _("Thank you: your matchmaker will be in touch.")
        if accepted
        else _("Thank you: we will suggest others."),
    )
    return redirect("portal:recommendations")


# --- double opt-in -----------------------------------------------------------------------------


@member_required
def pair(request, ref):
    """One double opt-in as this member sees it: the masked card to answer, the revealed card
    once both said yes (logged), or its state."""
    member = request.member_session.member
    found = selectors.pair_for(member, ref)
    shown = selectors.pair_card(member, found)
    if shown.revealed:
        services.reveal_logged(
            session=request.member_session, other_pk=shown._other_pk, kind=RevealKind.CARD
        )
    return render(
        request,
        "portal/pair.html",
        {"card": shown, "answer_form": AnswerForm(), "nav": "recommendations"},
    )


@member_required
@require_POST
def pair_answer(request, ref):
    member = request.member_session.member
    found = selectors.pair_for(member, ref)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("portal:pair", ref=ref)
    accepted = form.cleaned_data["answer"] == "yes"
    try:
        found = services.pair_answer(
            session=request.member_session,
            pair=found,
            accepted=accepted,
            reasons=form.cleaned_data["reasons"],
        )
    except ValidationError as exc:
        _error(request, exc)
        return redirect("portal:recommendations")
    if found.revealed:
        messages.success(
            request, _("You both said yes: your matchmakers will arrange a first date.")
        )
        return redirect("portal:pair", ref=ref)
    messages.success(
        request,
        _("Thank you: your matchmaker will be in touch.")
        if accepted
        else _("Thank you: we will suggest others."),
    )
    return redirect("portal:recommendations")


@member_required
@require_POST
def pair_withdraw(request, ref):
    member = request.member_session.member
    found = selectors.pair_for(member, ref)
    try:
        services.pair_withdraw(session=request.member_session, pair=found)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(
            request, _("Your yes was withdrawn: you no longer see each other's names.")
        )
    return redirect("portal:recommendations")


@member_required
def peer_photo(request, ref, photo):
    """Another member's photo: the approved avatar on a card addressed to this member (if the
    agency shows avatars), any approved photo once both said yes (logged). Anything else,
    not found."""
    member = request.member_session.member
    found, revealed = selectors.peer_photo(member, ref, photo)
    if revealed:
        services.reveal_logged(
            session=request.member_session,
            other_pk=found.member_id,
            kind=RevealKind.PHOTO,
            photo_id=found.pk,
        )
    return photo_response(found.image, cache="private, max-age=300")


# --- asking to meet ---------------------------------------------------------------------------


@member_required
@require_POST
def introduce(request, ref):
    """ "我要认识TA" from a card here (the member by their centre reference)."""
    return _introduce(request, selectors.peer_pk(request.member_session.member.pk, ref))


def _introduce(request, pk):
    target = services.introduction_target(pk)
    form = IntroductionForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    try:
        services.introduction_request(
            session=request.member_session, target=target, message=message
        )
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(
            request, _("Your matchmaker has your request and will arrange the introduction.")
        )
    return redirect("portal:introductions")


@member_required
@require_POST
def introduce_public(request, code):
    """ "我要认识TA" on the public site's member page, which names the member by public code."""
    pk = public_ids.decode("member", code)
    if pk is None:
        raise Http404
    return _introduce(request, pk)


@member_required
def introductions(request):
    member = request.member_session.member
    rows = selectors.my_introductions(member, reveal=True)
    services.reveals_logged(
        session=request.member_session,
        other_pks=[r.target_id for r, _other in rows if r.revealed],
        kind=RevealKind.NAME,
    )
    return render(request, "portal/introductions.html", {"rows": rows, "nav": "introductions"})


# --- appointments ------------------------------------------------------------------------------


@member_required
def appointments(request):
    member = request.member_session.member
    rows = selectors.my_appointments(member)
    services.reveals_logged(
        session=request.member_session,
        other_pks=[row["_other_pk"] for row in rows if row["revealed"]],
        kind=RevealKind.NAME,
    )
    return render(
        request,
        "portal/appointments.html",
        {
            "rows": rows,
            "form": FeedbackForm(),
            "nav": "appointments",
        },
    )


@member_required
@require_POST
def appointment_feedback(request, ref):
    member = request.member_session.member
    appointment = selectors.appointment_get(member, ref)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("portal:appointments")
    try:
        services.appointment_feedback(
            session=request.member_session,
            appointment=appointment,
            text=form.cleaned_data["feedback"],
        )
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Thank you for your feedback."))
    return redirect("portal:appointments")


# --- messages ----------------------------------------------------------------------------------


@member_required
def inbox(request):
    member = request.member_session.member
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_to_matchmaker(
                session=request.member_session, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect("portal:messages")
    rows = selectors.my_messages(member)
    services.messages_read(session=request.member_session, messages=rows)
    return render(
        request,
        "portal/messages.html",
        {
            "rows": rows,
            "form": form,
            "matchmaker": member.aftersales_owner or member.presales_owner,
            "nav": "messages",
        },
    )


# --- my service --------------------------------------------------------------------------------


@member_required
def service(request):
    member = request.member_session.member
    contract, plans, months = selectors.my_service(member)
    return render(
        request,
        "portal/service.html",
        {"contract": contract, "plans": plans, "months": months, "nav": "service"},
    )


# --- my profile and photos --------------------------------------------------------------------


@member_required
def profile_change(request):
    member = request.member_session.member
    fields, with_preferences = selectors.editable_fields()
    form = MemberSelfForm(request.POST or None, instance=member, editable=fields)
    pref_form = None
    if with_preferences:
        preference = MatePreference.objects.filter(member=member).first() or MatePreference(
            member=member
        )
        pref_form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST":
        valid = form.is_valid() and (pref_form is None or pref_form.is_valid())
        if valid:
            try:
                changed = services.profile_update(
                    session=request.member_session,
                    member=form.instance,
                    preference=pref_form.instance if pref_form is not None else None,
                )
            except ValidationError as exc:
                add_service_errors([f for f in (form, pref_form) if f is not None], exc)
            else:
                messages.success(
                    request,
                    _("Your profile was saved.") if changed else _("Nothing was changed."),
                )
                return redirect("portal:profile_change")
        messages.error(request, _("Please correct the marked fields."))
    score, missing = selectors.completeness(member)
    return render(
        request,
        "portal/profile_edit.html",
        {
            "form": form,
            "pref_form": pref_form,
            "score": score,
            "missing": missing,
            "site_hidden": member.site_hidden,
            "nav": "profile",
        },
    )


@member_required
@require_POST
def site_visibility(request):
    """The switch "hide my profile from the public site"."""
    hidden = request.POST.get("hidden") == "1"
    services.site_hidden_set(session=request.member_session, hidden=hidden)
    messages.success(
        request,
        _("Your profile is hidden from the public site.")
        if hidden
        else _("Your profile is shown on the public site."),
    )
    return redirect("portal:profile_change")


@member_required
def photos(request):
    member = request.member_session.member
    form = PhotoUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.photo_upload(session=request.member_session, image=form.cleaned_data["image"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The photo was uploaded and waits for review."))
            return redirect("portal:photos")
    return render(
        request,
        "portal/photos.html",
        {"form": form, "photos": selectors.my_photos(member), "nav": "profile"},
    )


# --- a forgotten password -----------------------------------------------------------------------


@never_cache
def reset_request(request):
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"].strip()
        try:
            reset.request_code(request, identifier)
        except reset.TooMany:
            return render(request, "portal/reset_wait.html", status=429)
        request.session[RESET_IDENTIFIER_KEY] = identifier
        # The same words whether or not there is such an account.
        messages.info(
            request,
            _(
                "If an account has this mobile or username, a code was sent to its mobile. "
                "It is valid for %(minutes)s minutes."
            )
            % {"minutes": reset.CODE_MINUTES},
        )
        return redirect("portal:reset_code")
    return render(request, "portal/reset_request.html", {"form": form})


@never_cache
def reset_code(request):
    form = ResetForm(
        request.POST or None,
        initial={"identifier": request.session.get(RESET_IDENTIFIER_KEY, "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            reset.reset_password(
                request,
                identifier=form.cleaned_data["identifier"],
                code=form.cleaned_data["code"],
                new=form.cleaned_data["new_password1"],
            )
        except reset.TooMany:
            return render(request, "portal/reset_wait.html", status=429)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session.pop(RESET_IDENTIFIER_KEY, None)
            messages.success(request, _("Your password was changed: log in with it."))
            return redirect("portal:login")
    return render(request, "portal/reset_code.html", {"form": form})
