from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongniang.matching import engine as eng
from hongniang.matching import index, optin, selectors, services
from hongniang.matching.forms import (
    AnswerForm,
    AppointmentForm,
    AppointmentUpdateForm,
    BoostForm,
    CandidateFilterForm,
    IntroductionCloseForm,
    IntroductionForm,
    LibraryFilterForm,
    RecommendForm,
)
from hongniang.matching.models import (
    Appointment,
    AppointmentStatus,
    Boost,
    IntroductionStatus,
    Recommendation,
)
from hongniang.members.models import Member
from hongniang.members.presenter import member_label
from hongniang.members.regions import region_labels
from hongniang.staff.permissions import can, require_perm
from hongniang.workbench.forms import add_service_errors
from hongniang.workbench.listing import key_param, paginate


def _errors(request, exc: ValidationError):
    messages.error(request, " ".join(exc.messages))


def _engine_header(response):
    """Say where the engine that answered came from (a snapshot, and at which log position)."""
    response["X-Matching-Engine"] = index.engine_source()
    return response


def _or(value, fallback):
    return fallback if value is None else value


@require_perm("settings")
def learned_model(request):
    """Administrators see the weights the learning step found and whether they are used."""
    runs, in_use = selectors.learned_models()
    default = eng.Model()
    labels = (
        ("intercept", _("Base (nothing asked for is met)")),
        ("fit", _("Stated-preference fit")),
        ("appeal", _("Appeal (how often others say yes)")),
        ("selectivity", _("Openness (how often they say yes)")),
        ("collaborative", _("Collaborative signal")),
        ("declined", _("Has what they declined people for (reasons given)")),
        ("liked", _("Resembles the people they said yes to")),
        ("rate_prior", _("Rates' prior: pseudo-answers at the agency's average")),
    )
    # a model without its own prior uses the engine's
    prior = eng.EngineConfig().rate_prior
    weights = [
        (
            label,
            _or(getattr(in_use or default, name), prior),
            _or(getattr(default, name), prior),
        )
        for name, label in labels
    ]
    return render(
        request,
        "matching/learned_model.html",
        {"runs": runs, "in_use": in_use, "weights": weights},
    )


@require_perm("matching")
def library_index(request):
    form = LibraryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(
        request, selectors.library_members(viewer=request.user, filters=filters), "member"
    )
    try:
        index.get_engine(sync=False)  # loads the snapshot, or says it is being prepared
        unusable, engine_job = selectors.engine_unusable(viewer=request.user), None
    except index.EngineNotReady as exc:
        unusable, engine_job = [], exc.job
    response = render(
        request,
        "matching/library_index.html",
        {
            "page": page,
            "filter_form": form,
            "engine_unusable": unusable,
            "engine_preparing": engine_job is not None,
            "engine_job": engine_job,
        },
    )
    return _engine_header(response)


@require_perm("matching")
def library(request, pk):
    member = selectors.member_for_matching(viewer=request.user, pk=pk)
    filter_form = CandidateFilterForm(request.GET or None)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    engine_job = engine_problem = None
    try:
        candidates = selectors.match_candidates(
            viewer=request.user, member=member, k=30, filters=filters
        )
        engine_problem = selectors.engine_problem(member)
    except index.EngineNotReady as exc:
        # Never build the engine in a request: say it is being prepared, with progress.
        candidates, engine_job = [], exc.job
    services.record_shown(member, [c.member.pk for c in candidates])
    labels = region_labels({c.member.region for c in candidates if c.member.region})
    for cand in candidates:
        cand.region_label = labels.get(cand.member.region, "")
    response = render(
        request,
        "matching/library.html",
        {
            "member": member,
            "candidates": candidates,
            "filter_form": filter_form,
            "recommendations": selectors.recommendations_for(viewer=request.user, member=member),
            "recommended_as": selectors.recommended_to_others(viewer=request.user, member=member),
            "recommend_form": RecommendForm(),
            "answer_form": AnswerForm(),
            "boost_form": BoostForm(),
            "may_recommend": can(request.user, "matching", "add"),
            "may_answer": can(request.user, "matching", "edit"),
            "matchable": candidates or member.birthday,
            "engine_problem": engine_problem,
            "offered": candidates or selectors.offered(member),
            "engine_preparing": engine_job is not None,
            "engine_job": engine_job,
        },
    )
    return _engine_header(response)


@require_perm("matching")
def engine_status(request):
    """The "being prepared" progress the library pages poll (htmx); once a snapshot exists,
    the page reloads itself with the matches."""
    ready = index.latest_snapshot() is not None
    response = render(request, "matching/_engine_preparing.html", {"engine_job": index.build_job()})
    if ready and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@require_perm("matching", "add")
@require_POST
def recommend(request, pk, candidate_pk):
    member = selectors.member_for_matching(viewer=request.user, pk=pk)
    candidate = selectors.candidate_for(viewer=request.user, member=member, pk=candidate_pk)
    form = RecommendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write why you recommend this person."))
        return redirect("matching:library", pk=pk)
    try:
        services.recommend(
            actor=request.user,
            member=member,
            candidate=candidate,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request,
            _("%(name)s was recommended.") % {"name": member_label(request.user, candidate)},
        )
    return redirect("matching:library", pk=pk)


@require_perm("matching", "edit")
@require_POST
def answer(request, rec_pk):
    visible = Member.objects.visible_to(request.user).values("pk")
    rec = get_object_or_404(Recommendation.objects.filter(member__in=visible), pk=rec_pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.recommendation_answer(
                actor=request.user,
                recommendation=rec,
                accepted=form.cleaned_data["accepted"],
                reasons=form.cleaned_data["reasons"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(
                request, _("The answer was saved; the next matches take it into account.")
            )
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("matching:library", pk=rec.member_id)


@require_perm("matching", "edit")
@require_POST
def boost(request, pk, candidate_pk):
    member = selectors.member_for_matching(viewer=request.user, pk=pk)
    if request.POST.get("remove"):
        # Removing works on an existing boost even if the candidate left matching since.
        boost = get_object_or_404(Boost, member=member, candidate_id=candidate_pk)
        services.boost_remove(actor=request.user, member=member, candidate=boost.candidate)
        messages.success(request, _("The boost was removed."))
        return redirect("matching:library", pk=pk)
    candidate = selectors.candidate_for(viewer=request.user, member=member, pk=candidate_pk)
    form = BoostForm(request.POST)
    if form.is_valid():
        try:
            services.boost_set(
                actor=request.user,
                member=member,
                candidate=candidate,
                pin=form.cleaned_data["pin"],
                points=form.cleaned_data["points"],
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(
                request,
                _("%(name)s was boosted.") % {"name": member_label(request.user, candidate)},
            )
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("matching:library", pk=pk)


@require_perm("matching")
def appointments(request):
    view = request.GET.get("view", "list")
    context = {"view": view, "buckets": selectors.APPOINTMENT_BUCKETS}
    if view in ("arranged", "not_arranged", "bucket"):
        qs = selectors.members_by_appointments(
            viewer=request.user,
            arranged={"arranged": "yes", "not_arranged": "no"}.get(view, ""),
            bucket=request.GET.get("bucket", ""),
        )
        page = paginate(request, qs.order_by("-registered_at", "-pk"), "member", keyed=True)
        page.object_list = selectors.with_appointment_counts(page.object_list)
        context["page"] = page
        context["member_rows"] = True
    else:
        status = request.GET.get("status", "")
        found = selectors.appointment_list(viewer=request.user, status=status)
        page = paginate(request, found.rows, keyed=True, counted=found.counted)
        page.object_list = selectors.presented(request.user, page.object_list, "member", "partner")
        context.update(page=page, status=status, statuses=AppointmentStatus.choices)
    return render(request, "matching/appointments.html", context)


@require_perm("matching", "add")
def appointment_create(request):
    initial = {k: request.GET[k] for k in ("member", "partner") if request.GET.get(k)}
    form = AppointmentForm(request.POST or None, viewer=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        appt = form.save(commit=False)
        try:
            services.appointment_create(
                actor=request.user,
                appointment=appt,
                allow_double_booking=form.cleaned_data["allow_double_booking"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The appointment was arranged."))
            return redirect("matching:appointments")
    return render(request, "matching/appointment_form.html", {"form": form, "creating": True})


@require_perm("matching", "edit")
def appointment_edit(request, pk):
    appt = selectors.appointment_get(viewer=request.user, pk=pk)
    sides = selectors.appointment_sides(request.user, appt)
    form = AppointmentUpdateForm(request.POST or None, instance=appt, sides=sides)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_update(
                actor=request.user,
                appointment=form.save(commit=False),
                allow_double_booking=form.cleaned_data.get("allow_double_booking", False),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The appointment was saved."))
            return redirect("matching:appointments")
    (shown,) = selectors.presented(request.user, [appt], "member", "partner")
    return render(
        request,
        "matching/appointment_form.html",
        {"form": form, "appointment": shown, "sides": sides},
    )


@require_perm("matching")
def introductions(request):
    status = request.GET.get("status", IntroductionStatus.OPEN)
    status = status if status in IntroductionStatus.values or status == "" else "open"
    found = selectors.introduction_list(viewer=request.user, status=status)
    page = paginate(request, found.rows, keyed=True, counted=found.counted)
    page.object_list = selectors.with_optins(
        selectors.presented(request.user, page.object_list, "member", "target"), "member", "target"
    )
    return render(
        request,
        "matching/introductions.html",
        {
            "page": page,
            "status": status,
            "statuses": IntroductionStatus.choices,
            "may_end": can(request.user, "matching", "edit"),
            # translated once for the page, not once per open request
            "close_choices": [
                (value, str(label))
                for value, label in IntroductionCloseForm().fields["status"].choices
            ],
        },
    )


@require_perm("matching", "add")
def introduction_create(request):
    initial = {k: request.GET[k] for k in ("member", "target") if request.GET.get(k)}
    form = IntroductionForm(request.POST or None, viewer=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.introduction_create(actor=request.user, request=form.save(commit=False))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The introduction request was recorded."))
            return redirect("matching:introductions")
    return render(request, "matching/introduction_form.html", {"form": form})


@require_perm("matching", "edit")
@require_POST
def introduction_close(request, pk):
    intro = selectors.introduction_get(viewer=request.user, pk=pk)
    form = IntroductionCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("matching:introductions")
    data = form.cleaned_data
    appt = (
        Appointment(starts_at=data["starts_at"], place=data["place"])
        if data["status"] == IntroductionStatus.ARRANGED
        else None
    )
    try:
        services.introduction_close(
            actor=request.user,
            request=intro,
            status=data["status"],
            note=data["note"],
            appointment=appt,
            allow_double_booking=data["allow_double_booking"],
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("The introduction request was closed."))
    return redirect("matching:introductions")


@require_perm("matching", "edit")
def optin_end(request, pk):
    """End a double opt-in (with confirmation): names and photos are hidden again for both."""
    pair = selectors.optin_get(viewer=request.user, pk=pk)
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("matching:introductions")
    if request.method == "POST":
        try:
            optin.end(actor=request.user, pair=pair, note=request.POST.get("note", ""))
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(
                request, _("The pair was ended: nothing is revealed to them any more.")
            )
        return redirect(back)
    shown = selectors.presented(request.user, [pair], "low", "high")[0]
    return render(request, "matching/optin_end.html", {"pair": shown, "next": back})


@require_perm("matching", "add")
def member_search(request):
    """Members to pick in the appointment and introduction forms (JSON for Tom Select)."""
    member = None
    if member_pk := key_param(request.GET.get("member")):
        member = selectors.member_for_matching(viewer=request.user, pk=member_pk)
    found = selectors.partner_search(
        viewer=request.user,
        q=request.GET.get("q", "")[:40],
        member=member,
        own_only=request.GET.get("own") == "1",
    )
    return JsonResponse(
        {
            "results": [
                {"value": m.pk, "text": f"{m.label} · {m.get_sex_display()} · {m.age or '?'}"}
                for m in found
            ]
        }
    )
