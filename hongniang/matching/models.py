"""The match library (配对库), appointments (约见) and introduction requests (委托红娘).

Every row hangs off members and is scoped through them (`member__...`), never by a rule of its own.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _

from hongniang.matching import counters
from hongniang.workbench.history import HistoricalRecords


class RecommendationStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    VIEWED = "viewed", _("Viewed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class DeclineReason(models.TextChoices):
    """Why a member declined; the engine's feedback vocabulary (反选)."""

    TOO_OLD = "too_old", _("Too old")
    TOO_YOUNG = "too_young", _("Too young")
    TOO_FAR = "too_far", _("Lives too far away")
    EDUCATION = "education", _("Education")
    INCOME = "income", _("Income")
    HEIGHT_SHORT = "too_short", _("Too short")
    HEIGHT_TALL = "too_tall", _("Too tall")
    APPEARANCE = "appearance", _("Appearance")
    MARITAL = "marital", _("Marital history")
    CHILDREN = "children", _("Children")
    NOT_MY_TYPE = "not_my_type", _("Not interested in this type")


class Recommendation(models.Model):
    """A matchmaker recommends `candidate` to `member`, with a written reason."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="recommendations",
    )
    candidate = models.ForeignKey(
        "members.Member",
        verbose_name=_("candidate"),
        on_delete=models.CASCADE,
        related_name="recommended_as",
    )
    recommended_by = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("recommended by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), max_length=1000)
    score = models.PositiveSmallIntegerField(_("match score"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RecommendationStatus.choices,
        default=RecommendationStatus.SENT,
    )
    decline_reasons = models.JSONField(_("decline reasons"), default=list, blank=True)
    answer_note = models.CharField(_("answer note"), max_length=300, blank=True)
    answered_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("recommended at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(member=F("candidate")), name="recommendation_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "candidate"], name="rec_pair"),
            # Recommendations waiting for an answer (the home page's count): about half of
            # them, read from this index alone instead of the whole table.
            models.Index(
                fields=["member"],
                condition=Q(status__in=[RecommendationStatus.SENT, RecommendationStatus.VIEWED]),
                name="rec_unanswered",
            ),
        ]

    def __str__(self):
        return f"{self.member_id} ← {self.candidate_id}"

    @property
    def decline_reason_labels(self) -> list[str]:
        labels = dict(DeclineReason.choices)
        return [str(labels.get(r, r)) for r in self.decline_reasons]


class Boost(models.Model):
    """A matchmaker pins or raises a candidate for a member; shown as such in the library."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="boosts")
    candidate = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    pin = models.BooleanField(_("pinned"), default=False)
    points = models.PositiveSmallIntegerField(_("extra points"), default=0)
    by = models.ForeignKey("staff.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "candidate"], name="boost_unique_pair")
        ]

    def __str__(self):
        return f"{self.member_id} ↑ {self.candidate_id}"


class MatchStats(models.Model):
    """Per-member counters (whitepaper 2.5.3 "系统自动记录会员被匹配的次数"), kept by services."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, related_name="match_stats", primary_key=True
    )
    times_matched = models.PositiveIntegerField(_("times matched"), default=0)
    times_recommended = models.PositiveIntegerField(_("times recommended to others"), default=0)
    times_received = models.PositiveIntegerField(_("recommendations received"), default=0)
    # Appointments the member takes part in (either side), all and still planned: the
    # appointment lists filter members by them. Set by `counters.count_appointments` in the
    # transaction of every change to an appointment; a member without a row has none.
    appointments = models.PositiveIntegerField(_("appointments"), default=0)
    appointments_planned = models.PositiveIntegerField(_("planned appointments"), default=0)

    class Meta:
        indexes = [
            models.Index(fields=["appointments"], name="stats_appointments"),
            models.Index(fields=["appointments_planned"], name="stats_appointments_planned"),
        ]

    def __str__(self):
        return str(self.member_id)


class AppointmentStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class AppointmentOutcome(models.TextChoices):
    CONTINUE = "continue", _("Continue")
    STOP = "stop", _("Stop")


class Appointment(models.Model):
    """A meeting (约见) between two members arranged by a matchmaker.

    `member` is the side that arranged it, `partner` the other side (often another team's).
    Each side's matchmaker changes only the fields of their side (SIDE_FIELDS)."""

    SIDE_FIELDS = {
        "member": (
            "starts_at",
            "place",
            "status",
            "outcome",
            "notes",
            "member_attended",
            "member_feedback",
        ),
        "partner": ("partner_attended", "partner_feedback"),
    }

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="appointments",
    )
    partner = models.ForeignKey(
        "members.Member",
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="appointments_as_partner",
    )
    starts_at = models.DateTimeField(_("time"))
    place = models.CharField(_("place"), max_length=200)
    arranged_by = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("arranged by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.PLANNED,
    )
    member_attended = models.BooleanField(_("member attended"), null=True, blank=True)
    member_feedback = models.TextField(_("member's feedback"), max_length=1000, blank=True)
    partner_attended = models.BooleanField(_("partner attended"), null=True, blank=True)
    partner_feedback = models.TextField(_("partner's feedback"), max_length=1000, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=AppointmentOutcome.choices, blank=True
    )
    notes = models.TextField(_("notes"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(condition=~Q(member=F("partner")), name="appointment_not_self"),
        ]
        # The lists, newest first, with or without a status; the sides' keys ride along so that
        # a page checks them against the viewer's members in the index (`touching_visible`).
        indexes = [
            models.Index(fields=["starts_at", "id", "member", "partner"], name="appt_list"),
            models.Index(
                fields=["status", "starts_at", "id", "member", "partner"], name="appt_status_list"
            ),
        ]

    def __str__(self):
        return f"{self.member_id} & {self.partner_id} {self.starts_at:%Y-%m-%d}"

    def clean(self):
        if self.outcome and self.status != AppointmentStatus.HELD:
            raise ValidationError({"outcome": _("Only a held appointment has an outcome.")})


post_delete.connect(
    counters.appointment_deleted, sender=Appointment, dispatch_uid="appointment_counters"
)


class IntroductionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ARRANGED = "arranged", _("Arranged")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class IntroductionRequest(models.Model):
    """A member asks to be introduced to another member ("我要认识他/她")."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="introduction_requests",
    )
    target = models.ForeignKey(
        "members.Member",
        verbose_name=_("wants to meet"),
        on_delete=models.CASCADE,
        related_name="introduction_requests_in",
    )
    message = models.TextField(_("message"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=IntroductionStatus.choices,
        default=IntroductionStatus.OPEN,
    )
    entered_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    closed_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    close_note = models.CharField(_("note"), max_length=300, blank=True)
    appointment = models.OneToOneField(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="introduction"
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("introduction request")
        verbose_name_plural = _("introduction requests")
        constraints = [
            models.CheckConstraint(condition=~Q(member=F("target")), name="introduction_not_self"),
        ]
        indexes = [  # the list, as for appointments
            models.Index(fields=["created_at", "id", "member", "target"], name="intro_list"),
            models.Index(
                fields=["status", "created_at", "id", "member", "target"], name="intro_status_list"
            ),
        ]

    def __str__(self):
        return f"{self.member_id} → {self.target_id}"


class MatchSeen(models.Model):
    """A candidate first shown in a member's match list; counts "times matched" once per pair."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "candidate"], name="match_seen_unique_pair")
        ]

    def __str__(self):
        return f"{self.member_id} saw {self.candidate_id}"


class EngineChangeKind(models.TextChoices):
    MEMBER = "member", _("Member profile, preferences or state")
    FEEDBACK = "feedback", _("Answer to a recommendation")
    INTERACTION = "interaction", _("Behaviour (appointment, introduction)")
    BOOST = "boost", _("Boost set")
    UNBOOST = "unboost", _("Boost removed")
    SETTINGS = "settings", _("Matching settings")


class EngineChange(models.Model):
    """The engine change log: one row per change that affects matching, written in the same
    transaction as the change. Every process applies the rows it has not seen before it
    answers (`index.get_engine`), so all processes agree; the worker folds the log into a
    snapshot from time to time (`index.build_snapshot`). Rows carry what the engine needs to
    replay an event (`data`); a member row is re-read from the members table."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=16, choices=EngineChangeKind.choices)
    # No foreign keys: the log outlives the rows it speaks of (a deleted member).
    member_id = models.BigIntegerField(null=True)
    other_id = models.BigIntegerField(null=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("engine change")
        verbose_name_plural = _("engine changes")

    def __str__(self):
        return f"{self.pk} {self.kind} {self.member_id}"


class LearnReason(models.TextChoices):
    TOO_FEW = "too_few", _("Too few outcomes")
    ONE_ANSWER_ONLY = "one_answer_only", _("Only one kind of answer")
    NOT_BETTER = "not_better", _("Not better than the defaults on the check")
    NO_ENGINE = "no_engine", _("The matching engine was not ready")


class MatchModel(models.Model):
    """One run of the nightly learning step: the coefficients of the directional yes-model
    (engine `Model`) fitted to the agency's outcomes, the sizes of the older (training) and
    latest (check) parts, and the check's AUC beside the defaults'. Only an accepted run
    replaces the defaults; the engine uses the newest accepted one."""

    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    trained_on = models.PositiveIntegerField(_("training outcomes"), default=0)
    checked_on = models.PositiveIntegerField(_("check outcomes"), default=0)
    check_auc = models.FloatField(_("check AUC"), null=True, blank=True)
    default_auc = models.FloatField(_("defaults' check AUC"), null=True, blank=True)
    accepted = models.BooleanField(_("in use"), default=False)
    reason = models.CharField(
        _("why not used"), max_length=20, choices=LearnReason.choices, blank=True
    )
    intercept = models.FloatField(_("intercept"))
    fit = models.FloatField(_("stated-preference fit"))
    appeal = models.FloatField(_("appeal (chosen-rate)"))
    selectivity = models.FloatField(_("openness (yes-rate)"))
    collaborative = models.FloatField(_("collaborative signal"))
    # Runs stored before these were learned keep the engine's defaults (`Model`).
    declined = models.FloatField(_("reasons to decline"), default=2.0)
    liked = models.FloatField(_("resemblance to liked people"), default=1.0)
    # Pseudo-answers of the rates' Beta prior the run chose; NULL: the engine's default.
    rate_prior = models.FloatField(_("rates' prior (pseudo-answers)"), null=True, blank=True)

    class Meta:
        ordering = ["-trained_at", "-pk"]
        verbose_name = _("learned matching model")
        verbose_name_plural = _("learned matching models")
        indexes = [models.Index(fields=["accepted", "-trained_at"], name="match_model_in_use")]

    def __str__(self):
        return f"{self.trained_at:%Y-%m-%d} {'accepted' if self.accepted else self.reason}"


class OptInAnswer(models.TextChoices):
    NONE = "", _("No answer yet")
    YES = "yes", _("Yes")
    NO = "no", _("No")
    WITHDRAWN = "withdrawn", _("Withdrew the yes")


class OptInState(models.TextChoices):
    OPEN = "open", _("Waiting for an answer")
    MUTUAL = "mutual", _("Both said yes")
    DECLINED = "declined", _("Not this time")
    ENDED = "ended", _("Ended by a matchmaker")


def optin_state(low: str, high: str, ended: bool) -> str:
    """The pair's state from the two answers: revealed (mutual) exactly when both say yes now
    and no matchmaker ended it; a no or a withdrawn yes on either side is "not this time"."""
    if ended:
        return OptInState.ENDED
    if low == OptInAnswer.YES and high == OptInAnswer.YES:
        return OptInState.MUTUAL
    if {low, high} & {OptInAnswer.NO, OptInAnswer.WITHDRAWN}:
        return OptInState.DECLINED
    return OptInState.OPEN


class OptIn(models.Model):
    """Double opt-in of two members (issue 13): each side's answer about the other, whatever
    proposed them (a matchmaker's recommendation, the engine's suggestion, the masked card the
    other side receives after a first yes). One row per pair, the lower key first; the state is
    kept with the answers (`optin_state`) for the lists. Names and photos are revealed to each
    only while the state is "mutual"; contact details never are."""

    low = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    low_answer = models.CharField(
        _("answer"), max_length=10, choices=OptInAnswer.choices, blank=True, default=""
    )
    high_answer = models.CharField(
        _("answer"), max_length=10, choices=OptInAnswer.choices, blank=True, default=""
    )
    # The reasons of a no, for the staff and the engine; never shown to the other member.
    low_reasons = models.JSONField(default=list, blank=True)
    high_reasons = models.JSONField(default=list, blank=True)
    low_answered_at = models.DateTimeField(null=True, blank=True)
    high_answered_at = models.DateTimeField(null=True, blank=True)
    # Who said yes first (the other side receives the masked card), and how they were proposed.
    first = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=4, blank=True)  # "rec" or "sug"
    state = models.CharField(
        _("state"), max_length=10, choices=OptInState.choices, default=OptInState.OPEN
    )
    mutual_at = models.DateTimeField(_("both said yes at"), null=True, blank=True)
    # The introduction the matchmakers arrange once both said yes (their to-do).
    introduction = models.ForeignKey(
        IntroductionRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("double opt-in")
        verbose_name_plural = _("double opt-ins")
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="optin_unique_pair"),
            models.CheckConstraint(condition=Q(low__lt=F("high")), name="optin_ordered_pair"),
        ]
        indexes = [
            models.Index(fields=["high", "state"], name="optin_high_state"),
            models.Index(fields=["low", "state"], name="optin_low_state"),
        ]

    def __str__(self):
        return f"{self.low_id} & {self.high_id} {self.state}"

    def side(self, member_id: int) -> str:
        if member_id == self.low_id:
            return "low"
        if member_id == self.high_id:
            return "high"
        raise ValueError(member_id)

    def other_side(self, member_id: int) -> str:
        return "high" if self.side(member_id) == "low" else "low"

    def answer_of(self, member_id: int) -> str:
        return getattr(self, f"{self.side(member_id)}_answer")

    def other_id(self, member_id: int) -> int:
        return self.high_id if self.side(member_id) == "low" else self.low_id

    @property
    def revealed(self) -> bool:
        return self.state == OptInState.MUTUAL

    def waits_for(self, member_id: int) -> bool:
        """The other side said yes and this one has not answered: the masked card is theirs."""
        return (
            self.state == OptInState.OPEN
            and self.answer_of(member_id) == OptInAnswer.NONE
            and getattr(self, f"{self.other_side(member_id)}_answer") == OptInAnswer.YES
        )


class AnswerVia(models.TextChoices):
    RECOMMENDATION = "rec", _("A matchmaker's recommendation")
    SUGGESTION = "sug", _("A daily suggestion")
    CARD = "card", _("A masked card")


class Answer(models.Model):
    """A member's first yes or no about another member, whatever proposed the pair: what the
    engine learned from (`services.feedback_record` writes it and only then tells the engine)
    and what the learning step counts (`selectors.learning_outcomes`). One row per direction,
    never changed: a later answer about the same member (a second recommendation of the pair,
    a change of mind) or a withdrawn yes moves the pair's `OptIn`, not what was learned."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    accepted = models.BooleanField(_("yes"))
    reasons = models.JSONField(_("decline reasons"), default=list, blank=True)
    via = models.CharField(_("answered"), max_length=4, choices=AnswerVia.choices)
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["member", "other"], name="answer_once_per_direction"),
            models.CheckConstraint(condition=~Q(member=F("other")), name="answer_not_self"),
        ]
        # Read in time order by the learning step and the engine's full build.
        indexes = [models.Index(fields=["answered_at", "id"], name="answer_time")]

    def __str__(self):
        return f"{self.member_id} → {self.other_id} {'yes' if self.accepted else 'no'}"
