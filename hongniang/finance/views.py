from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongniang.finance import forms, selectors, services
from hongniang.finance.models import Contract, ContractStatus, RefundStatus, ServicePlan
from hongniang.members.presenter import present, present_many
from hongniang.members.selectors import member_get, stores_for
from hongniang.staff.permissions import can, require_perm
from hongniang.workbench.forms import add_service_errors
from hongniang.workbench.listing import key_param, paginate


def _tabs():
    return [
        ("", _("All")),
        (ContractStatus.SUBMITTED, ContractStatus.SUBMITTED.label),
        (ContractStatus.REJECTED, ContractStatus.REJECTED.label),
        (ContractStatus.DRAFT, ContractStatus.DRAFT.label),
        (ContractStatus.EFFECTIVE, ContractStatus.EFFECTIVE.label),
        (selectors.ENDING_30, _("Ending within 30 days")),
        (selectors.ENDING_7, _("Ending within 7 days")),
        (selectors.EXPIRED, _("Expired, not renewed")),
    ]


def _with_members(viewer, rows, member_of):
    rows = list(rows)
    return list(zip(rows, present_many(viewer, [member_of(r) for r in rows]), strict=True))


# --- service plans ---


@require_perm("finance")
def plans(request):
    return render(
        request,
        "finance/plans.html",
        {"plans": ServicePlan.objects.all(), "may_edit": can(request.user, "finance", "edit")},
    )


@require_perm("finance", "edit")
def plan_edit(request, pk=None):
    plan = get_object_or_404(ServicePlan, pk=pk) if pk else ServicePlan()
    form = forms.ServicePlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_save(actor=request.user, plan=form.save(commit=False))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The service plan was saved."))
            return redirect("finance:plans")
    return render(request, "finance/plan_form.html", {"form": form, "plan": plan})


# --- contracts ---


@require_perm("finance")
def contracts(request):
    search = forms.ContractSearchForm(request.GET or None, stores=stores_for(request.user))
    filters = search.cleaned_data if search.is_valid() else {}
    tab = request.GET.get("tab", "")
    page = paginate(request, selectors.contract_list(viewer=request.user, filters=filters, tab=tab))
    return render(
        request,
        "finance/contracts.html",
        {
            "search": search,
            "page": page,
            "rows": _with_members(request.user, page.object_list, lambda c: c.member),
            "tabs": _tabs(),
            "tab": tab,
        },
    )


def _contract_form(request, contract, member):
    form = forms.ContractForm(
        request.POST or None,
        instance=contract,
        plans=selectors.plans_for_contract(contract),
        staff=selectors.signing_staff(request.user),
        stores=stores_for(request.user),
        initial=None
        if contract.pk
        else {
            "signed_by": request.user.pk,
            "store": member.store_id or request.user.store_id,
            "service_start": timezone.localdate(),
        },
    )
    if request.method == "POST" and form.is_valid():
        instalments = form.instalments()
        if form.is_valid():
            draft = form.save(commit=False)
            draft.member = member
            try:
                saved = services.contract_save(
                    actor=request.user,
                    contract=draft,
                    plans=list(form.cleaned_data["plans"]),
                    instalments=instalments,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if "submit" in request.POST:
                    services.contract_submit(actor=request.user, contract=saved)
                    messages.success(request, _("The contract was submitted to finance."))
                else:
                    messages.success(request, _("The contract was saved as a draft."))
                return redirect("finance:contract", pk=saved.pk)
    return render(
        request,
        "finance/contract_form.html",
        {"form": form, "contract": contract, "member": present(request.user, member)},
    )


@require_perm("finance", "add")
def contract_new(request, member_pk):
    member = member_get(viewer=request.user, pk=member_pk)
    renewal = None
    if request.GET.get("renews"):
        renewal = get_object_or_404(
            Contract.objects.visible_to(request.user).filter(member=member),
            pk=key_param(request.GET["renews"]) or 0,
        )
    contract = Contract(member=member, renewal_of=renewal)
    if renewal and request.method == "GET":
        contract.service_start = renewal.service_end
        contract.amount = renewal.amount
        contract.payment_type = renewal.payment_type
    return _contract_form(request, contract, member)


@require_perm("finance", "add")
def contract_edit(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)
    if not contract.editable:
        messages.error(request, _("Only a draft or a rejected contract can be changed."))
        return redirect("finance:contract", pk=pk)
    return _contract_form(request, contract, contract.member)


@require_perm("finance")
def contract_detail(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)
    user = request.user
    today = timezone.localdate()
    return render(
        request,
        "finance/contract_detail.html",
        {
            "contract": contract,
            "member": present(user, contract.member),
            "plans": contract.plans.all(),
            "instalments": selectors.instalment_states(contract),
            "ledger": selectors.ledger(contract),
            "payments": contract.payments.select_related("recorded_by"),
            "refunds": contract.refunds.select_related("requested_by", "decided_by"),
            "may_edit": contract.editable and can(user, "finance", "add"),
            "may_decide": contract.status == ContractStatus.SUBMITTED
            and can(user, "finance", "approve"),
            "may_pay": contract.in_force
            and contract.balance_due > 0
            and can(user, "finance", "approve"),
            "may_refund": contract.status
            in (ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED)
            and contract.refundable > 0
            and can(user, "finance", "add"),
            "may_renew": contract.in_force
            and not hasattr(contract, "renewed_by")
            and can(user, "finance", "add"),
            "approve_form": forms.ApproveForm(
                initial={"amount": contract.balance_due, "paid_on": today}
            ),
            "payment_form": forms.PaymentForm(
                initial={"amount": contract.balance_due, "paid_on": today}
            ),
            "reject_form": forms.RejectForm(),
            "refund_form": forms.RefundRequestForm(),
            "attachments": contract.attachments.all(),
            "attachment_form": forms.AttachmentForm() if can(user, "finance", "add") else None,
            "proposal": services.refund_proposal(contract) if contract.in_force else None,
        },
    )


def _act(request, contract, form, action, success):
    """Run a finance action from a form on the contract page; errors come back as messages."""
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("finance:contract", pk=contract.pk)
    try:
        action(form.cleaned_data)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect("finance:contract", pk=contract.pk)


@require_perm("finance", "add")
@require_POST
def contract_submit(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)
    try:
        services.contract_submit(actor=request.user, contract=contract)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("The contract was submitted to finance."))
    return redirect("finance:contract", pk=pk)


@require_perm("finance", "approve")
@require_POST
def contract_approve(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)
    return _act(
        request,
        contract,
        forms.ApproveForm(request.POST),
        lambda d: services.contract_approve(
            actor=request.user,
            contract=contract,
            security_password=d["security_password"],
            amount=d["amount"],
            method=d["method"],
            paid_on=d["paid_on"],
            reference=d["reference"],
        ),
        _("The contract is approved and in effect; the member is signed."),
    )


@require_perm("finance", "approve")
@require_POST
def contract_reject(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)
    return _act(
        request,
        contract,
        forms.RejectForm(request.POST),
        lambda d: services.contract_reject(
            actor=request.user, contract=contract, reason=d["reason"]
        ),
        _("The contract was sent back to sales."),
    )


@require_perm("finance", "approve")
@require_POST
def payment_add(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)

    def record(d):
        services.payment_record(
            actor=request.user,
            contract=contract,
            security_password=d["security_password"],
            amount=d["amount"],
            method=d["method"],
            paid_on=d["paid_on"],
            reference=d["reference"],
        )

    return _act(
        request, contract, forms.PaymentForm(request.POST), record, _("The payment was recorded.")
    )


@require_perm("finance", "add")
@require_POST
def refund_request(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)
    return _act(
        request,
        contract,
        forms.RefundRequestForm(request.POST),
        lambda d: services.refund_request(
            actor=request.user, contract=contract, amount=d["amount"], reason=d["reason"]
        ),
        _("The refund request was sent to finance."),
    )


# --- payments and refunds ---


def _searched_list(request, form_class, select, template, member_of, **extra):
    """A searchable, paginated list whose rows show their member through the presenter."""
    search = form_class(request.GET or None)
    filters = search.cleaned_data if search.is_valid() else {}
    page = paginate(request, select(viewer=request.user, filters=filters))
    rows = _with_members(request.user, page.object_list, member_of)
    return render(request, template, {"search": search, "page": page, "rows": rows, **extra})


@require_perm("finance")
def payments(request):
    return _searched_list(
        request,
        forms.PaymentSearchForm,
        selectors.payment_list,
        "finance/payments.html",
        lambda p: p.member,
    )


@require_perm("finance")
def refunds(request):
    return _searched_list(
        request,
        forms.RefundSearchForm,
        selectors.refund_list,
        "finance/refunds.html",
        lambda r: r.contract.member,
    )


@require_perm("finance")
def refund_detail(request, pk):
    refund = selectors.refund_get(viewer=request.user, pk=pk)
    form = forms.RefundDecisionForm(
        request.POST or None, initial={"amount": refund.requested_amount}
    )
    may_decide = refund.status == RefundStatus.REQUESTED and can(request.user, "finance", "approve")
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                if "reject" in request.POST:
                    services.refund_reject(actor=request.user, refund=refund, note=d["note"])
                    messages.success(request, _("The refund request was rejected."))
                else:
                    services.refund_approve(
                        actor=request.user,
                        refund=refund,
                        security_password=d["security_password"],
                        amount=d["amount"],
                        note=d["note"],
                    )
                    messages.success(request, _("The refund was approved and paid out."))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("finance:refund", pk=pk)
    contract = refund.contract
    return render(
        request,
        "finance/refund_detail.html",
        {
            "refund": refund,
            "contract": contract,
            "member": present(request.user, contract.member),
            "form": form,
            "may_decide": may_decide,
        },
    )


# --- the sales report ---


def _report(request):
    form = forms.ReportForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    start, end = selectors.report_range(d.get("window") or "month", d.get("start"), d.get("end"))
    return form, selectors.sales_report(viewer=request.user, start=start, end=end)


@require_perm("reports")
def report(request):
    form, data = _report(request)
    return render(
        request,
        "finance/report.html",
        {
            "form": form,
            "report": data,
            "may_export": can(request.user, "reports", "export"),
            "query": request.GET.urlencode(),
        },
    )


@require_perm("reports")
def report_outcomes(request):
    """The report's matchmaking outcomes and month-by-month promise ledger (htmx, after the
    sales figures), read from the monthly counters of the calendar months the range touches."""
    form = forms.ReportForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    start, end = selectors.report_range(d.get("window") or "month", d.get("start"), d.get("end"))
    user = request.user
    promise = selectors.promise_months(viewer=user, start=start, end=end)
    outcomes = selectors.outcome_report(viewer=user, start=start, end=end)
    return render(
        request,
        "finance/_report_outcomes.html",
        {
            "months": selectors.outcome_months(start, end),
            "outcomes": outcomes,
            "outcomes_by_store": selectors.outcomes_by_store(outcomes),
            "promise": selectors.promise_report(promise, start=start, end=end),
        },
    )


@require_perm("reports", "export")
@require_POST
def report_export(request):
    from io import BytesIO

    from django.http import HttpResponse

    from hongniang.staff.services import verify_security_password
    from hongniang.workbench.xlsx import SheetWriter

    try:
        verify_security_password(request.user, request.POST.get("security_password", ""))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect(f"{reverse('finance:report')}?{request.POST.get('query', '')}")
    request.GET = request.GET.copy()
    request.GET.update(QueryDict(request.POST.get("query", "")))
    _form, data = _report(request)
    out = BytesIO()
    heads = [
        _("Signing matchmaker"),
        _("Contracts signed"),
        _("Contract value"),
        _("Received"),
        _("Refunded"),
        _("Net"),
    ]
    with SheetWriter(out, _("Sales report"), widths=[18, 12, 14, 14, 14, 14]) as sheet:
        sheet.header(heads)
        for r in data["by_staff"]:
            sheet.row(
                [r["name"], r["contracts"], r["value"], r["received"], r["refunded"], r["net"]]
            )
        t = data["total"]
        sheet.row([_("Total"), t["contracts"], t["value"], t["received"], t["refunded"], t["net"]])
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"sales-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_perm("finance")
def contract_print(request, pk):
    from django.http import HttpResponse

    from hongniang.finance.pdf import FontMissing, contract_pdf
    from hongniang.siteconfig.models import SiteSettings

    contract = selectors.contract_get(viewer=request.user, pk=pk)
    try:
        body = contract_pdf(contract, viewer=request.user, site=SiteSettings.load())
    except FontMissing:
        messages.error(
            request,
            _("The server has no Chinese font for PDFs: install fonts-wqy-microhei."),
        )
        return redirect("finance:contract", pk=pk)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.number}.pdf"'
    return response


@require_perm("finance", "add")
@require_POST
def attachment_add(request, pk):
    contract = selectors.contract_get(viewer=request.user, pk=pk)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                actor=request.user,
                contract=contract,
                upload=form.cleaned_data["file"],
                kind=form.kind,
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(request, _("The file was added to the contract."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("finance:contract", pk=pk)


@require_perm("finance")
def attachment_file(request, pk, attachment_pk):
    from django.http import FileResponse, Http404

    contract = selectors.contract_get(viewer=request.user, pk=pk)
    attachment = get_object_or_404(contract.attachments, pk=attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    types = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
    response = FileResponse(
        handle,
        content_type=types[attachment.kind],
        filename=f"{contract.number}-{attachment.pk}.{attachment.kind}",
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- complaints about the service ---


@require_perm("aftersales")
def complaints(request):
    return _searched_list(
        request,
        forms.ComplaintSearchForm,
        selectors.complaint_list,
        "finance/complaints.html",
        lambda k: k.member,
        may_add=can(request.user, "aftersales", "add"),
    )


@require_perm("aftersales", "add")
def complaint_new(request):
    initial = {"received_on": timezone.localdate()}
    if member := key_param(request.GET.get("member")):
        initial["member"] = member
    form = forms.ComplaintForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # Another team's member or a missing UID: the same answer (no existence leak).
        from hongniang.members.models import Member

        member = Member.objects.visible_to(request.user).filter(pk=d["member"]).first()
        if member is None:
            form.add_error("member", _("No member of yours has this UID."))
        else:
            try:
                complaint = services.complaint_record(
                    actor=request.user,
                    member=member,
                    received_on=d["received_on"],
                    summary=d["summary"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The complaint was recorded."))
                return redirect("finance:complaint", pk=complaint.pk)
    return render(request, "finance/complaint_form.html", {"form": form})


@require_perm("aftersales")
def complaint_detail(request, pk):
    complaint = selectors.complaint_get(viewer=request.user, pk=pk)
    may_close = complaint.status == "open" and can(request.user, "aftersales", "approve")
    form = forms.ComplaintCloseForm(request.POST or None)
    if request.method == "POST":
        if not may_close:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.complaint_close(
                    actor=request.user,
                    complaint=complaint,
                    resolution=form.cleaned_data["resolution"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The complaint was closed."))
                return redirect("finance:complaint", pk=pk)
    return render(
        request,
        "finance/complaint_detail.html",
        {
            "complaint": complaint,
            "member": present(request.user, complaint.member),
            "form": form,
            "may_close": may_close,
        },
    )
