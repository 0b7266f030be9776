"""The workbench's success stories (成功案例, whitepaper 2.5.8): list, write, edit, delete.

Rights: the after-sales module (view / add / edit / delete); a story is reachable when the
user sees one of its two members, else 404 as any record outside one's view.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from hongniang.members.presenter import present_many
from hongniang.staff.permissions import can, require_perm
from hongniang.workbench.forms import add_service_errors
from hongniang.workbench.listing import paginate

from . import site_services as services
from .site_forms import StoryForm
from .site_views import photo_response


def _rows(user, stories):
    """Each story with its two members as the presenter shows them to this user."""
    stories = list(stories)
    members = [m for s in stories for m in (s.member_a, s.member_b)]
    views = iter(present_many(user, members))
    return [(s, next(views), next(views)) for s in stories]


@require_perm("aftersales", "view")
def story_list(request):
    qs = services.stories_visible_to(request.user).select_related("member_a", "member_b")
    page = paginate(request, qs.order_by("-happened_on", "-pk"))
    return render(
        request,
        "portal/site/stories_manage.html",
        {
            "page": page,
            "rows": _rows(request.user, page.object_list),
            "may_add": can(request.user, "aftersales", "add"),
        },
    )


def _story_form(request, story):
    creating = story.pk is None
    form = StoryForm(
        request.POST or None, request.FILES or None, instance=story, actor=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.story_save(
                actor=request.user,
                story=form.instance,
                consent_a_changed="consent_a_on" in form.changed_data
                or "member_a_uid" in form.changed_data,
                consent_b_changed="consent_b_on" in form.changed_data
                or "member_b_uid" in form.changed_data,
                new_photos=[form.cleaned_data["photo"]] if form.cleaned_data.get("photo") else [],
                removed_photos=list(form.cleaned_data.get("remove_photos") or []),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The success story was saved."))
            return redirect("portal:stories_manage")
    shown = present_many(request.user, [story.member_a, story.member_b]) if not creating else []
    return render(
        request,
        "portal/site/story_form.html",
        {"form": form, "story": story, "creating": creating, "members": shown},
    )


@require_perm("aftersales", "add")
def story_create(request):
    from .models import SuccessStory

    return _story_form(request, SuccessStory())


def _story(request, pk):
    qs = services.stories_visible_to(request.user).select_related("member_a", "member_b")
    return get_object_or_404(qs, pk=pk)


@require_perm("aftersales", "edit")
def story_edit(request, pk):
    return _story_form(request, _story(request, pk))


@require_perm("aftersales", "delete")
def story_delete(request, pk):
    story = _story(request, pk)
    if request.method == "POST":
        services.story_delete(actor=request.user, story=story)
        messages.success(request, _("The success story was deleted."))
        return redirect("portal:stories_manage")
    return render(request, "portal/site/story_delete.html", {"story": story})


@require_perm("aftersales", "view")
def story_photo(request, pk, photo_pk):
    """A story's photo for staff, published or not (the public view serves published ones)."""
    story = _story(request, pk)
    photo = get_object_or_404(story.photos.all(), pk=photo_pk)
    return photo_response(photo.image, cache="private, max-age=300")
