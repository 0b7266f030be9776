"""Follow-ups (跟进记录 / 服务小记, whitepaper 2.4.2, 2.5.1, 2.5.2): the matchmaker's notes of each
contact with a member. Visible to whoever may see the member (scoped through the member)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from hongniang.members.models import AllocationKind, Member


class Intention(models.TextChoices):
    """客户意向."""

    STRONG = "strong", _("Strong intention")
    MEDIUM = "medium", _("Medium intention")
    WEAK = "weak", _("Weak intention")
    NONE = "none", _("No intention")


class SignState(models.TextChoices):
    """签约状态 as the matchmaker judges it after this contact (the member's stage changes only
    through the journey)."""

    NOT_SIGNED = "not_signed", _("Not signed")
    NEGOTIATING = "negotiating", _("Negotiating")
    AGREED = "agreed", _("Agreed to sign")
    SIGNED = "signed", _("Signed")


class UnsignedReason(models.TextChoices):
    """未签约原因."""

    PRICE = "price", _("Price")
    DISTANCE = "distance", _("Distance")
    NOT_READY = "not_ready", _("Not ready yet")
    COMPARING = "comparing", _("Comparing agencies")
    OTHER = "other", _("Other reason")


class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A follow-up is visible exactly when its member is (DESIGN.md: child records are scoped
        through their member): a peer team never reads another team's notes."""
        return self.filter(member__in=Member.objects.visible_to(user).values("pk"))


class FollowUp(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="follow_ups")
    author = models.ForeignKey(
        "staff.Staff", verbose_name=_("followed up by"), on_delete=models.PROTECT, related_name="+"
    )
    # Pre-sales follow-up (售前跟进) or after-sales service note (服务小记): the member's stage
    # when it was written (signed members are in after-sales service).
    phase = models.CharField(_("kind"), max_length=12, choices=AllocationKind.choices)
    effective = models.BooleanField(_("effective contact"), default=True)
    intention = models.CharField(
        _("intention"), max_length=12, choices=Intention.choices, blank=True
    )
    sign_state = models.CharField(
        _("sign state"), max_length=12, choices=SignState.choices, blank=True
    )
    unsigned_reason = models.CharField(
        _("reason for not signing"), max_length=12, choices=UnsignedReason.choices, blank=True
    )
    contacted_at = models.DateTimeField(_("this contact"))
    next_contact_at = models.DateTimeField(_("next contact"), null=True, blank=True)
    remark = models.TextField(_("remark"), max_length=2000)
    # Stored as ",tag1,tag2," so that one tag is found exactly with `tags__contains=",tag,"`.
    tags = models.CharField(_("tags"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["-contacted_at", "-pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["member", "contacted_at"], name="followup_member"),
            models.Index(fields=["author", "contacted_at"], name="followup_author"),
            # Follow-ups done this month, on the home page.
            models.Index(fields=["contacted_at", "member"], name="followup_contacted"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.contacted_at:%Y-%m-%d}"

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


def join_tags(tags) -> str:
    """The stored form of a list of tags: trimmed, without repeats, ",a,b," (or "")."""
    unique = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
    return f",{','.join(unique)}," if unique else ""
