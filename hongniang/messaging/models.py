from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Notice(models.Model):
    """An internal notice (站内通知) to one staff user, shown under the bell in the top bar."""

    recipient = models.ForeignKey("staff.Staff", on_delete=models.CASCADE, related_name="notices")
    text = models.CharField(_("text"), max_length=300)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_unread")]

    def __str__(self):
        return self.text


class Channel(models.TextChoices):
    INTERNAL = "internal", _("Internal message")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    SMS = "sms", _("SMS")


class Message(models.Model):
    """An internal message (站内消息, whitepaper 2.5.7) between a staff user and a member, either
    way: staff write to members from the workbench, members answer from the public site.

    Exactly one sender and one recipient; one side is staff and the other a member.
    """

    sender_staff = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("sender"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sent_messages",
    )
    sender_member = models.ForeignKey(
        "members.Member",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sent_messages",
    )
    recipient_staff = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="received_messages",
    )
    recipient_member = models.ForeignKey(
        "members.Member",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="received_messages",
    )
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Staff write to members and members to staff: never staff↔staff (notices do
            # that) nor member↔member.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        sender_member__isnull=True,
                        recipient_staff__isnull=True,
                        recipient_member__isnull=False,
                    )
                    | models.Q(
                        sender_staff__isnull=True,
                        sender_member__isnull=False,
                        recipient_member__isnull=True,
                        recipient_staff__isnull=False,
                    )
                ),
                name="message_staff_member_pair",
            )
        ]
        indexes = [
            models.Index(fields=["recipient_staff", "read_at"], name="message_staff_unread"),
            models.Index(fields=["sender_staff", "created_at"], name="message_staff_sent"),
            models.Index(fields=["recipient_member", "read_at"], name="message_member_unread"),
        ]

    def __str__(self):
        return self.subject or self.body[:30]

    @property
    def member(self):
        """The member side of the conversation."""
        return self.recipient_member or self.sender_member


class MessageTemplate(models.Model):
    """A text staff reuse for messages, with placeholders such as {name} (see `placeholders`)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=Channel.choices,
        blank=True,
        help_text=_("Empty: any channel."),
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=5000)
    is_active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self):
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Sending")
    SENT = "sent", pgettext_lazy("delivery", "Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class DeliveryReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("The member refused this channel")
    NO_CONTACT = "no_contact", _("No address or number for this channel")
    DAILY_LIMIT = "daily_limit", _("Daily limit for this member reached")
    SEND_ERROR = "send_error", _("The provider refused or could not be reached")
    INTERRUPTED = "interrupted", _("Interrupted; not sent again to avoid a duplicate")


class Delivery(models.Model):
    """One message to one member over one channel, whatever became of it: sent, failed (and
    why) or skipped (opted out, no contact, limit). A bulk job has at most one per member, which
    is what makes running the job again send nothing twice."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    reason_code = models.CharField(
        _("why not sent"), max_length=20, choices=DeliveryReason.choices, blank=True
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=5000)
    sent_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="delivery"
    )
    provider_ref = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "member"],
                condition=models.Q(job__isnull=False),
                name="delivery_once_per_job",
            )
        ]
        indexes = [
            models.Index(fields=["member", "channel", "created_at"], name="delivery_member_day"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.channel} {self.status}"


class OptOut(models.Model):
    """A member who refused messages over a channel (SMS or email): they are skipped."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "channel"], name="optout_member_channel")
        ]

    def __str__(self):
        return f"{self.member_id} {self.channel}"
