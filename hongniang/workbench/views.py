from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader


# Error pages (handler400/403/404/500 in hongniang/urls.py, CSRF_FAILURE_VIEW in settings).
# 400, 403 and 404 render with the request, so staff keep the workbench frame around them.
def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    # No request context: context processors read the database, which may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render())
