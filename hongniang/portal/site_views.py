"""The public site (no login): home, member search, member pages, success stories, robots.txt.

Every member on these pages comes from `site_selectors` (public fields only, through the
presenter); photos are served here after checking the member is shown, never from /media/.
"""

import mimetypes
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from hongniang.frontdesk import throttle
from hongniang.members import choices as c
from hongniang.members import services as member_services
from hongniang.members.selectors import member_get
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.permissions import require_perm

from . import services
from . import site_selectors as sel
from .site_forms import PublicSearchForm, SiteFlagsForm, StoryFilterForm

# Generous for a person paging through results, tight for a robot copying the member base.
SEARCH_PER_ADDRESS = throttle.Limit("site-search-ip", 120, 600)


def photo_response(image, cache: str = "public, max-age=300") -> FileResponse:
    try:
        handle = image.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(image.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    # Shared caches may keep a public photo briefly: a hidden profile disappears soon.
    response["Cache-Control"] = cache
    return response


@require_GET
def home(request):
    return render(
        request,
        "portal/site/home.html",
        {
            "form": PublicSearchForm(),
            "banners": sel.banners(),
            "women": sel.featured("F"),
            "men": sel.featured("M"),
            "team": sel.team(),
            "plans": sel.plans(),
            "stories": sel.latest_stories(),
        },
    )


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@require_GET
def search(request):
    if throttle.hit(SEARCH_PER_ADDRESS, throttle.client_address(request)):
        return render(request, "portal/site/too_many.html", status=429)
    form = PublicSearchForm(request.GET or None)
    filters = form.filters()
    number = _page_number(request)
    if number > sel.MAX_PAGES:
        return render(request, "portal/site/too_many.html", {"deep": True}, status=404)
    page = sel.search(filters, number)
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "portal/site/search.html",
        {"form": form, "page": page, "query": urlencode(query)},
    )


@require_GET
def member(request, code):
    card = sel.public_member(code)
    if card is None:
        raise Http404
    here = request.get_full_path()
    return render(
        request,
        "portal/site/member.html",
        {
            "card": card,
            "hukou": sel.hukou_label(card),
            "hobbies": sel.tag_labels(card.view.hobbies, c.Hobby),
            "personality": sel.tag_labels(card.view.personality, c.Personality),
            # "我要认识TA": a logged-in member asks at once; anyone else logs in first and comes
            # back here.
            "member_session": services.current(request),
            "meet_url": f"{reverse('portal:login')}?{urlencode({'next': here})}",
        },
    )


@require_GET
def member_photo(request, code, photo_code):
    photo = sel.public_photo(code, photo_code)
    if photo is None:
        raise Http404
    return photo_response(photo.image)


@require_GET
def stories(request):
    form = StoryFilterForm(request.GET or None, years=sel.story_years())
    filters = form.cleaned_data if form.is_valid() else {}
    page = sel.stories_page(filters, _page_number(request))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "portal/site/stories.html",
        {"form": form, "page": page, "query": urlencode(query)},
    )


@require_GET
def story(request, pk):
    found = get_object_or_404(sel.published_stories(), pk=pk)
    return render(request, "portal/site/story.html", {"story": found})


@require_GET
def story_photo(request, pk, photo_pk):
    photo = get_object_or_404(sel.story_photos(), pk=photo_pk, story_id=pk)
    return photo_response(photo.image)


@require_GET
@cache_control(public=True, max_age=3600)
def robots_txt(request):
    site = SiteSettings.load()
    sitemap = request.build_absolute_uri(reverse("portal:sitemap"))
    body = f"{site.robots_txt.strip()}\n\nSitemap: {sitemap}\n"
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


# --- the workbench's side: a member's place on the public site ------------------------------


@require_perm("members", "edit")
@require_POST
def member_site_flags(request, pk):
    member = member_get(viewer=request.user, pk=pk)
    form = SiteFlagsForm(request.POST)
    if form.is_valid():
        member_services.member_set_site_flags(
            actor=request.user,
            member=member,
            featured=form.cleaned_data["site_featured"],
            hidden=form.cleaned_data["site_hidden"],
        )
        messages.success(request, _("The public site settings of the member were saved."))
    return redirect("members:detail", pk=pk)
