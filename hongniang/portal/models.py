"""The member centre's own records: staff logging in as a member (whitepaper 2.5.1); and the
public site's success stories (whitepaper 2.5.8)."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from hongniang.members.storage import member_files, random_photo_name
from hongniang.workbench.history import HistoricalRecords


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


class RevealKind(models.TextChoices):
    CARD = "card", _("Opened the revealed card")
    PHOTO = "photo", _("Viewed a revealed photo")
    NAME = "name", _("Saw the revealed name on a list")


class Reveal(models.Model):
    """One time a member saw what double opt-in reveals of another (name, photos): who, whose,
    what and when (issue 13). Staff read it on the member's activity panel."""

    viewer = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    shown = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=RevealKind.choices)
    photo_id = models.BigIntegerField(null=True, blank=True)
    # A staff user browsing as the member (the member did not see it themselves).
    staff = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["viewer", "created_at"], name="reveal_viewer"),
            models.Index(fields=["shown", "created_at"], name="reveal_shown"),
        ]

    def __str__(self):
        return f"{self.viewer_id} saw {self.shown_id} {self.kind}"


class SuccessStory(models.Model):
    """成功案例 (whitepaper 2.5.8): a couple the agency brought together, published on the public
    site only with both members' recorded consent."""

    title = models.CharField(_("title"), max_length=80)
    member_a = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    member_b = models.ForeignKey(
        "members.Member",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Consent is personal and revocable: when each member agreed, and who recorded it.
    consent_a_on = models.DateField(_("member's consent given on"))
    consent_a_by = models.ForeignKey(
        "staff.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    consent_b_on = models.DateField(_("partner's consent given on"))
    consent_b_by = models.ForeignKey(
        "staff.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    text = models.TextField(_("story"), max_length=5000)
    happened_on = models.DateField(_("date"))
    # The store of the member's team when written, for the public list's filter.
    store = models.ForeignKey(
        "staff.Store",
        verbose_name=_("store"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published = models.BooleanField(_("published"), default=False)
    created_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-happened_on", "-pk"]
        verbose_name = _("success story")
        verbose_name_plural = _("success stories")
        constraints = [
            models.CheckConstraint(condition=~Q(member_a=F("member_b")), name="story_two_members")
        ]
        indexes = [models.Index(fields=["published", "happened_on"], name="story_public")]

    def __str__(self):
        return self.title


class StoryPhoto(models.Model):
    """A story's photo: kept with members' files (a couple's picture is personal until the story
    is published) and served through the story's public view."""

    story = models.ForeignKey(SuccessStory, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        _("photo"), upload_to=random_photo_name, storage=member_files, max_length=200
    )
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("story photo")
        verbose_name_plural = _("story photos")

    def __str__(self):
        return f"{self.story_id}:{self.pk}"
