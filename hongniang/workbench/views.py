from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from hongniang.workbench.selectors import dashboard_figures


@login_required
def dashboard(request):
    figures = dashboard_figures(viewer=request.user)
    return render(request, "workbench/dashboard.html", {"figures": figures})
