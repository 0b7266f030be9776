"""Messages to members (站内消息, email, SMS): compose, inbox, sent box, bulk, templates."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongniang.members import selectors as member_selectors
from hongniang.members.models import Member
from hongniang.members.presenter import member_label, present, present_many
from hongniang.messaging import services
from hongniang.messaging.forms import MessageForm, MessageTemplateForm, TemplatePickForm
from hongniang.messaging.models import Channel, Delivery, Message, MessageTemplate, OptOut
from hongniang.staff.permissions import require_perm
from hongniang.workbench.forms import add_service_errors
from hongniang.workbench.listing import key_param, paginate


def _initial_from_template(request, channel: str) -> tuple[TemplatePickForm, dict]:
    pick = TemplatePickForm(request.GET or None, channel=channel)
    initial = {"channel": channel}
    if pick.is_valid() and (template := pick.cleaned_data["template"]):
        initial |= {"subject": template.subject, "body": template.body}
        if template.channel:
            initial["channel"] = template.channel
    return pick, initial


@require_perm("members")
def compose(request, member_pk):
    member = member_selectors.member_get(viewer=request.user, pk=member_pk)
    channel = request.GET.get("channel", Channel.INTERNAL)
    channel = channel if channel in Channel.values else Channel.INTERNAL
    pick, initial = _initial_from_template(request, channel)
    form = MessageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            delivery = services.message_send(actor=request.user, member=member, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            label = member_label(request.user, member)
            if delivery.status == "sent":
                messages.success(request, _("Message sent to %(member)s.") % {"member": label})
            else:
                messages.error(
                    request,
                    _("The message to %(member)s was not sent: %(reason)s")
                    % {"member": label, "reason": delivery.get_reason_code_display()},
                )
            return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "messaging/compose.html",
        {
            "member": present(request.user, member, own=True),
            "form": form,
            "pick": pick,
            "refused": set(OptOut.objects.filter(member=member).values_list("channel", flat=True)),
            "history": Delivery.objects.filter(member=member).select_related("sent_by")[:20],
        },
    )


@require_perm("members")
@require_POST
def opt_out(request, member_pk):
    member = member_selectors.member_get(viewer=request.user, pk=member_pk)
    try:
        services.opt_out_set(
            actor=request.user,
            member=member,
            channel=request.POST.get("channel", ""),
            refused=request.POST.get("refused") == "1",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved."))
    return redirect("member_messages:compose", member_pk=member.pk)


def _with_members(viewer, rows, attr="member"):
    """Attach each row's member as the presenter shows it to the viewer."""
    rows = list(rows)
    views = {v.pk: v for v in present_many(viewer, {getattr(r, attr) for r in rows})}
    for r in rows:
        r.shown_member = views[getattr(r, attr).pk]
    return rows


@require_perm("members")
def inbox(request):
    qs = Message.objects.filter(recipient_staff=request.user).select_related("sender_member")
    page = paginate(request, qs)
    return render(
        request,
        "messaging/message_list.html",
        {
            "page": page,
            "rows": _with_members(request.user, page.object_list, "sender_member"),
            "box": "inbox",
        },
    )


@require_perm("members")
def sent(request):
    qs = Delivery.objects.filter(sent_by=request.user).select_related("member", "message")
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    page = paginate(request, qs)
    return render(
        request,
        "messaging/message_list.html",
        {
            "page": page,
            "rows": _with_members(request.user, page.object_list),
            "box": "sent",
            "channels": Channel.choices,
            "channel": channel,
        },
    )


@require_perm("members")
def message_detail(request, pk):
    message = get_object_or_404(
        Message.objects.filter(
            Q(recipient_staff=request.user) | Q(sender_staff=request.user)
        ).select_related("sender_member", "recipient_member", "sender_staff", "recipient_staff"),
        pk=pk,
    )
    if message.recipient_staff_id == request.user.pk and message.read_at is None:
        services.messages_mark_read(user=request.user, pks=[message.pk])
    shown = present(request.user, message.member)
    return render(request, "messaging/message_detail.html", {"message": message, "shown": shown})


def _bulk_members(request, data: QueryDict):
    """The members a bulk message goes to: the ticked ones, or the list's filter (a query)."""
    from hongniang.members.tasks import export_queryset

    ids = [pk for i in data.getlist("members") if (pk := key_param(i))]
    if ids:
        return Member.objects.filter(pk__in=ids), {"members": ids}
    query = data.get("query", "")
    return export_queryset(request.user, query), {"query": query}


@require_perm("members", "edit")
def bulk(request):
    data = request.POST if request.method == "POST" else request.GET
    members, target = _bulk_members(request, data)
    count = members.filter(pk__in=Member.objects.visible_to(request.user).values("pk")).count()
    channel = data.get("channel", Channel.INTERNAL)
    channel = channel if channel in Channel.values else Channel.INTERNAL
    pick, initial = _initial_from_template(request, channel)
    form = MessageForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.bulk_start(actor=request.user, members=members, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("jobs:detail", job.pk)
    return render(
        request,
        "messaging/bulk.html",
        {"form": form, "pick": pick, "count": count, "target": target},
    )


@require_perm("settings", "edit")
def template_list(request):
    page = paginate(request, MessageTemplate.objects.all())
    return render(request, "messaging/template_list.html", {"page": page})


@require_perm("settings", "edit")
def template_edit(request, pk=None):
    template = get_object_or_404(MessageTemplate, pk=pk) if pk else MessageTemplate()
    form = MessageTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.template_save(actor=request.user, template=form.save(commit=False))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The template was saved."))
            return redirect("member_messages:templates")
    return render(request, "messaging/template_form.html", {"form": form, "template": template})


@require_perm("settings", "edit")
@require_POST
def template_delete(request, pk):
    template = get_object_or_404(MessageTemplate, pk=pk)
    services.template_delete(actor=request.user, template=template)
    messages.success(request, _("The template was deleted."))
    return redirect("member_messages:templates")
