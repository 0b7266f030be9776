"""The member centre's own records: staff logging in as a member (whitepaper 2.5.1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ImpersonationEnd(models.TextChoices):
    RETURNED = "returned", _("Returned to the workbench")
    STAFF_LOGOUT = "staff_logout", _("Staff logged out")
    SESSION_REPLACED = "session_replaced", _("Another login in the same browser")
    RIGHT_LOST = "right_lost", _("The right or the member's visibility was lost")
    EXPIRED = "expired", _("The staff session expired")


class Impersonation(models.Model):
    """One time a staff user browsed the member centre as a member: who, whom, from when to when.

    The identity taken is the member's account, never a staff user: the staff session stays what
    it was, and the member centre reads the member from this row."""

    staff = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("staff"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(
        _("how it ended"), max_length=20, choices=ImpersonationEnd.choices, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("login as a member")
        verbose_name_plural = _("logins as a member")

    def __str__(self):
        return f"{self.staff_id} → {self.member_id}"


class ResetCode(models.Model):
    """A password-reset code sent by SMS: only its hash is kept; it expires, is used once,
    and admits a few wrong tries before it is spent."""

    account = models.ForeignKey(
        "frontdesk.MemberAccount", on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"], name="reset_code_account")]

    def __str__(self):
        return f"{self.account_id} {self.created_at:%Y-%m-%d %H:%M}"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", _("Awaiting my answer")
    INTERESTED = "interested", _("Interested")
    DECLINED = "declined", _("Not interested")


class Suggestion(models.Model):
    """One of the engine's suggestions of the day for a member (the member centre's cached
    top-k): computed once a day per member, or topped up after an answer, never per page view.
    The explanations are kept as the engine wrote them, in both directions."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    rank = models.PositiveSmallIntegerField(default=0)
    score = models.PositiveSmallIntegerField(default=0)
    # Lines of "why": how the candidate fits the member's wishes, and the member theirs.
    fits_mine = models.JSONField(default=list, blank=True)
    fits_theirs = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=12, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    decline_reasons = models.JSONField(default=list, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day", "rank", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "day", "candidate"], name="suggestion_unique_per_day"
            )
        ]
        indexes = [models.Index(fields=["member", "day", "rank"], name="suggestion_member_day")]

    def __str__(self):
        return f"{self.member_id} ← {self.candidate_id} {self.day}"


class InteractionKind(models.TextChoices):
    VIEW = "view", _("Viewed a profile")
    ANSWER = "answer", _("Answered a suggestion")
    REQUEST = "request", _("Asked to meet")
    MESSAGE = "message", _("Wrote a message")
    PROFILE = "profile", _("Changed the profile")
    PHOTO = "photo", _("Uploaded a photo")
    FEEDBACK = "feedback", _("Gave feedback on an appointment")


class Interaction(models.Model):
    """Everything a member does in the member centre, for the member analysis (the engine gets
    its share through the engine change log, written in the same transaction)."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="centre_interactions"
    )
    kind = models.CharField(max_length=12, choices=InteractionKind.choices)
    # The other member concerned, if any (no foreign key: the record outlives a deletion).
    other_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["member", "created_at"], name="interaction_member"),
            models.Index(fields=["kind", "created_at"], name="interaction_kind"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.kind} {self.other_id}"
