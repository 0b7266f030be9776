from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from hongniang.home import selectors


@login_required
def index(request):
    """The workbench home: what the viewer has to do today, then the business at a glance."""
    return render(
        request,
        "home/index.html",
        {
            "todo": selectors.todo_list(viewer=request.user),
            "business": selectors.business_figures(viewer=request.user),
        },
    )
