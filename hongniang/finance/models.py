"""Finance (whitepaper 2.6): service plans, contracts approved by finance, payments, refunds.

Money is `Decimal` with two places, never float. A contract's terms are frozen once it takes
effect: the model refuses to save a change to them, whoever asks (`Contract.save`, the queryset's
`update` and the plans relation all check), and the services refuse before that with a message.
What may still change on an effective contract is what happens to it afterwards: the money
received and refunded, and its refund state.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hongniang.members.models import Member
from hongniang.members.storage import member_files
from hongniang.staff.visibility import DataScope, Unindexed, user_scope
from hongniang.workbench.history import HistoricalRecords

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class FeeType(models.TextChoices):
    ONE_OFF = "one_off", _("One-off fee")
    PERIODIC = "periodic", _("Activation fee + monthly fee")
    SUCCESS = "success", _("Success fee")
    MIXED = "mixed", _("Mixed")


class ServicePlan(models.Model):
    """服务套餐: what a member buys, and what the agency promises in return each month."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    fee_type = models.CharField(_("fee type"), max_length=12, choices=FeeType.choices)
    price = models.DecimalField(_("price (one-off or activation)"), default=ZERO, **MONEY)
    monthly_fee = models.DecimalField(_("monthly fee"), default=ZERO, **MONEY)
    success_fee = models.DecimalField(_("success fee"), default=ZERO, **MONEY)
    duration_months = models.PositiveSmallIntegerField(_("duration (months)"))
    introductions_per_month = models.PositiveSmallIntegerField(
        _("introductions promised per month"), default=0
    )
    dates_per_month = models.PositiveSmallIntegerField(
        _("arranged dates promised per month"), default=0
    )
    description = models.TextField(_("description"), max_length=1000, blank=True)
    active = models.BooleanField(_("on sale"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-active", "sort_order", "pk"]
        verbose_name = _("service plan")
        verbose_name_plural = _("service plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0) & Q(monthly_fee__gte=0) & Q(success_fee__gte=0),
                name="plan_fees_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(duration_months__gte=1, duration_months__lte=120),
                name="plan_duration_plausible",
            ),
        ]

    def __str__(self):
        return self.name


class PaymentType(models.TextChoices):
    FULL = "full", _("Paid in full")
    DEPOSIT = "deposit", _("Deposit + balance")
    INSTALMENTS = "instalments", _("Instalments")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for finance")
    REJECTED = "rejected", pgettext_lazy("finance", "Rejected")
    EFFECTIVE = "effective", _("Effective")
    PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")


# Statuses in which the terms may still be edited by sales staff.
EDITABLE = (ContractStatus.DRAFT, ContractStatus.REJECTED)
# Statuses of a contract that took effect: its terms are frozen for good.
IN_FORCE = (ContractStatus.EFFECTIVE, ContractStatus.PARTLY_REFUNDED, ContractStatus.REFUNDED)

# What a contract agreed. Frozen once the contract takes effect.
TERMS = (
    "number",
    "member_id",
    "amount",
    "payment_type",
    "service_start",
    "service_end",
    "signed_by_id",
    "store_id",
    "renewal_of_id",
    "introductions_per_month",
    "dates_per_month",
    "remark",
)


class ContractFrozen(ValidationError):
    def __init__(self):
        super().__init__(_("An effective contract cannot be changed."), code="frozen")


def through_member(qs, user, field="member_id"):
    """Rows of a finance table visible exactly when their member is (DESIGN.md: child records
    are scoped through their member).

    A viewer who sees every member gets no filter at all: a test against all 100,000 member
    keys made SQLite collect them and sort every contract instead of walking the list's index
    for a page. For the others the member key is kept off its index (`Unindexed`): the list
    index carries it, so a page walks that index newest first, tests each key against the
    viewer's members and stops after a page, instead of reading all of a team's contracts to
    sort them. The members are collected once per owner (`keyed_q`): PostgreSQL hashes each
    owner's keys, where one subquery with both owners made it read the whole member table for
    each count."""
    if getattr(user, "is_authenticated", False) and user_scope(user) == DataScope.ALL:
        return qs
    return qs.filter(Member.objects.keyed_q(user, Unindexed(F(field))))


class ContractQuerySet(models.QuerySet):
    def visible_to(self, user, *, per_row: bool = False):
        """`per_row`: for a short range of contracts (an end-date tab), test each contract's
        member through a join instead of collecting the viewer's members first."""
        if per_row:
            return self.filter(Member.objects.visible_q(user, "member__"))
        return through_member(self, user)

    def update(self, **kwargs):
        # A bulk update must not rewrite the terms of a contract in force either.
        names = set(TERMS) | {t.removesuffix("_id") for t in TERMS}
        if names & set(kwargs) and self.filter(status__in=IN_FORCE).exists():
            raise ContractFrozen()
        return super().update(**kwargs)


class Contract(models.Model):
    """合同: entered by sales staff, approved by finance once the money is in, then frozen."""

    number = models.CharField(_("contract number"), max_length=40, unique=True)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="contracts"
    )
    plans = models.ManyToManyField(ServicePlan, verbose_name=_("service plans"), related_name="+")
    amount = models.DecimalField(_("agreed amount"), **MONEY)
    payment_type = models.CharField(
        _("payment type"), max_length=12, choices=PaymentType.choices, default=PaymentType.FULL
    )
    service_start = models.DateField(_("service starts"))
    service_end = models.DateField(_("service ends"))
    signed_by = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("signing matchmaker"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    store = models.ForeignKey(
        "staff.Store", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+"
    )
    renewal_of = models.OneToOneField(
        "self",
        verbose_name=_("renews contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewed_by",
    )
    # The monthly promise, summed from the plans when the contract is saved.
    introductions_per_month = models.PositiveSmallIntegerField(default=0)
    dates_per_month = models.PositiveSmallIntegerField(default=0)
    remark = models.TextField(_("remark"), max_length=1000, blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    reject_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "staff.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        "staff.Staff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Kept by the payment and refund services in the same transaction as the rows they sum.
    paid_total = models.DecimalField(_("received"), default=ZERO, **MONEY)
    refunded_total = models.DecimalField(_("refunded"), default=ZERO, **MONEY)

    objects = ContractQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["status", "created_at"], name="contract_status"),
            models.Index(fields=["member", "created_at"], name="contract_member"),
            # The list's order (newest first): a page is read off this index.
            models.Index(fields=["created_at", "id", "member"], name="contract_list"),
            models.Index(fields=["service_end"], name="contract_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="contract_amount_positive",
                violation_error_message=_("The amount must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(service_end__gt=F("service_start")),
                name="contract_dates_ordered",
                violation_error_message=_("The service must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0)
                & Q(refunded_total__gte=0)
                & Q(refunded_total__lte=F("paid_total")),
                name="contract_refund_within_paid",
            ),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = Contract.objects.filter(pk=self.pk, status__in=IN_FORCE).values(*TERMS).first()
            if stored and any(stored[t] != getattr(self, t) for t in TERMS):
                raise ContractFrozen()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.in_force:
            raise ContractFrozen()
        return super().delete(*args, **kwargs)

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def refundable(self) -> Decimal:
        return self.paid_total - self.refunded_total

    @property
    def balance_due(self) -> Decimal:
        return max(self.amount - self.paid_total, ZERO)


@receiver(m2m_changed, sender=Contract.plans.through)
def _plans_frozen(sender, instance, action, **kwargs):
    frozen = isinstance(instance, Contract) and action.startswith("pre_")
    if frozen and Contract.objects.filter(pk=instance.pk, status__in=IN_FORCE).exists():
        raise ContractFrozen()


class Instalment(models.Model):
    """One agreed payment date of a contract paid by deposit + balance or in instalments."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="instalments")
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive")
        ]

    def __str__(self):
        return f"{self.due_on} {self.amount}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    BANK = "bank", _("Bank transfer")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    CARD = "card", _("Bank card")


class PaymentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return through_member(self, user)


class Payment(models.Model):
    """支付记录: money received against a contract. Never edited; a mistake is refunded."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="payments")
    # The contract's member, kept on the row so that payments are searched and scoped directly.
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        "staff.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = PaymentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-paid_on", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["paid_on"], name="payment_paid_on"),
            models.Index(fields=["member", "paid_on"], name="payment_member"),
            models.Index(fields=["reference"], name="payment_reference"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self):
        return f"{self.paid_on} {self.amount}"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for finance")
    APPROVED = "approved", pgettext_lazy("finance", "Approved")
    REJECTED = "rejected", pgettext_lazy("finance", "Rejected")


class RefundQuerySet(models.QuerySet):
    def visible_to(self, user):
        return through_member(self, user, "contract__member_id")


class Refund(models.Model):
    """退款: requested by sales staff against an effective contract, decided by finance."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="refunds")
    number = models.CharField(_("refund number"), max_length=40, unique=True)
    requested_amount = models.DecimalField(_("requested amount"), **MONEY)
    # The pro-rata proposal when it was requested, for finance to weigh.
    proposed_amount = models.DecimalField(_("pro-rata proposal"), default=ZERO, **MONEY)
    amount = models.DecimalField(_("approved amount"), null=True, blank=True, **MONEY)
    reason = models.TextField(pgettext_lazy("finance", "reason"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        "staff.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        "staff.Staff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(pgettext_lazy("finance", "decided at"), null=True, blank=True)
    decision_note = models.CharField(_("finance's note"), max_length=300, blank=True)

    objects = RefundQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0), name="refund_requested_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="refund_amount_positive"
            ),
        ]

    def __str__(self):
        return self.number


class SalesDay(models.Model):
    """The day's sales of one signing matchmaker in one store: what the sales report adds up.

    Kept by the finance services in the same transaction as the contract, payment or refund, so
    a report over years of payments reads a few thousand rows (`services.rebuild_sales_days`
    recomputes it from the source rows)."""

    day = models.DateField()
    staff = models.ForeignKey("staff.Staff", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("staff.Store", on_delete=models.PROTECT, related_name="+")
    contracts = models.PositiveIntegerField(default=0)
    contract_value = models.DecimalField(default=ZERO, **MONEY)
    received = models.DecimalField(default=ZERO, **MONEY)
    refunded = models.DecimalField(default=ZERO, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "staff", "store"], name="salesday_key")
        ]
        indexes = [models.Index(fields=["staff", "day"], name="salesday_staff")]

    def __str__(self):
        return f"{self.day} {self.staff_id}"


class PlanDay(models.Model):
    """Contracts signed per plan per day and signing matchmaker (a contract with two plans
    counts for each)."""

    day = models.DateField()
    plan = models.ForeignKey(ServicePlan, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey("staff.Staff", on_delete=models.PROTECT, related_name="+")
    contracts = models.PositiveIntegerField(default=0)
    contract_value = models.DecimalField(default=ZERO, **MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "plan", "staff"], name="planday_key")]

    def __str__(self):
        return f"{self.day} {self.plan_id}"


def _attachment_name(instance, filename: str) -> str:
    """contracts/<2 hex>/<uuid hex>.<pdf|jpg|png>: the uploaded name is not kept (it often holds
    the member's name)."""
    import uuid

    name = uuid.uuid4().hex
    return f"contracts/{name[:2]}/{name}.{instance.kind}"


class ContractAttachment(models.Model):
    """A scan of the paper contract (or a receipt): kept with the member files, outside
    MEDIA_ROOT, and served only to those who may see the contract."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=member_files, upload_to=_attachment_name, max_length=200)
    kind = models.CharField(max_length=4)  # pdf, jpg or png: what the content is
    title = models.CharField(_("title"), max_length=60)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey("staff.Staff", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.title


class ComplaintStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("complaint", "Open")
    CLOSED = "closed", pgettext_lazy("complaint", "Closed")


class ComplaintQuerySet(models.QuerySet):
    def visible_to(self, user):
        return through_member(self, user)


class Complaint(models.Model):
    """投诉: a member's complaint about the service they receive, against the matchmaker serving
    them; recorded by staff, then handled and closed by a manager with what was done. Counted
    beside sales in the report, so that an agency rewards good service, not only selling."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="complaints"
    )
    # Who served the member when the complaint came in (after-sales, else pre-sales).
    about = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("matchmaker complained about"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    received_on = models.DateField(_("received on"))
    summary = models.TextField(_("what the member complains about"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=8, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    recorded_by = models.ForeignKey(
        "staff.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    resolution = models.TextField(_("how it was handled"), max_length=1000, blank=True)
    closed_by = models.ForeignKey(
        "staff.Staff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["received_on", "id", "member"], name="complaint_list"),
            models.Index(fields=["status", "received_on"], name="complaint_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (~Q(resolution="") & Q(closed_at__isnull=False)),
                name="complaint_closed_with_resolution",
            )
        ]

    def __str__(self):
        return f"{self.received_on} {self.member_id}"


# What a matchmaker's work led to, per month (`finance.outcomes` keeps and rebuilds them).
OUTCOME_MEASURES = (
    "intros",
    "yes",
    "answered",
    "mutual",
    "mutual_centre",
    "dates",
    "first_dates",
    "second_dates",
    "going_on",
    "relationships",
    "successes",
    "complaints",
    "refunds",
)
# The month's contract promises of the members the matchmaker served (the promise ledger).
PROMISE_MEASURES = (
    "promise_members",
    "promise_behind",
    "promise_intros",
    "promise_intros_promised",
    "promise_dates",
    "promise_dates_promised",
)


class OutcomeMonth(models.Model):
    """One matchmaker's outcome counters for one calendar month (Asia/Shanghai).

    Kept in the same transaction as each recommendation, answer, date, complaint, refund,
    finished service and promise change (`finance.outcomes`), so the report's outcome section
    reads a few rows per matchmaker and month however much happened; `outcomes.rebuild()`
    recomputes them from the source rows."""

    staff = models.ForeignKey("staff.Staff", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # its first day
    intros = models.IntegerField(default=0)
    yes = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    mutual = models.IntegerField(default=0)
    # Of `mutual`: sides that said yes in the member centre without a recommendation.
    mutual_centre = models.IntegerField(default=0)
    dates = models.IntegerField(default=0)
    first_dates = models.IntegerField(default=0)
    second_dates = models.IntegerField(default=0)
    going_on = models.IntegerField(default=0)
    relationships = models.IntegerField(default=0)
    successes = models.IntegerField(default=0)
    complaints = models.IntegerField(default=0)
    refunds = models.IntegerField(default=0)
    promise_members = models.IntegerField(default=0)
    promise_behind = models.IntegerField(default=0)
    promise_intros = models.IntegerField(default=0)
    promise_intros_promised = models.IntegerField(default=0)
    promise_dates = models.IntegerField(default=0)
    promise_dates_promised = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["staff", "month"], name="outcomemonth_key")]
        indexes = [models.Index(fields=["month", "staff"], name="outcomemonth_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.staff_id}"


class PromiseMonth(models.Model):
    """One month of a contract in force that promises introductions or dates each month:
    promised and delivered so far, and the matchmaker it counts for (serving the member at the
    month's end; the month in progress: now). The per-contract state behind the promise
    counters of `OutcomeMonth`."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    staff = models.ForeignKey("staff.Staff", on_delete=models.CASCADE, null=True, related_name="+")
    intros_promised = models.PositiveSmallIntegerField(default=0)
    dates_promised = models.PositiveSmallIntegerField(default=0)
    intros = models.PositiveIntegerField(default=0)
    dates = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="promisemonth_key")
        ]
        indexes = [models.Index(fields=["member", "month"], name="promisemonth_member")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.contract_id}"
