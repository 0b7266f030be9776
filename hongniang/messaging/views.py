from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hongniang.messaging.models import Notice
from hongniang.messaging.services import notices_mark_read
from hongniang.workbench.listing import paginate


@login_required
def notice_list(request):
    page = paginate(request, Notice.objects.filter(recipient=request.user))
    return render(request, "messaging/notice_list.html", {"page": page})


@login_required
def notice_open(request, pk):
    notice = get_object_or_404(Notice, pk=pk, recipient=request.user)
    notices_mark_read(user=request.user, pks=[notice.pk])
    target = notice.link
    ok = target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if ok else "messaging:list")


@require_POST
@login_required
def notice_read_all(request):
    notices_mark_read(user=request.user)
    return redirect("messaging:list")
