"""The workbench's side of members' accounts: open one, reset its password, close or reopen it
(from the member's page), and open accounts for many selected members (a job)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hongniang.frontdesk.models import MemberAccount
from hongniang.members.models import Member
from hongniang.members.selectors import member_get
from hongniang.staff.permissions import require_perm
from hongniang.workbench.forms import add_service_errors

from . import accounts
from .forms import AccountIssueForm


def _issue(request, pk, *, opening: bool):
    member = member_get(viewer=request.user, pk=pk)  # 404 outside one's view
    account = MemberAccount.objects.filter(member=member).first()
    if opening and account is not None:
        messages.info(request, _("%(name)s already has a member account.") % {"name": member.name})
        return redirect("members:detail", pk=pk)
    if not opening and account is None:
        messages.error(request, _("This member has no member account yet."))
        return redirect("members:detail", pk=pk)
    initial = {"send_sms": bool(member.mobile_encrypted)}
    form = AccountIssueForm(
        request.POST if request.method == "POST" else None, opening=opening, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            if opening:
                issued = accounts.account_open(
                    actor=request.user,
                    member=member,
                    username=form.cleaned_data["username"],
                    send_sms=form.cleaned_data["send_sms"],
                    site_url=request.build_absolute_uri("/"),
                )
            else:
                issued = accounts.password_reset(
                    actor=request.user,
                    member=member,
                    send_sms=form.cleaned_data["send_sms"],
                    site_url=request.build_absolute_uri("/"),
                )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                add_service_errors(form, exc)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect("members:detail", pk=pk)
        else:
            member.refresh_from_db(fields=["username"])
            # The password is on this answer only: not stored, not in a redirect, not cached.
            return render(
                request,
                "portal/account_issued.html",
                {
                    "member": member,
                    "issued": issued,
                    "opening": opening,
                    "days": accounts.TEMPORARY_DAYS,
                },
            )
    return render(
        request,
        "portal/account_issue.html",
        {
            "member": member,
            "form": form,
            "opening": opening,
            "account": account,
            "days": accounts.TEMPORARY_DAYS,
        },
    )


@never_cache
@require_perm("members", "edit")
def account_open(request, pk):
    return _issue(request, pk, opening=True)


@never_cache
@require_perm("members", "edit")
def account_reset(request, pk):
    return _issue(request, pk, opening=False)


@require_perm("members", "edit")
@require_POST
def account_active(request, pk):
    member = member_get(viewer=request.user, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        accounts.account_set_active(actor=request.user, member=member, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            (
                _("The member account of %(name)s is open again.")
                if active
                else _("The member account of %(name)s is closed: it cannot log in.")
            )
            % {"name": member.name},
        )
    return redirect("members:detail", pk=pk)


@require_perm("members", "edit")
def accounts_bulk(request):
    """Open accounts for the members ticked on a list: GET asks, POST starts the job."""
    data = request.POST if request.method == "POST" else request.GET
    ids = [int(v) for v in data.getlist("members") if v.isdigit()]
    members = Member.objects.visible_to(request.user).filter(pk__in=ids)
    without = members.exclude(pk__in=MemberAccount.objects.values("member_id"))
    if request.method == "POST":
        try:
            job = accounts.accounts_bulk_start(
                actor=request.user, members=without, site_url=request.build_absolute_uri("/")
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            return redirect("jobs:detail", job.pk)
    return render(
        request,
        "portal/accounts_bulk.html",
        {
            "ids": list(members.values_list("pk", flat=True)),
            "count": members.count(),
            "without": without.count(),
            "no_mobile": without.filter(mobile_encrypted="").count(),
            "days": accounts.TEMPORARY_DAYS,
        },
    )
