"""The options of the region cascade (``widgets.RegionSelect``), fetched by htmx."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from hongniang.members.regions import children


@login_required
@require_GET
@cache_control(private=True, max_age=3600)
def region_children(request):
    """``<option>`` elements for the regions directly below ``?parent=<6-digit code>``.

    An empty or unknown parent gives the placeholder option alone, which is how the widget empties
    the county select after the province changed.
    """
    parent = request.GET.get("parent", "").strip()
    return render(request, "members/_region_options.html", {"regions": children(parent)})
