from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from hongniang.home import selectors
from hongniang.members import selectors as member_selectors
from hongniang.portal.centre_selectors import centre_activity, recent_reveals
from hongniang.staff.permissions import require_perm


@login_required
def index(request):
    """The workbench home: what the viewer has to do today, then the business at a glance."""
    now = timezone.now()
    # Read once: the to-do list's "behind the promise" and the panel show the same rows.
    book = selectors.promise_book(viewer=request.user, today=timezone.localdate(now))
    # Read once if either part needs it: the pipeline figure and the idle members' entry.
    tally = SimpleLazyObject(lambda: selectors.member_tally(viewer=request.user, now=now))
    return render(
        request,
        "home/index.html",
        {
            "todo": selectors.todo_list(viewer=request.user, now=now, promise=book, tally=tally),
            "business": selectors.business_figures(viewer=request.user, now=now, tally=tally),
            "promise": selectors.promise_this_month(viewer=request.user, book=book),
        },
    )


@require_perm("members")
def member_activity(request, pk):
    """The member page's activity panel (htmx): it reads from every app, so it lives up here."""
    member = member_selectors.member_get(viewer=request.user, pk=pk)
    return render(
        request,
        "home/_member_activity.html",
        {
            "member": member,
            "activity": selectors.member_activity(viewer=request.user, member=member),
            "centre": centre_activity(member),
            "reveals": recent_reveals(viewer=request.user, member=member),
        },
    )


@require_perm("members")
def member_ledger(request, pk):
    """The member page's promise ledger (htmx): delivered against promised, month by month, for
    the contract in force. Nothing when there is none (the placeholder goes away)."""
    from django.http import HttpResponse

    from hongniang.finance import selectors as finance_selectors

    member = member_selectors.member_get(viewer=request.user, pk=pk)
    contract, months = finance_selectors.member_ledger(viewer=request.user, member=member)
    if contract is None:
        return HttpResponse("")
    return render(
        request,
        "home/_member_ledger.html",
        {"member": member, "contract": contract, "months": months},
    )
