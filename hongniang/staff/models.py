from functools import cached_property

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hongniang.staff.permissions import ALL_GRANTS
from hongniang.staff.visibility import DataScope, visible_staff_q
from hongniang.workbench.history import HistoricalRecords


class Store(models.Model):
    """A branch (门店) of the agency."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")

    def __str__(self):
        return self.name


class Role(models.Model):
    """A role grants module actions ("members.view") and a data scope; one role per user."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    data_scope = models.CharField(
        _("data scope"), max_length=10, choices=DataScope.choices, default=DataScope.SUBTREE
    )
    grants = models.JSONField(_("permissions"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return self.name

    def clean(self):
        unknown = sorted(set(self.grants) - set(ALL_GRANTS))
        if unknown:
            raise ValidationError({"grants": _("Unknown permissions: %s") % ", ".join(unknown)})

    @cached_property
    def grant_set(self) -> frozenset[str]:
        return frozenset(self.grants)


class StaffQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(visible_staff_q(user))


class StaffManager(BaseUserManager.from_queryset(StaffQuerySet)):
    use_in_migrations = True

    def create_user(self, username, password=None, **fields):
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **fields):
        fields["is_superuser"] = True
        return self.create_user(username, password, **fields)


class StaffStatus(models.TextChoices):
    NORMAL = "normal", _("Normal")
    LOCKED = "locked", _("Locked")


# Secrets and bookkeeping the audit trail does not show. A save touching only these (a login
# stamping last_login, a new security password) writes no history row, which would read as an
# empty "changed —" entry.
HISTORY_EXCLUDED = (
    "password",
    "security_password",
    "security_failures",
    "security_locked_until",
    "last_login",
)

username_validator = RegexValidator(
    r"^[A-Za-z0-9_.@-]{3,30}$",
    _("3 to 30 letters, digits or _ . @ -"),
)


class Staff(AbstractBaseUser):
    """A staff account: a matchmaker (红娘), manager, finance user or administrator."""

    username = models.CharField(
        _("account"), max_length=30, unique=True, validators=[username_validator]
    )
    name = models.CharField(_("full name"), max_length=30)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=40, blank=True)
    qq = models.CharField(_("QQ"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    role = models.ForeignKey(
        Role,
        verbose_name=_("role"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    supervisor = models.ForeignKey(
        "self",
        verbose_name=_("supervisor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subordinates",
    )
    # Materialised path of pks from the root down to this row: "/1/5/9/".
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    status = models.CharField(
        _("status"), max_length=10, choices=StaffStatus.choices, default=StaffStatus.NORMAL
    )
    is_superuser = models.BooleanField(_("superuser"), default=False)
    security_password = models.CharField(max_length=128, blank=True, editable=False)
    # Wrong security passwords in a row, and the lock they earned (see services).
    security_failures = models.PositiveSmallIntegerField(default=0, editable=False)
    security_locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/staff/", blank=True)
    public_title = models.CharField(_("title on public site"), max_length=60, blank=True)
    show_on_site = models.BooleanField(_("shown on public site"), default=False)
    sort_order = models.IntegerField(_("sort order"), default=0)
    years_of_experience = models.PositiveSmallIntegerField(
        _("years of experience"), null=True, blank=True
    )
    experience = models.TextField(_("experience"), max_length=500, blank=True)
    motto = models.CharField(_("motto"), max_length=100, blank=True)
    introduction = models.TextField(_("introduction"), max_length=500, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=list(HISTORY_EXCLUDED))
    objects = StaffManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("matchmaker")
        verbose_name_plural = _("matchmakers")

    def __str__(self):
        return f"{self.name}({self.username})" if self.name else self.username

    @property
    def is_active(self) -> bool:
        # A locked account can neither log in nor keep its sessions: Django's backend refuses
        # inactive users both at login and when loading the user of a session.
        return self.status == StaffStatus.NORMAL

    @property
    def is_locked(self) -> bool:
        return self.status == StaffStatus.LOCKED

    def clean(self):
        super().clean()
        moves_under_self = (
            self.supervisor_id
            and self.pk
            and (
                self.supervisor_id == self.pk
                or (self.path and self.supervisor.path.startswith(self.path))
            )
        )
        if moves_under_self:
            raise ValidationError(
                {"supervisor": _("A supervisor cannot be this person or someone below them.")}
            )

    def expected_path(self) -> str:
        parent = self.supervisor.path if self.supervisor_id else "/"
        return f"{parent}{self.pk}/"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        quiet = update_fields is not None and set(update_fields) <= set(HISTORY_EXCLUDED)
        if quiet:
            self.skip_history_when_saving = True  # django-simple-history's documented switch
        try:
            super().save(*args, **kwargs)
        finally:
            if quiet:
                del self.skip_history_when_saving
        new_path = self.expected_path()
        if new_path != self.path:
            old_path = self.path
            Staff.objects.filter(pk=self.pk).update(path=new_path)
            self.path = new_path
            if old_path:
                # Moving a person moves their whole team with them.
                moved = list(Staff.objects.filter(path__startswith=old_path).exclude(pk=self.pk))
                for row in moved:
                    row.path = new_path + row.path[len(old_path) :]
                Staff.objects.bulk_update(moved, ["path"])

    def set_security_password(self, raw: str | None):
        self.security_password = make_password(raw) if raw else ""

    def security_password_matches(self, raw: str) -> bool:
        """The bare comparison. Callers go through `services.verify_security_password`, which
        counts failures and locks; this method alone would allow endless guessing."""
        return bool(self.security_password) and check_password(raw, self.security_password)

    @property
    def has_security_password(self) -> bool:
        return bool(self.security_password)

    def is_below(self, other: "Staff") -> bool:
        return self.pk != other.pk and self.path.startswith(other.path)


class LockoutKind(models.TextChoices):
    LOGIN = "login", _("Login")
    SECURITY = "security", _("Security password")


class LockoutRelease(models.Model):
    """A lock-out lifted by hand on the lock-outs screen: whose, by whom, when (audited)."""

    kind = models.CharField(_("lock"), max_length=10, choices=LockoutKind.choices)
    username = models.CharField(_("account"), max_length=255)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    released_by = models.ForeignKey(
        Staff,
        verbose_name=_("released by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-released_at"]
        verbose_name = _("lock-out lifted")
        verbose_name_plural = _("lock-outs lifted")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.username}"
