"""Family profiles (issue 13): a parent or relative opens an account of their own and drafts a
profile for an adult child, who is invited by SMS to review and approve it.

The draft is a member row from the start (staff follow the relative up as a lead, and the child
confirms the very record staff see), but it is hidden from matching (`Member.is_hidden`: the
engine, `matching.selectors.offerable_q`, the public site and its search and sitemap all leave
hidden members out) until the child approves it. Declined, it is deleted (README: family
profiles)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from hongniang.workbench.history import HistoricalRecords


class Relationship(models.TextChoices):
    FATHER = "father", _("Father")
    MOTHER = "mother", _("Mother")
    RELATIVE = "relative", _("Other relative")


class RelativeAccount(models.Model):
    """The relative's own login: not a member (never matched), a mobile and a password."""

    name = models.CharField(_("name"), max_length=30)
    mobile_encrypted = models.TextField(editable=False, blank=True)
    mobile_hash = models.CharField(max_length=64, editable=False, unique=True)
    mobile_masked = models.CharField(_("mobile"), max_length=16, editable=False, blank=True)
    password = models.CharField(max_length=128)
    is_active = models.BooleanField(_("active"), default=True)
    last_login = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login", "mobile_encrypted"])

    class Meta:
        verbose_name = _("relative's account")
        verbose_name_plural = _("relatives' accounts")

    def __str__(self):
        return f"{self.name} {self.mobile_masked}"

    def set_password(self, raw: str) -> None:
        from django.contrib.auth.hashers import make_password

        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        from django.contrib.auth.hashers import check_password

        return check_password(raw, self.password)


class DraftState(models.TextChoices):
    PENDING = "pending", _("Drafted by a relative · awaiting the member's own confirmation")
    APPROVED = "approved", _("Confirmed by the member")
    DECLINED = "declined", _("Declined by the member: withdrawn")
    EXPIRED = "expired", _("Not confirmed in time: withdrawn")


class FamilyProfile(models.Model):
    """One profile a relative drafted, its invitation and the child's answer."""

    relative = models.ForeignKey(
        RelativeAccount,
        verbose_name=_("relative"),
        on_delete=models.CASCADE,
        related_name="drafts",
    )
    # None once declined (the member's data is deleted) or when the child's mobile or ID was
    # already on file (nothing is drafted, the relative is answered as for any draft).
    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="family_profile",
    )
    relationship = models.CharField(_("relationship"), max_length=10, choices=Relationship.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=DraftState.choices, default=DraftState.PENDING
    )
    # The child's switch in their member centre: the relative sees their introductions.
    share_introductions = models.BooleanField(
        _("the relative may see the introductions"), default=False
    )
    # The invitation: only a hash of the token is kept; a new one replaces the old.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    token_expires_at = models.DateTimeField(_("invitation valid until"), null=True, blank=True)
    invited_at = models.DateTimeField(_("last invited at"), null=True, blank=True)
    invitations = models.PositiveSmallIntegerField(_("invitations sent"), default=0)
    # When the child approved (their consent to be a member) or declined.
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("drafted at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("family profile")
        verbose_name_plural = _("family profiles")

    def __str__(self):
        return f"{self.relative_id} → {self.member_id} ({self.state})"
