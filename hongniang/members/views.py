import mimetypes
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongniang.members import choices as c
from hongniang.members import journey, selectors, services
from hongniang.members import personal_data as pd
from hongniang.members.forms import (
    AllocateForm,
    JourneyStepForm,
    MemberFilterForm,
    MemberForm,
    PreferenceForm,
)
from hongniang.members.history import member_history
from hongniang.members.models import AllocationKind, MatePreference, Member
from hongniang.members.regions import region_labels
from hongniang.staff.permissions import can, require_perm
from hongniang.workbench.forms import StyledFormMixin, add_service_errors
from hongniang.workbench.listing import Sorting, paginate
from hongniang.workbench.uploads import CheckedImageField

MEMBER_SORTING = Sorting(
    {
        "id": "pk",
        "name": "name",
        "age": "birthday",
        "registered": "registered_at",
        "allocated": "allocated_at",
        "height": "height",
        "education": "education",
    },
    default="-registered",
)


# Choice columns of the member rows, labelled from one lookup table per page: get_FOO_display
# rebuilds the field's choices and translates each of them on every call (a third of the time
# the rows took to render).
ROW_CHOICES = ("sex", "marital_status", "education", "sales_stage", "service_status")


def _list_context(request, page, **extra):
    rows = list(page.object_list)
    labels = region_labels({m.region for m in rows if m.region})
    choices = {
        name: {value: str(label) for value, label in Member._meta.get_field(name).flatchoices}
        for name in ROW_CHOICES
    }
    for m in rows:
        m.region_label = labels.get(m.region, "")
        for name, table in choices.items():
            value = getattr(m, name)
            setattr(m, f"{name}_label", table.get(value, value))
    # One link per row into the member's match library, for those who may use it.
    may_library = can(request.user, "matching", "view")
    return {"page": page, "rows": rows, "may_library": may_library, **extra}


@require_perm("members")
def member_list(request):
    form = MemberFilterForm(request.GET or None, viewer=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = MEMBER_SORTING.apply(selectors.member_list(viewer=request.user, filters=filters), request)
    page = paginate(request, qs.only(*selectors.LIST_COLUMNS), "member", keyed=True)
    return render(
        request,
        "members/member_list.html",
        _list_context(
            request,
            page,
            filter_form=form,
            default_sort=MEMBER_SORTING.default,
            may_export=can(request.user, "members", "export"),
            may_export_full=can(request.user, "members", "export")
            and can(request.user, "members", "reveal"),
        ),
    )


@require_perm("members", "add")
def member_create(request):
    form = MemberForm(request.POST or None, viewer=request.user)
    pref_form = PreferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and pref_form.is_valid():
        member = form.save(commit=False)
        try:
            services.member_create(
                actor=request.user,
                member=member,
                preference=pref_form.save(commit=False),
                **form.personal_data(),
            )
        except ValidationError as exc:
            add_service_errors([form, pref_form], exc)
        else:
            messages.success(request, _("Member %(name)s was added.") % {"name": member.name})
            return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/member_form.html",
        {"form": form, "pref_form": pref_form, "creating": True},
    )


@require_perm("members", "edit")
def member_edit(request, pk):
    member = selectors.member_get(viewer=request.user, pk=pk)
    preference = MatePreference.objects.filter(member=member).first() or MatePreference(
        member=member
    )
    form = MemberForm(request.POST or None, instance=member, viewer=request.user)
    pref_form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid() and pref_form.is_valid():
        try:
            services.member_update(
                actor=request.user,
                member=form.save(commit=False),
                preference=pref_form.save(commit=False),
                **form.personal_data(),
            )
        except ValidationError as exc:
            add_service_errors([form, pref_form], exc)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/member_form.html",
        {"form": form, "pref_form": pref_form, "member": member},
    )


@require_perm("members")
def member_detail(request, pk):
    member = selectors.member_get(viewer=request.user, pk=pk)
    preference = MatePreference.objects.filter(member=member).first()
    return render(
        request,
        "members/member_detail.html",
        {
            "member": member,
            "profile": MemberForm(instance=member, viewer=request.user).groups(),
            "preference": preference,
            "pref_rows": PreferenceForm(instance=preference).rows() if preference else [],
            "photos": member.photos.all(),
            "allocations": member.allocations.select_related("from_staff", "to_staff", "by")[:50],
            "events": member.events.select_related("actor")[:50],
            "history": member_history(member),
            "labels": region_labels(
                [member.region, member.hukou_region, preference.region if preference else ""]
            ),
            "may_reveal": can(request.user, "members", "reveal"),
            "may_approve": can(request.user, "members", "approve"),
            "may_edit": can(request.user, "members", "edit"),
            "photo_form": PhotoForm(),
            "steps": journey.allowed_steps(request.user, member),
            "may_release": member.presales_owner_id is not None
            and member.sales_stage in selectors.OPEN_STAGES
            and (
                member.presales_owner_id == request.user.pk
                or can(request.user, "members", "allocate")
            ),
            "pending": selectors.pending_allocations(viewer=request.user)
            .filter(member=member)
            .first(),
            "may_library": can(request.user, "matching", "view"),
            "may_follow_up": can(request.user, "presales", "add")
            or can(request.user, "aftersales", "add"),
            "may_sign": can(request.user, "finance", "add")
            and member.sales_stage != c.SalesStage.ABANDONED,
            "may_view_contracts": can(request.user, "finance", "view"),
        },
    )


@require_perm("members")
def journey_step(request, pk, step):
    """One step of the member's journey: steps that ask for something show their form first
    (GET); POST takes the step, or shows why it was refused."""
    member = selectors.member_get(viewer=request.user, pk=pk)
    spec = journey.STEPS.get(step)
    if spec is None:
        raise Http404
    if not spec.manual:
        # Signing, following and reopening follow from other actions (a contract approved, a
        # follow-up, an allocation): asked for directly, the page says how they happen.
        messages.error(request, str(spec.how))
        return redirect("members:detail", pk=pk)
    if not journey.may(request.user, spec):
        raise PermissionDenied
    form = JourneyStepForm(request.POST if request.method == "POST" else None, step=spec)
    if request.method == "POST":
        if form.is_valid():
            try:
                journey.advance(actor=request.user, member=member, step=step, **form.cleaned_data)
            except ValidationError as exc:
                if spec.asks and hasattr(exc, "error_dict"):
                    add_service_errors(form, exc)
                else:
                    messages.error(request, " ".join(exc.messages))
                    return redirect("members:detail", pk=pk)
            else:
                messages.success(
                    request,
                    _("%(step)s: done for %(name)s.") % {"step": spec.label, "name": member.name},
                )
                return redirect("members:detail", pk=pk)
        elif not spec.asks:
            return redirect("members:detail", pk=pk)
    elif not spec.asks:
        return redirect("members:detail", pk=pk)
    return render(
        request,
        "members/journey_step.html",
        {"member": member, "step": spec, "form": form, "refusal": journey.refusal(member, spec)},
    )


def _check_result(ok: bool, message) -> HttpResponse:
    css = "text-success" if ok else "text-danger"
    return HttpResponse(format_html('<span class="{}">{}</span>', css, message))


def _exclude_pk(request) -> int | None:
    """The member being edited, whose own number is not "in use": only one the user may see,
    or the answer would tell whether that member has the number typed in."""
    raw = request.GET.get("member", "")
    if not raw.isdigit():
        return None
    return (
        Member.objects.visible_to(request.user)
        .filter(pk=int(raw))
        .values_list("pk", flat=True)
        .first()
    )


def _live_check(view):
    """Live checks answer only "in use" or "free", only to users who may add members, and at
    most LIVE_CHECKS_PER_MINUTE times a minute per user: enough for typing, too few to search
    the agency's numbers."""

    @require_perm("members", "add")
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if services.live_check_limited(request.user):
            return HttpResponse(
                format_html(
                    '<span class="text-danger">{}</span>',
                    _("Too many checks. Please wait a minute and try again."),
                ),
                status=429,
            )
        return view(request, *args, **kwargs)

    return wrapped


@_live_check
def check_mobile(request):
    """Live check on the form: is this a valid mobile, and is it free?"""
    try:
        mobile = pd.normalize_mobile(request.GET.get("mobile", ""))
    except ValidationError as exc:
        return _check_result(False, exc.messages[0])
    if services.mobile_in_use(mobile, exclude_pk=_exclude_pk(request)):
        return _check_result(False, _("This mobile number is already registered."))
    return _check_result(True, _("This mobile number is available."))


@_live_check
def check_id_number(request):
    """Live check of a resident ID: checksum and birth date, and whether it is free."""
    if request.GET.get("id_type", "resident_id") != "resident_id":
        return HttpResponse("")
    try:
        number = pd.normalize_resident_id(request.GET.get("id_number", ""))
    except ValidationError as exc:
        return _check_result(False, exc.messages[0])
    if services.id_number_in_use(number, exclude_pk=_exclude_pk(request)):
        return _check_result(False, _("This ID number is already registered."))
    birth, sex = pd.resident_id_facts(number)
    return _check_result(
        True,
        _("This ID number is available (born %(date)s, %(sex)s).")
        % {"date": birth.isoformat(), "sex": c.Sex(sex).label},
    )


@require_perm("members", "reveal")
@require_POST
def reveal(request, pk, field):
    """htmx: the full value in place of the mask; the security password comes from the modal."""
    member = selectors.member_get(viewer=request.user, pk=pk)
    password = request.headers.get("HX-Prompt") or request.POST.get("security_password", "")
    try:
        value = services.member_reveal(
            actor=request.user, member=member, field=field, security_password=password
        )
    except ValidationError as exc:
        return _check_result(False, " ".join(exc.messages))
    return HttpResponse(format_html('<span class="font-monospace">{}</span>', value or "—"))


def _allocation_page(request, *, template, tabs, current, qs, kind=None):
    form = MemberFilterForm(request.GET or None, viewer=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = MEMBER_SORTING.apply(selectors.apply_filters(qs, filters), request)
    page = paginate(request, qs.only(*selectors.LIST_COLUMNS), "member", keyed=True)
    allocate_form = AllocateForm(viewer=request.user, members_qs=qs, kind=kind)
    return render(
        request,
        template,
        _list_context(
            request,
            page,
            filter_form=form,
            tabs=tabs,
            current=current,
            windows=selectors.WINDOWS,
            allocate_form=allocate_form,
            default_sort=MEMBER_SORTING.default,
        ),
    )


@require_perm("members", "allocate")
def pools(request):
    pool = request.GET.get("pool", "unsigned")
    pool = pool if pool in selectors.POOLS else "unsigned"
    return _allocation_page(
        request,
        template="members/allocation.html",
        tabs=selectors.POOLS,
        current=pool,
        qs=selectors.pool_members(viewer=request.user, pool=pool),
        kind=selectors.POOL_KINDS[pool],
    )


@require_perm("members", "allocate")
def reallocate(request):
    group = request.GET.get("group", "not_followed")
    group = group if group in selectors.REALLOCATION_GROUPS else "not_followed"
    return _allocation_page(
        request,
        template="members/allocation.html",
        tabs=selectors.REALLOCATION_GROUPS,
        current=group,
        qs=selectors.reallocation_members(viewer=request.user, group=group),
        kind=AllocationKind.AFTERSALES if group == "signed" else None,
    )


@require_perm("members", "allocate")
@require_POST
def allocate(request):
    form = AllocateForm(
        request.POST,
        viewer=request.user,
        members_qs=selectors.allocatable_members(viewer=request.user),
    )
    back = request.POST.get("next", "")
    # Only a path on this site: anything else (a view name, another host, junk) goes to the list.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("members:pools")
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    try:
        count = services.members_allocate(
            actor=request.user,
            members=form.cleaned_data["members"],
            to=form.cleaned_data["to"],
            remark=form.cleaned_data["remark"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(count)s member(s) allocated to %(name)s.")
            % {"count": count, "name": form.cleaned_data["to"].name},
        )
    return redirect(back)


class PhotoForm(StyledFormMixin, forms.Form):
    image = CheckedImageField(label=_("Photo"), max_px=1200, required=True)


@require_perm("members", "edit")
@require_POST
def photo_add(request, pk):
    member = selectors.member_get(viewer=request.user, pk=pk)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.photo_add(actor=request.user, member=member, image=form.cleaned_data["image"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The photo was uploaded and waits for review."))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("members:detail", pk=pk)


def _photo(request, pk, photo_pk):
    member = selectors.member_get(viewer=request.user, pk=pk)
    return get_object_or_404(member.photos, pk=photo_pk)


@require_perm("members")
def photo_file(request, pk, photo_pk):
    """A member's photo, only for those who may see the member (404 otherwise, as for any
    record outside one's view); the browser may keep it privately for a few minutes."""
    photo = _photo(request, pk, photo_pk)
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_perm("members", "approve")
@require_POST
def photo_review(request, pk, photo_pk):
    photo = _photo(request, pk, photo_pk)
    services.photo_review(
        actor=request.user, photo=photo, approve=request.POST.get("decision") == "approve"
    )
    messages.success(request, _("The photo review was saved."))
    return redirect("members:detail", pk=pk)


@require_perm("members", "edit")
@require_POST
def photo_avatar(request, pk, photo_pk):
    services.photo_set_avatar(actor=request.user, photo=_photo(request, pk, photo_pk))
    return redirect("members:detail", pk=pk)


@require_perm("members", "edit")
@require_POST
def photo_delete(request, pk, photo_pk):
    services.photo_delete(actor=request.user, photo=_photo(request, pk, photo_pk))
    messages.success(request, _("The photo was deleted."))
    return redirect("members:detail", pk=pk)


def _follow_list_page(request, *, title, tabs, current, qs_for, chips, count_for=None):
    """A follow-up list page: tabs with their counts, chips, the member filters, one page.
    `count_for(key, filters)` counts a tab when counting its list is not the fastest way."""
    form = MemberFilterForm(request.GET or None, viewer=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    extra = {key: request.GET.get(key, "") for key in chips}
    extra = {key: v if v in chips[key][1] else "" for key, v in extra.items()}
    qs = MEMBER_SORTING.apply(qs_for(current, {**filters, **extra}), request)
    page = paginate(request, qs.only(*selectors.LIST_COLUMNS), "member", keyed=True)
    count_for = count_for or (lambda key, f: qs_for(key, f).count())
    counts = {key: count_for(key, {**filters, **extra}) for key in tabs}
    return render(
        request,
        "members/follow_lists.html",
        _list_context(
            request,
            page,
            title=title,
            tabs=[(key, label, counts[key]) for key, label in tabs.items()],
            current=current,
            chips=[
                (key, label, request.GET.get(key, ""), options.items())
                for key, (label, options) in chips.items()
            ],
            hidden={"list": current, **{k: v for k, v in extra.items() if v}},
            filter_form=form,
            default_sort=MEMBER_SORTING.default,
            show_follow_ups=True,
        ),
    )


@require_perm("presales")
def presales_lists(request):
    current = request.GET.get("list", "not_followed")
    current = current if current in selectors.PRESALES_LISTS else "not_followed"
    return _follow_list_page(
        request,
        title=_("Pre-sales follow-up"),
        tabs=selectors.PRESALES_LISTS,
        current=current,
        qs_for=lambda key, f: selectors.presales_members(
            viewer=request.user, listing=key, filters=f
        ),
        count_for=lambda key, f: selectors.presales_count(
            viewer=request.user, listing=key, filters=f
        ),
        chips={
            "reg": (_("Registered"), selectors.REGISTRATION_WINDOWS),
            "fu": (_("Follow-ups"), selectors.AFTERSALES_LISTS_BUCKETS),
        },
    )


@require_perm("aftersales")
def aftersales_lists(request):
    current = request.GET.get("list", "all")
    current = current if current in selectors.AFTERSALES_LISTS else "all"
    return _follow_list_page(
        request,
        title=_("After-sales follow-up"),
        tabs=selectors.AFTERSALES_LISTS,
        current=current,
        qs_for=lambda key, f: selectors.aftersales_members(
            viewer=request.user, listing=key, filters=f
        ),
        chips={},
    )


@require_perm("presales")
def public_pool(request):
    """公海: members released or not followed up in time, for the store's matchmakers to claim."""
    form = MemberFilterForm(request.GET or None, viewer=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.apply_filters(selectors.public_pool_members(viewer=request.user), filters)
    qs = MEMBER_SORTING.apply(
        qs.select_related("presales_owner", "aftersales_owner", "store"), request
    )
    page = paginate(request, qs.only(*selectors.LIST_COLUMNS), "member", keyed=True)
    return render(
        request,
        "members/public_pool.html",
        _list_context(
            request,
            page,
            filter_form=form,
            default_sort=MEMBER_SORTING.default,
            held=selectors.held_unsigned(request.user),
            limit=services._site().pool_claim_limit,
        ),
    )


@require_perm("presales", "add")
@require_POST
def pool_claim(request):
    pks = [int(v) for v in request.POST.getlist("members") if v.isdigit()]
    try:
        count = services.pool_claim(actor=request.user, members=Member.objects.filter(pk__in=pks))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(count)s member(s) claimed.") % {"count": count})
    return redirect("members:public_pool")


@require_perm("members")
@require_POST
def member_release(request, pk):
    member = selectors.member_get(viewer=request.user, pk=pk)
    try:
        services.member_release(
            actor=request.user, member=member, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("members:detail", pk=pk)
    messages.success(request, _("%(name)s is in the public pool now.") % {"name": member.name})
    return (
        redirect("members:detail", pk=pk)
        if Member.objects.visible_to(request.user).filter(pk=pk).exists()
        else redirect("members:list")
    )


@require_perm("members")
def pending(request):
    """Members allocated to me that wait for my answer."""
    page = paginate(request, selectors.pending_allocations(viewer=request.user))
    return render(
        request,
        "members/pending.html",
        {"page": page, "rows": page.object_list, "hours": services._site().allocation_accept_hours},
    )


@require_perm("members")
@require_POST
def allocation_answer(request, allocation_pk):
    allocation = get_object_or_404(
        selectors.pending_allocations(viewer=request.user), pk=allocation_pk
    )
    accept = request.POST.get("answer") == "accept"
    try:
        services.allocation_answer(
            actor=request.user,
            allocation=allocation,
            accept=accept,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("You accepted the member.") if accept else _("You declined the member."),
        )
    return redirect("members:pending")
