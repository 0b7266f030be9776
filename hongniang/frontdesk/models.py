"""The front desk (前台): consultations (2.4.3), public registration (2.4.4) and the matchmakers'
personal registration links (QR codes) that credit a registration to whoever brought it."""

import secrets

from django.core.cache import cache
from django.db import models
from django.utils.translation import gettext_lazy as _

from hongniang.staff.visibility import VisibleQuerySet
from hongniang.workbench.history import HistoricalRecords


class HeardFrom(models.TextChoices):
    SEARCH = "search", _("Search engine")
    FRIEND = "friend", _("A friend told me")
    WECHAT = "wechat", _("WeChat")
    VIDEO = "video", _("Short-video app")
    ADVERT = "advert", _("Advertisement")
    EVENT = "event", _("An event of ours")
    WALK_IN = "walk_in", _("Passing by the store")
    OTHER = "other", _("Other")


class ConsultationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class ConsultationQuerySet(VisibleQuerySet):
    owner_fields = ("assigned_to",)


class Consultation(models.Model):
    """A request left on the public consultation form (咨询/申请红娘一对一服务)."""

    name = models.CharField(_("contact name"), max_length=30)
    # Personal data as on members: encrypted, keyed hash for look-up, mask for lists.
    mobile_encrypted = models.TextField(editable=False, blank=True)
    mobile_hash = models.CharField(max_length=64, editable=False, blank=True, db_index=True)
    mobile_masked = models.CharField(_("mobile"), max_length=16, editable=False, blank=True)
    message = models.TextField(_("message"), max_length=1000)
    heard_from = models.CharField(
        _("how they heard of us"), max_length=12, choices=HeardFrom.choices, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ConsultationStatus.choices,
        default=ConsultationStatus.PENDING,
        db_index=True,
    )
    store = models.ForeignKey(
        "staff.Store",
        verbose_name=_("store"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("matchmaker"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultations",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    result = models.TextField(_("result"), max_length=1000, blank=True)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["mobile_encrypted"])
    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")

    def __str__(self):
        return f"{self.name} {self.mobile_masked}"


def new_referral_code() -> str:
    return secrets.token_urlsafe(6)


class ReferralCode(models.Model):
    """A matchmaker's personal code: the registration link in their QR code and poster."""

    staff = models.OneToOneField(
        "staff.Staff", on_delete=models.CASCADE, related_name="referral_code"
    )
    code = models.CharField(max_length=16, unique=True, default=new_referral_code)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.code


class Registration(models.Model):
    """A member who registered on the public form, and whose code brought them (if any)."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, related_name="registration"
    )
    referrer = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("referred by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referred_registrations",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return str(self.member_id)


class MemberAccount(models.Model):
    """A member's login for the member centre (portal/): the password, hashed. It comes from
    registration, or staff open it (portal.accounts) with a one-time password."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, related_name="account"
    )
    password = models.CharField(max_length=128)
    # Set when someone else chose the password (staff, an import): the member centre opens
    # nothing but the change-password page until the member picks their own.
    must_change_password = models.BooleanField(_("must change the password"), default=False)
    # A one-time password staff gave out logs in only until then (None: the member's own).
    temporary_until = models.DateTimeField(
        _("one-time password valid until"), null=True, blank=True
    )
    # Staff may close an account without deleting it; a closed account cannot log in.
    is_active = models.BooleanField(_("active"), default=True)
    last_login = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who opened, reset, closed or reopened it (the password itself never enters the trail).
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("member account")
        verbose_name_plural = _("member accounts")

    def __str__(self):
        return str(self.member_id)

    def set_password(self, raw: str) -> None:
        from django.contrib.auth.hashers import make_password

        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        from django.contrib.auth.hashers import check_password

        return check_password(raw, self.password)


# Who the member is and how staff reach and file them: never changed by the member.
MEMBER_NEVER_EDITS = frozenset(
    {
        "username",
        "name",
        "mobile",
        "id_type",
        "id_number",
        "store",
        "consents_to_introduction",
        "sex",
        "birthday",
        "lunar_birthday",
    }
)
PREFERENCES = "preferences"  # the key that stands for the whole mate-preference form


def member_editable_choices() -> list[str]:
    """Every profile field a member could be allowed to change, in the form's order."""
    from hongniang.members.forms import PROFILE_GROUPS

    return [n for _t, names in PROFILE_GROUPS for n in names if n not in MEMBER_NEVER_EDITS]


def default_member_editable() -> list[str]:
    """By default: the profile below the account section, and the preferences."""
    from hongniang.members.forms import PROFILE_GROUPS

    names = [n for _t, group in PROFILE_GROUPS[1:] for n in group if n not in MEMBER_NEVER_EDITS]
    return [*names, PREFERENCES]


class FrontDeskSettings(models.Model):
    """System settings of the front desk: one row, cached."""

    CACHE_KEY = "frontdesk:settings"

    # Optional fields of the registration form that this agency makes required.
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    default_store = models.ForeignKey(
        "staff.Store",
        verbose_name=_("store for website leads"),
        help_text=_(
            "Consultations and registrations without a matchmaker's code go to this store's "
            "pool. Empty: only administrators see them."
        ),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What members may change themselves in the member centre ("preferences": their mate
    # preferences); the identity fields (MEMBER_NEVER_EDITS) only ever through staff.
    member_editable_fields = models.JSONField(
        _("fields members may change"), default=default_member_editable, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("front-desk settings")
        verbose_name_plural = _("front-desk settings")

    def __str__(self):
        return str(self._meta.verbose_name)

    def save(self, *args, **kwargs):
        self.pk = 1  # one row
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)

    @classmethod
    def load(cls) -> "FrontDeskSettings":
        obj = cache.get(cls.CACHE_KEY)
        if obj is None:
            obj, _created = cls.objects.get_or_create(
                pk=1, defaults={"required_fields": list(DEFAULT_REQUIRED)}
            )
            cache.set(cls.CACHE_KEY, obj, 300)
        return obj


# What a new agency asks for besides the account (username, password, mobile, name, sex).
DEFAULT_REQUIRED = ("birthday", "region", "marital_status", "education", "height")
