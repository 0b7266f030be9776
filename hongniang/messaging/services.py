"""Notices to staff, and messages to members: internal messages, email and SMS.

Every send to a member goes through `deliver`, which leaves one `Delivery` row (sent, failed or
skipped, and why) and, when sent, an event on the member's timeline. Contact data is decrypted
here and nowhere else, only to hand it to the mail or SMS backend.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.members import personal_data as pd
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.messaging import texts
from hongniang.messaging.models import (
    Channel,
    Delivery,
    DeliveryReason,
    DeliveryStatus,
    Message,
    MessageTemplate,
    Notice,
    OptOut,
)
from hongniang.messaging.sms import get_sms_backend
from hongniang.staff.permissions import can

logger = logging.getLogger(__name__)


def notify(*, recipient, text: str, link: str = "") -> Notice | None:
    if recipient is None:
        return None
    return Notice.objects.create(recipient=recipient, text=text[:300], link=link[:300])


def notices_mark_read(*, user, pks=None) -> int:
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if pks is not None:
        qs = qs.filter(pk__in=pks)
    return qs.update(read_at=timezone.now())


# --- messages to members -----------------------------------------------------------------

# Longest text per channel: an SMS of more than ~5 segments is a letter, not a text.
MAX_LENGTH = {Channel.INTERNAL: 5000, Channel.EMAIL: 5000, Channel.SMS: 300}
# Sends a member may receive per channel and day (internal messages are not limited).
DAILY_LIMIT = {Channel.EMAIL: 5, Channel.SMS: 3}


def may_message(actor) -> bool:
    """One message to one member: anyone who may see members (and sees this one)."""
    return can(actor, "members", "view")


def may_message_many(actor) -> bool:
    """Messages to many members at once: those who may edit members."""
    return can(actor, "members", "edit")


def check_draft(*, channel: str, subject: str, body: str) -> None:
    """Raise ValidationError (by field) when a message cannot be sent as written."""
    errors = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Choose a channel.")]
    if not body.strip():
        errors["body"] = [_("Write the message.")]
    elif channel in MAX_LENGTH and len(body) > MAX_LENGTH[channel]:
        errors["body"] = [
            _("At most %(n)s characters for this channel.") % {"n": MAX_LENGTH[channel]}
        ]
    if channel == Channel.EMAIL and not subject.strip():
        errors["subject"] = [_("An email needs a subject.")]
    for field, text in (("subject", subject), ("body", body)):
        if field in errors:
            continue
        try:
            texts.check_placeholders(text)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)


def _skip_reason(member: Member, channel: str) -> str:
    if channel == Channel.INTERNAL:
        return ""
    if OptOut.objects.filter(member=member, channel=channel).exists():
        return DeliveryReason.OPTED_OUT
    since = timezone.now() - timedelta(days=1)
    recent = Delivery.objects.filter(
        member=member, channel=channel, status=DeliveryStatus.SENT, created_at__gte=since
    ).count()
    if recent >= DAILY_LIMIT[channel]:
        return DeliveryReason.DAILY_LIMIT
    return ""


def _send_external(member: Member, channel: str, subject: str, body: str) -> tuple[bool, str, str]:
    """(sent?, provider reference, error). The only place that decrypts a member's mobile."""
    if channel == Channel.EMAIL:
        if not member.email:
            return False, "", DeliveryReason.NO_CONTACT
        try:
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [member.email]).send()
        except Exception as exc:  # SMTP refusals, timeouts, DNS: the row says what happened
            logger.warning("Email to member %s failed: %s", member.pk, type(exc).__name__)
            return False, "", f"{type(exc).__name__}: {exc}"[:300]
        return True, "", ""
    mobile = pd.decrypt(member.mobile_encrypted)
    if not mobile:
        return False, "", DeliveryReason.NO_CONTACT
    result = get_sms_backend().send(mobile, body)
    return result.ok, result.provider_ref, result.error


def deliver(
    *, actor, member: Member, channel: str, subject: str, body: str, job=None
) -> Delivery | None:
    """Send one message to one member (placeholders filled) and record it.

    Within a job, the delivery row is claimed before anything is sent: a job run again finds it
    and sends nothing (None). A claim left "sending" by a killed worker is not sent again.
    """
    from hongniang.siteconfig.models import SiteSettings

    values = texts.member_values(member, SiteSettings.load())
    subject, body = texts.fill(subject, values), texts.fill(body, values)
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                member=member,
                channel=channel,
                subject=subject[:200],
                body=body,
                sent_by=actor,
                job=job,
            )
    except IntegrityError:
        return None  # this job already handled this member
    reason = _skip_reason(member, channel)
    if reason:
        delivery.status, delivery.reason_code = DeliveryStatus.SKIPPED, reason
    elif channel == Channel.INTERNAL:
        delivery.message = Message.objects.create(
            sender_staff=actor, recipient_member=member, subject=subject[:200], body=body
        )
        delivery.status = DeliveryStatus.SENT
    else:
        ok, ref, error = _send_external(member, channel, subject, body)
        delivery.provider_ref = ref[:100]
        if ok:
            delivery.status = DeliveryStatus.SENT
        elif error == DeliveryReason.NO_CONTACT:
            delivery.status, delivery.reason_code = DeliveryStatus.FAILED, error
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.reason_code, delivery.detail = DeliveryReason.SEND_ERROR, error[:300]
    with transaction.atomic():
        delivery.save()
        if delivery.status == DeliveryStatus.SENT:
            MemberEvent.objects.create(
                member=member,
                actor=actor,
                kind=EventKind.MESSAGE,
                summary=f"{Channel(channel).label}: {subject or body}"[:300],
                data={"channel": channel, "delivery": delivery.pk},
            )
    return delivery


def _require_visible(actor, member: Member) -> None:
    if not may_message(actor):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied


def message_send(*, actor, member: Member, channel: str, subject: str, body: str) -> Delivery:
    """A staff user writes to one member they may see, over one channel."""
    _require_visible(actor, member)
    check_draft(channel=channel, subject=subject, body=body)
    return deliver(actor=actor, member=member, channel=channel, subject=subject, body=body)


def message_from_member(*, member: Member, to, body: str, subject: str = "", reply_to=None):
    """A member writes to a staff user (from the public site): their matchmaker, or whoever
    wrote the message they answer."""
    if not body.strip() or len(body) > MAX_LENGTH[Channel.INTERNAL]:
        raise ValidationError({"body": _("Write the message (at most 5000 characters).")})
    if reply_to is not None and reply_to.recipient_member_id != member.pk:
        raise PermissionDenied
    allowed = {member.presales_owner_id, member.aftersales_owner_id}
    if reply_to is not None:
        allowed.add(reply_to.sender_staff_id)
    if to is None or to.pk not in allowed:
        raise PermissionDenied
    return Message.objects.create(
        sender_member=member,
        recipient_staff=to,
        subject=subject[:200],
        body=body,
        reply_to=reply_to,
    )


def member_message_read(*, member: Member, message: Message) -> None:
    """The member opened a message (the public site calls this): the sender sees it read."""
    if message.recipient_member_id != member.pk:
        raise PermissionDenied
    if message.read_at is None:
        Message.objects.filter(pk=message.pk).update(read_at=timezone.now())


def messages_mark_read(*, user, pks) -> int:
    return Message.objects.filter(recipient_staff=user, read_at__isnull=True, pk__in=pks).update(
        read_at=timezone.now()
    )


@transaction.atomic
def opt_out_set(*, actor, member: Member, channel: str, refused: bool) -> None:
    """Record (or lift) a member's refusal of SMS or email; the timeline says who and when."""
    _require_visible(actor, member)
    if channel not in (Channel.SMS, Channel.EMAIL):
        raise ValidationError(_("Members can refuse only SMS or email."))
    if refused:
        _obj, changed = OptOut.objects.get_or_create(
            member=member, channel=channel, defaults={"recorded_by": actor}
        )
    else:
        changed = bool(OptOut.objects.filter(member=member, channel=channel).delete()[0])
    if changed:
        label = Channel(channel).label
        MemberEvent.objects.create(
            member=member,
            actor=actor,
            kind=EventKind.UPDATED,
            summary=(_("Refuses %(channel)s") if refused else _("Accepts %(channel)s again"))
            % {"channel": label},
            data={"opt_out": channel, "refused": refused},
        )


def _require_templates(actor):
    if not can(actor, "settings", "edit"):
        raise PermissionDenied


@transaction.atomic
def template_save(*, actor, template: MessageTemplate) -> MessageTemplate:
    _require_templates(actor)
    errors = {}
    for field in ("subject", "body"):
        try:
            texts.check_placeholders(getattr(template, field))
        except ValidationError as exc:
            errors[field] = exc.messages
    if template.channel == Channel.SMS and len(template.body) > MAX_LENGTH[Channel.SMS]:
        errors.setdefault("body", []).append(
            _("At most %(n)s characters for this channel.") % {"n": MAX_LENGTH[Channel.SMS]}
        )
    if errors:
        raise ValidationError(errors)
    if template.pk is None:
        template.created_by = actor
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_delete(*, actor, template: MessageTemplate) -> None:
    _require_templates(actor)
    template.delete()


# --- many members at once ------------------------------------------------------------------


def bulk_start(*, actor, channel: str, subject: str, body: str, members):
    """Queue a job that sends the message to each of `members` (a queryset the caller built,
    narrowed here to those the actor may see); at most MESSAGING_BULK_MAX of them."""
    from hongniang.jobs.models import JobKind
    from hongniang.jobs.services import job_start
    from hongniang.messaging import tasks

    if not may_message_many(actor):
        raise PermissionDenied
    check_draft(channel=channel, subject=subject, body=body)
    visible = Member.objects.visible_to(actor).values("pk")
    ids = list(
        members.filter(pk__in=visible)
        .order_by("pk")
        .values_list("pk", flat=True)[: settings.MESSAGING_BULK_MAX + 1]
    )
    if not ids:
        raise ValidationError(_("No members to send to."))
    if len(ids) > settings.MESSAGING_BULK_MAX:
        raise ValidationError(
            _("At most %(n)s members per bulk message: narrow the list.")
            % {"n": settings.MESSAGING_BULK_MAX}
        )
    return job_start(
        actor=actor,
        kind=JobKind.BULK_MESSAGE,
        title=_("%(channel)s to %(count)s member(s)")
        % {"channel": Channel(channel).label, "count": len(ids)},
        work_task=tasks.bulk_message,
        params={"channel": channel, "subject": subject, "body": body, "member_ids": ids},
    )
