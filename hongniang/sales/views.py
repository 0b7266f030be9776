from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hongniang.members.selectors import member_get
from hongniang.sales import selectors, services
from hongniang.sales.forms import FollowUpForm, FollowUpSearchForm
from hongniang.staff.permissions import require_perm
from hongniang.workbench.forms import add_service_errors
from hongniang.workbench.listing import paginate


@require_perm("members")
def follow_ups(request, pk):
    """A member's follow-up history (跟进记录), searchable; the form to add one beside it."""
    member = member_get(viewer=request.user, pk=pk)
    search = FollowUpSearchForm(request.GET or None)
    filters = search.cleaned_data if search.is_valid() else {}
    page = paginate(
        request, selectors.member_follow_ups(viewer=request.user, member=member, filters=filters)
    )
    return render(
        request,
        "sales/follow_ups.html",
        {
            "member": member,
            "search": search,
            "page": page,
            "rows": page.object_list,
            "may_add": services.may_follow_up(request.user),
        },
    )


def follow_up_add(request, pk):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    if not services.may_follow_up(request.user):
        raise PermissionDenied
    member = member_get(viewer=request.user, pk=pk)
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_record(
                actor=request.user,
                member=member,
                follow_up=form.save(commit=False),
                tags=form.tags(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            if "tags" in getattr(exc, "error_dict", {}):
                form.add_error("tags_text", exc.error_dict["tags"])
        else:
            messages.success(request, _("The follow-up was saved."))
            return redirect("sales:follow_ups", pk=member.pk)
    return render(request, "sales/follow_up_form.html", {"member": member, "form": form})
