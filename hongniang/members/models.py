"""The member (会员): profile (whitepaper 2.4.1/2.4.4), mate preferences, photos, lifecycle."""

from datetime import date

from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hongniang.members import choices as c
from hongniang.members.birthdays import birthday_keys
from hongniang.members.regions import Region  # noqa: F401 - registers the region table
from hongniang.members.storage import member_files, random_photo_name
from hongniang.members.validators import (
    MAX_SIBLINGS,
    validate_birthday,
    validate_qq,
    validate_username,
)
from hongniang.staff.visibility import VisibleQuerySet
from hongniang.workbench.history import HistoricalRecords

L = c.CHOICE_MAX_LENGTH


def _choice(label, cls, **kw):
    return models.CharField(label, max_length=L, choices=cls.choices, blank=True, **kw)


def _ordinal(label, cls, **kw):
    return models.PositiveSmallIntegerField(label, choices=cls.choices, null=True, blank=True, **kw)


def _siblings(label):
    return models.PositiveSmallIntegerField(
        label, default=0, validators=[MaxValueValidator(MAX_SIBLINGS)]
    )


def _region(label, **kw):
    return models.CharField(label, max_length=6, blank=True, **kw)


class MemberQuerySet(VisibleQuerySet):
    # A member is visible through either owner's chain (DESIGN.md, Permissions).
    owner_fields = ("presales_owner", "aftersales_owner")


# Since when a member has waited for a follow-up: the last one, else the registration.
IDLE_SINCE = Coalesce("followed_up_at", "registered_at")


class Member(models.Model):
    # --- account ---
    username = models.CharField(
        _("username"), max_length=30, unique=True, validators=[validate_username]
    )
    name = models.CharField(_("full name"), max_length=30)
    mobile_encrypted = models.TextField(editable=False, blank=True)
    # The keyed hashes are indexed only by the unique partial indexes of Meta.constraints (a
    # plain index beside them cost every insert for nothing): look them up with
    # personal_data.hash_match, which states the partial index's condition.
    mobile_hash = models.CharField(max_length=64, editable=False, blank=True)
    mobile_masked = models.CharField(_("mobile"), max_length=16, editable=False, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=40, blank=True)
    qq = models.CharField(_("QQ"), max_length=20, blank=True, validators=[validate_qq])
    id_type = _choice(_("ID type"), c.IdType, default=c.IdType.RESIDENT_ID)
    id_number_encrypted = models.TextField(editable=False, blank=True)
    id_number_hash = models.CharField(max_length=64, editable=False, blank=True)
    id_number_masked = models.CharField(_("ID number"), max_length=24, editable=False, blank=True)

    # --- basic ---
    sex = models.CharField(_("sex"), max_length=L, choices=c.Sex.choices)
    birthday = models.DateField(
        _("birthday"), null=True, blank=True, validators=[validate_birthday]
    )
    lunar_birthday = models.BooleanField(
        _("celebrates the lunar birthday"),
        default=False,
        help_text=_("The member celebrates the day of the Chinese calendar they were born on."),
    )
    # The "MM-DD" of the birthday a member celebrates, lunar or Gregorian, each in its column
    # (members.birthdays), kept by save(), the import and the demo seeder.
    lunar_birthday_md = models.CharField(max_length=5, blank=True, editable=False)
    birthday_md = models.CharField(max_length=5, blank=True, editable=False)
    hukou_region = _region(_("hukou"))
    region = _region(_("location"))  # indexed first in member_region_list
    # The street part of an address (the region is in ``region``): personal data, never on the
    # public profile the presenter shows to other teams.
    address = models.CharField(_("street address"), max_length=200, blank=True)
    height = models.PositiveSmallIntegerField(
        _("height (cm)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(120), MaxValueValidator(230)],
    )
    weight = models.PositiveSmallIntegerField(
        _("weight (kg)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(30), MaxValueValidator(200)],
    )
    marital_status = _choice(_("marital status"), c.MaritalStatus)
    education = _ordinal(_("education"), c.Education)
    annual_income = _ordinal(_("annual income"), c.AnnualIncome)
    monthly_income = _ordinal(_("monthly income"), c.MonthlyIncome)
    occupation = _choice(_("occupation"), c.Occupation)
    occupation_sought = models.CharField(_("occupation sought"), max_length=60, blank=True)
    car = _choice(_("car"), c.CarStatus)
    house = _choice(_("house"), c.HouseStatus)
    children = _choice(_("children"), c.ChildrenStatus)
    blood_type = _choice(_("blood type"), c.BloodType)
    ethnicity = models.CharField(_("ethnicity"), max_length=2, blank=True)
    personality = models.JSONField(_("personality"), default=list, blank=True)
    appearance = _choice(_("appearance"), c.Appearance)
    hobbies = models.JSONField(_("hobbies"), default=list, blank=True)
    about = models.TextField(_("self-description"), max_length=2000, blank=True)

    # --- personal and family ---
    religion = _choice(_("religion"), c.Religion)
    smoking = _ordinal(_("smoking"), c.Smoking)
    drinking = _ordinal(_("drinking"), c.Drinking)
    work_status = _choice(_("work status"), c.WorkStatus)
    exercise = _ordinal(_("exercise"), c.Exercise)
    debts = _choice(_("debts"), c.Debts)
    family_background = _choice(_("family background"), c.FamilyBackground)
    parents_finances = _choice(_("parents' finances"), c.ParentsFinances)
    parents_work = _choice(_("parents' work"), c.ParentsWork)
    father_occupation = _choice(_("father's occupation"), c.ParentOccupation)
    mother_occupation = _choice(_("mother's occupation"), c.ParentOccupation)
    birth_order = _choice(_("birth order"), c.BirthOrder)
    older_brothers = _siblings(_("older brothers"))
    older_sisters = _siblings(_("older sisters"))
    younger_brothers = _siblings(_("younger brothers"))
    younger_sisters = _siblings(_("younger sisters"))

    # --- relationship views ---
    long_distance = _choice(_("long-distance relationship"), c.LongDistance)
    online_dating = _choice(_("online-dating experience"), c.OnlineDatingExperience)
    only_child = _choice(_("only child"), c.OnlyChild)
    partner_house = _choice(_("partner should own a home"), c.PartnerHouse)
    wedding_style = _choice(_("wedding style"), c.WeddingStyle)
    live_with_parents = _choice(_("live with partner's parents"), c.LiveWithParents)
    cooking = _choice(_("cooking"), c.Cooking)
    housework = _choice(_("housework"), c.Housework)

    # --- lifecycle ---
    source = _choice(_("source"), c.Source, default=c.Source.STAFF_ENTRY)
    sales_stage = models.CharField(
        _("sales stage"), max_length=L, choices=c.SalesStage.choices, default=c.SalesStage.NEW
    )
    service_status = models.CharField(
        _("service status"),
        max_length=L,
        choices=c.ServiceStatus.choices,
        default=c.ServiceStatus.NOT_STARTED,
    )
    is_hidden = models.BooleanField(_("hidden from matching"), default=False)
    consents_to_introduction = models.BooleanField(
        _("agrees to be introduced"),
        default=False,
        help_text=_("May be offered as a candidate to other members before signing."),
    )
    # The public site (portal.site_selectors): staff pick featured members; a member (or staff)
    # can keep the profile off the public site without leaving matching.
    site_featured = models.BooleanField(_("featured on the public site"), default=False)
    site_hidden = models.BooleanField(_("hidden from the public site"), default=False)
    # Why the journey is where it is (members/journey.py writes these, nothing else).
    abandon_reason = models.CharField(_("reason for abandoning"), max_length=200, blank=True)
    pause_reason = models.CharField(_("reason for the pause"), max_length=200, blank=True)
    pause_until = models.DateField(_("expected return"), null=True, blank=True)
    finish_reason = _choice(_("why the service finished"), c.FinishReason)
    presales_owner = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("pre-sales matchmaker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="presales_members",
    )
    aftersales_owner = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("after-sales matchmaker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="aftersales_members",
    )
    created_by = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    store = models.ForeignKey(
        "staff.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    registered_at = models.DateTimeField(_("registered at"), db_index=True)
    allocated_at = models.DateTimeField(_("allocated at"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("last followed up"), null=True, blank=True)
    # Kept by the follow-up service, so that the lists by number of follow-ups and the counts
    # of their tabs read one indexed column instead of counting follow-ups per member.
    follow_up_count = models.PositiveIntegerField(_("pre-sales follow-ups"), default=0)
    service_note_count = models.PositiveIntegerField(_("after-sales follow-ups"), default=0)
    # The local calendar month (its first day) of the member's latest follow-up (either phase)
    # by contact time, and how many of their follow-ups were contacted in it; kept by the
    # follow-up service. This month's follow-ups of a team are the sum over its members whose
    # month is this one, read with the home page's tally from the owners' indexes instead of
    # testing 80,000 follow-ups against the team's members.
    follow_up_month = models.DateField(null=True, editable=False)
    # (nullable, set with the month: SQLite adds a nullable column in place, where a default
    # would copy the table)
    month_follow_ups = models.PositiveIntegerField(null=True, editable=False)
    next_contact_at = models.DateTimeField(_("next contact"), null=True, blank=True)
    # In the public pool (公海) since: released by the owner or not followed up in time.
    public_pool_at = models.DateTimeField(_("in the public pool since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=[
            "mobile_encrypted",
            "id_number_encrypted",
            "follow_up_month",
            "month_follow_ups",
        ]
    )
    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at", "-pk"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["mobile_hash"], condition=~Q(mobile_hash=""), name="member_mobile_unique"
            ),
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=~Q(id_number_hash=""),
                name="member_id_number_unique",
            ),
        ]
        # The lists (members, allocation pools) filter, count and page through these without
        # reading the table: each index holds what those lists test, and its equality column is
        # followed by the default order (registered_at, id), so a page stops after its rows.
        # member_list, in that order, serves the lists the others don't and the sortable columns;
        # member_birthday_list the sort by age.
        indexes = [
            models.Index(
                fields=[
                    "registered_at",
                    "id",
                    "presales_owner",
                    "aftersales_owner",
                    "store",
                    "sales_stage",
                    "service_status",
                    "sex",
                    "birthday",
                    "education",
                    "marital_status",
                    "region",
                    "followed_up_at",
                    "name",
                    "height",
                    "allocated_at",
                ],
                name="member_list",
            ),
            # The owners' indexes also carry what the home page's tally groups by, tests and
            # sums (stage, the other owner, the last follow-up, the month's follow-ups): it
            # reads them alone.
            models.Index(
                fields=[
                    "presales_owner",
                    "registered_at",
                    "id",
                    "sales_stage",
                    "store",
                    "followed_up_at",
                    "follow_up_month",
                    "month_follow_ups",
                ],
                name="member_pre_list",
            ),
            models.Index(
                fields=[
                    "aftersales_owner",
                    "registered_at",
                    "id",
                    "sales_stage",
                    "store",
                    "presales_owner",
                    "followed_up_at",
                    "follow_up_month",
                    "month_follow_ups",
                ],
                name="member_after_list",
            ),
            models.Index(
                fields=[
                    "sales_stage",
                    "registered_at",
                    "id",
                    "presales_owner",
                    "aftersales_owner",
                    "store",
                    "followed_up_at",
                ],
                name="member_stage_list",
            ),
            models.Index(
                fields=[
                    "store",
                    "registered_at",
                    "id",
                    "sales_stage",
                    "presales_owner",
                    "aftersales_owner",
                ],
                name="member_store_list",
            ),
            models.Index(
                fields=["sex", "birthday", "registered_at", "presales_owner", "aftersales_owner"],
                name="member_sex_birthday_list",
            ),
            models.Index(
                fields=["region", "registered_at", "presales_owner", "aftersales_owner"],
                name="member_region_list",
            ),
            models.Index(
                fields=["birthday", "id", "presales_owner", "aftersales_owner"],
                name="member_birthday_list",
            ),
            # Birthdays today and this month (home page, pre-sales lists): a range of month-days.
            models.Index(
                fields=["birthday_md", "sales_stage", "presales_owner", "aftersales_owner"],
                name="member_birthday_md",
            ),
            # A Meta index, not db_index: on PostgreSQL db_index adds a second, pattern-matching
            # copy of a text column's index, which no query here uses.
            models.Index(fields=["lunar_birthday_md"], name="member_lunar_birthday_md"),
            # The follow-up lists and their tab counts: a stage and a range of follow-up counts.
            models.Index(
                fields=[
                    "sales_stage",
                    "follow_up_count",
                    "registered_at",
                    "id",
                    "presales_owner",
                    "aftersales_owner",
                    "store",
                ],
                name="member_followup_list",
            ),
            models.Index(
                fields=[
                    "sales_stage",
                    "service_note_count",
                    "registered_at",
                    "id",
                    "presales_owner",
                    "aftersales_owner",
                    "store",
                ],
                name="member_service_note_list",
            ),
            # The home page's follow-ups due today and overdue: a range of next-contact times.
            models.Index(
                fields=["next_contact_at", "sales_stage", "presales_owner", "aftersales_owner"],
                name="member_next_contact_owners",
            ),
            # A matchmaker's new registrations not followed up yet (home page): the count and
            # the newest few are a range of this index, not a read of every member they own.
            models.Index(
                fields=[
                    "presales_owner",
                    "source",
                    "follow_up_count",
                    "registered_at",
                    "id",
                    "sales_stage",
                ],
                name="member_new_registrations",
            ),
            # The public site's member search: newest first, every filter of the search bar and
            # of the public rule in the index, so a page is read from it alone and stops early.
            models.Index(
                fields=[
                    "registered_at",
                    "id",
                    "sex",
                    "birthday",
                    "education",
                    "marital_status",
                    "occupation",
                    "annual_income",
                    "region",
                    "sales_stage",
                    "service_status",
                    "consents_to_introduction",
                    "is_hidden",
                    "site_hidden",
                ],
                name="member_public_search",
            ),
            # The public home's featured members: a handful, so a partial index.
            models.Index(
                fields=["sex", "registered_at"],
                condition=Q(site_featured=True),
                name="member_site_featured",
            ),
            # Searching a part of the name (`name_q`: LIKE '%…%', which no b-tree can seek):
            # the narrowest index holding the name, read whole instead of the wide list index
            # (PostgreSQL read 3,500 pages of member_list for each count and page).
            models.Index(fields=["name", "id"], name="member_name"),
            # The members a matchmaker serves before sales while nobody serves them after sales
            # (the promise ledger, with member_after_list for the after-sales side): one range.
            models.Index(
                fields=["presales_owner", "id"],
                condition=Q(aftersales_owner__isnull=True),
                name="member_served_pre",
            ),
            # A member's owners by its key, from the index alone (PostgreSQL; SQLite ignores
            # `include` and has the rowid): the visibility of another table's rows tested one
            # member key at a time, e.g. the home page's contracts ending or expired.
            models.Index(
                fields=["id"], include=["presales_owner", "aftersales_owner"], name="member_owners"
            ),
            # Members not followed up for N days (last follow-up, else registration; home page).
            models.Index(
                IDLE_SINCE,
                F("sales_stage"),
                F("presales_owner"),
                F("aftersales_owner"),
                name="member_idle_since",
            ),
            # The nightly return to the public pool scans members not followed up for N days.
            models.Index(
                fields=["followed_up_at", "sales_stage", "presales_owner"],
                name="member_followed_up",
            ),
            models.Index(
                fields=["public_pool_at", "store", "registered_at"], name="member_public_pool"
            ),
            # The home's paused services due to resume. Only paused members have a return date,
            # so the index is partial: an import's rows (no date) cost it nothing.
            models.Index(
                fields=["pause_until", "aftersales_owner"],
                condition=Q(pause_until__isnull=False),
                name="member_pause_until",
            ),
        ]

    def __str__(self):
        return f"{self.name}({self.username})"

    # Multi-select fields and their choices: stored in the order of the choices.
    MULTI_SELECTS = {"personality": c.Personality, "hobbies": c.Hobby}

    def save(self, *args, **kwargs):
        order_multi_selects(self)
        changed = self.set_birthday_keys()
        update_fields = kwargs.get("update_fields")
        if changed and update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *changed}
        super().save(*args, **kwargs)

    def set_birthday_keys(self) -> list[str]:
        """Derive `birthday_md` and `lunar_birthday_md` from the birthday; the names of those
        that changed (for writers that name their columns, e.g. bulk_update)."""
        keys = dict(
            zip(
                ("birthday_md", "lunar_birthday_md"),
                birthday_keys(self.birthday, self.lunar_birthday),
                strict=True,
            )
        )
        changed = [name for name, value in keys.items() if getattr(self, name) != value]
        for name in changed:
            setattr(self, name, keys[name])
        return changed

    @property
    def age(self) -> int | None:
        return age_on(self.birthday, date.today()) if self.birthday else None  # noqa: DTZ011

    @property
    def avatar(self):
        """The avatar photo (its ``url`` goes through the checked view), or None."""
        return next((p for p in self.photos.all() if p.is_avatar), None)


def order_multi_selects(instance) -> None:
    for name, choices in instance.MULTI_SELECTS.items():
        setattr(instance, name, c.in_choice_order(getattr(instance, name), choices))


def age_on(birthday: date, today: date) -> int:
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def _pref_range(label_min, label_max, lo, hi):
    return (
        models.PositiveSmallIntegerField(
            label_min,
            null=True,
            blank=True,
            validators=[MinValueValidator(lo), MaxValueValidator(hi)],
        ),
        models.PositiveSmallIntegerField(
            label_max,
            null=True,
            blank=True,
            validators=[MinValueValidator(lo), MaxValueValidator(hi)],
        ),
    )


def _must():
    return models.BooleanField(_("must-have"), default=False)


def _importance():
    return models.PositiveSmallIntegerField(
        _("importance"), choices=c.Importance.choices, default=c.Importance.SOMEWHAT
    )


class MatePreference(models.Model):
    """择偶要求: each criterion may be a must-have, and each has an importance for the engine."""

    CRITERIA = (
        "age",
        "height",
        "weight",
        "children",
        "education",
        "income",
        "car",
        "house",
        "marital",
        "region",
    )

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="preference")
    age_min, age_max = _pref_range(_("age from"), _("age to"), 18, 99)
    age_must, age_importance = _must(), _importance()
    height_min, height_max = _pref_range(_("height from (cm)"), _("height to (cm)"), 120, 230)
    height_must, height_importance = _must(), _importance()
    weight_min, weight_max = _pref_range(_("weight from (kg)"), _("weight to (kg)"), 30, 200)
    weight_must, weight_importance = _must(), _importance()
    children = models.JSONField(_("acceptable children situations"), default=list, blank=True)
    children_must, children_importance = _must(), _importance()
    education_min = _ordinal(_("minimum education"), c.Education)
    education_must, education_importance = _must(), _importance()
    income_min = _ordinal(_("minimum annual income"), c.AnnualIncome)
    income_must, income_importance = _must(), _importance()
    car = _choice(_("car"), c.CarStatus)
    car_must, car_importance = _must(), _importance()
    house = _choice(_("house"), c.HouseStatus)
    house_must, house_importance = _must(), _importance()
    marital = models.JSONField(_("acceptable marital statuses"), default=list, blank=True)
    marital_must, marital_importance = _must(), _importance()
    region = _region(_("region"))
    region_must, region_importance = _must(), _importance()
    other = models.TextField(_("other requirements"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mate preferences")
        verbose_name_plural = _("mate preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(age_min__isnull=True)
                | Q(age_max__isnull=True)
                | Q(age_min__lte=models.F("age_max")),
                name="pref_age_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(height_min__isnull=True)
                | Q(height_max__isnull=True)
                | Q(height_min__lte=models.F("height_max")),
                name="pref_height_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(weight_min__isnull=True)
                | Q(weight_max__isnull=True)
                | Q(weight_min__lte=models.F("weight_max")),
                name="pref_weight_range_ordered",
            ),
        ]

    def __str__(self):
        return str(self.member)

    MULTI_SELECTS = {"children": c.ChildrenStatus, "marital": c.MaritalStatus}

    def save(self, *args, **kwargs):
        order_multi_selects(self)
        super().save(*args, **kwargs)


class MemberPhoto(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        _("photo"), upload_to=random_photo_name, storage=member_files, max_length=200
    )
    is_avatar = models.BooleanField(_("avatar"), default=False)
    status = models.CharField(
        _("review status"),
        max_length=L,
        choices=c.PhotoStatus.choices,
        default=c.PhotoStatus.PENDING,
    )
    reviewed_by = models.ForeignKey(
        "staff.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["-is_avatar", "pk"]
        verbose_name = _("member photo")
        verbose_name_plural = _("member photos")

    def __str__(self):
        return f"{self.member_id}:{self.pk}"

    @property
    def url(self) -> str:
        """The photo through the view that checks who may see the member."""
        return reverse("members:photo_file", args=[self.member_id, self.pk])


class AllocationKind(models.TextChoices):
    # A context of their own: the shared catalog's "Pre-sales" is the menu's 售前管理.
    PRESALES = "presales", pgettext_lazy("allocation kind", "Pre-sales")
    AFTERSALES = "aftersales", pgettext_lazy("allocation kind", "After-sales")


class AllocationStatus(models.TextChoices):
    """An allocation to someone else waits for them to accept it (whitepaper 1.4)."""

    PENDING = "pending", _("Waiting for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Not accepted in time")


class Allocation(models.Model):
    """One allocation or reallocation of a member: from whom, to whom, by whom, when, why."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="allocations")
    kind = models.CharField(_("kind"), max_length=12, choices=AllocationKind.choices)
    from_staff = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    to_staff = models.ForeignKey(
        "staff.Staff", verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(
        "staff.Staff", verbose_name=_("by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    remark = models.CharField(_("remark"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AllocationStatus.choices,
        default=AllocationStatus.ACCEPTED,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "to_staff", "created_at"], name="allocation_pending")
        ]

    def __str__(self):
        return f"{self.member_id} → {self.to_staff_id}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Member created")
    UPDATED = "updated", _("Profile changed")
    ALLOCATED = "allocated", _("Allocated")
    REALLOCATED = "reallocated", _("Reallocated")
    IMPORTED = "imported", _("Imported")
    REVEALED = "revealed", _("Personal data revealed")
    PHOTO = "photo", _("Photo reviewed")
    MATCHING = "matching", _("Matching")
    MESSAGE = "message", _("Message sent")
    STAGE = "stage", _("Sales stage changed")
    SERVICE = "service", _("Service status changed")
    FOLLOW_UP = "follow_up", _("Followed up")
    POOL = "pool", _("Public pool")
    ACCEPTANCE = "acceptance", _("Allocation answered")
    IMPERSONATION_START = "impersonation_start", _("Staff logged in as the member")
    IMPERSONATION_END = "impersonation_end", _("Staff left the member's account")
    CONTRACT = "contract", _("Contract")
    ACCOUNT = "account", _("Member account")
    COMPLAINT = "complaint", _("Complaint")


class RevealField(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    ID_NUMBER = "id_number", _("ID number")
    EXPORT = "export", _("Full export")


class MemberEvent(models.Model):
    """The member's timeline: every business step, with the actor and the why."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey("staff.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    summary = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The home page's recent events of a kind (signings this month, stalled couples).
        indexes = [models.Index(fields=["kind", "created_at"], name="event_kind_created")]

    def __str__(self):
        return f"{self.member_id} {self.kind}"

    @property
    def text(self) -> str:
        """The summary in the reader's language: revealed fields and changed fields by their
        labels (the stored summary of old rows may hold a raw key such as "mobile")."""
        if self.kind == EventKind.REVEALED and self.data.get("field") in RevealField.values:
            return str(RevealField(self.data["field"]).label)
        if self.kind == EventKind.UPDATED and self.data.get("fields"):
            return "、".join(_field_label(name) for name in self.data["fields"])
        return self.summary


def _field_label(name: str) -> str:
    """ "birthday" → 出生日期; "preference.age_min" → 择偶要求·年龄下限."""
    model, key = Member, name
    if name.startswith("preference."):
        model, key = MatePreference, name.removeprefix("preference.")
    try:
        label = capfirst(str(model._meta.get_field(key).verbose_name))
    except FieldDoesNotExist:
        return name
    return f"{model._meta.verbose_name}·{label}" if model is MatePreference else label


class RevealLog(models.Model):
    """Each time someone sees a full ID number or mobile (PIPL)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reveals")
    field = models.CharField(max_length=20, choices=RevealField.choices)
    staff = models.ForeignKey("staff.Staff", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.member_id} {self.field} {self.staff_id}"


class ImportMapping(models.Model):
    """A column mapping saved by a clerk under a name, offered again for files with the same
    headers (``members.importing.mapping``). Shared within the clerk's store."""

    name = models.CharField(_("name"), max_length=60)
    created_by = models.ForeignKey(
        "staff.Staff", verbose_name=_("created by"), on_delete=models.CASCADE, related_name="+"
    )
    store = models.ForeignKey(
        "staff.Store",
        verbose_name=_("store"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    headers = models.JSONField(_("headers"), default=list)
    # sha256 of the headers as compared (no spaces, lower case): what matches a new file.
    signature = models.CharField(max_length=64, db_index=True)
    mapping = models.JSONField(_("mapping"), default=list)  # a field key or null per column
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "name"], name="import_mapping_name_per_user"
            )
        ]

    def __str__(self):
        return self.name
