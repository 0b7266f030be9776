from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hongniang.workbench.history import HistoricalRecords

PAGE_SIZE_VALIDATORS = [MinValueValidator(5), MaxValueValidator(200)]


def default_candidate_states() -> list[str]:
    """Signed members in service (the whitepaper's after-sales members)."""
    return ["signed/in_service"]


def default_robots_txt() -> str:
    """Crawlers may read the public site, never the workbench or the member centre."""
    return "\n".join(
        [
            "User-agent: *",
            "Disallow: /workbench/",
            "Disallow: /m/",
            "Disallow: /staff/",
            "Disallow: /members/",
            "Disallow: /search/",
            "Allow: /",
        ]
    )


class SiteSettings(models.Model):
    """System settings (whitepaper 2.1): one row, cached, read by every page."""

    CACHE_KEY = "siteconfig:settings"

    crm_name = models.CharField(_("CRM name"), max_length=60, default="红娘婚介服务中心")
    version = models.CharField(_("version"), max_length=30, default="v1.0")
    hotline = models.CharField(_("400 hotline"), max_length=30, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="site/", blank=True)
    about_us = models.TextField(_("about us"), max_length=5000, blank=True)
    member_page_size = models.PositiveSmallIntegerField(
        _("members per page"), default=20, validators=PAGE_SIZE_VALIDATORS
    )
    matchmaker_page_size = models.PositiveSmallIntegerField(
        _("matchmakers per page"), default=20, validators=PAGE_SIZE_VALIDATORS
    )
    crm_page_size = models.PositiveSmallIntegerField(
        _("CRM list rows per page"), default=30, validators=PAGE_SIZE_VALIDATORS
    )
    # Hard rules of the matching engine, per agency.
    match_sex_pairing = models.CharField(
        _("match pairing"),
        max_length=10,
        default="opposite",
        choices=[("opposite", _("Opposite sex")), ("same", _("Same sex")), ("any", _("Any sex"))],
    )
    match_min_age_male = models.PositiveSmallIntegerField(
        _("minimum age for men"),
        default=22,
        validators=[MinValueValidator(18), MaxValueValidator(40)],
    )
    match_min_age_female = models.PositiveSmallIntegerField(
        _("minimum age for women"),
        default=20,
        validators=[MinValueValidator(18), MaxValueValidator(40)],
    )
    # Who may be offered as a candidate (members/journey, matching/adapter.engine_status):
    # "stage/status" pairs, and whether members who agreed to be introduced are offered in
    # any other open state. Abandoned, paused, finished and hidden members never are.
    candidate_states = models.JSONField(
        _("candidates: stage and service status"), default=default_candidate_states, blank=True
    )
    candidate_consenting = models.BooleanField(
        _("also offer members who agreed to be introduced"), default=True
    )
    # The public pool (公海) and allocation (whitepaper 1.4).
    pool_return_days = models.PositiveSmallIntegerField(
        _("days without follow-up before a member returns to the public pool"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    pool_claim_limit = models.PositiveSmallIntegerField(
        _("unsigned members a matchmaker may hold when claiming from the public pool"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
    )
    allocation_accept_hours = models.PositiveSmallIntegerField(
        _("hours to accept an allocated member"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    stalled_pair_days = models.PositiveSmallIntegerField(
        _("days after which a couple nobody followed up is reported"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # Family profiles (issue 13): a draft nobody confirmed is not kept for ever.
    family_draft_days = models.PositiveSmallIntegerField(
        _("days after an unanswered family invitation expired before the draft is deleted"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_(
            "The child's personal data is deleted and the relative told, as when the child "
            "declines."
        ),
    )
    # The member centre's double opt-in (issue 13): what one member sees of another.
    peer_avatars = models.BooleanField(
        _("show a member's approved avatar on the cards other members receive"), default=True
    )
    reveal_name = models.CharField(
        _("name shown to each other once both said yes"),
        max_length=10,
        default="full",
        choices=[
            ("full", _("Surname and given name")),
            ("given", _("Given name only")),
            ("surname", _("Surname with Mr./Ms.")),
        ],
        help_text=_("Contact details are never shown: the matchmakers arrange the first date."),
    )
    # The public site's search-engine settings (whitepaper 2.1, 网站SEO).
    seo_description = models.CharField(
        _("site description (for search engines)"), max_length=200, blank=True
    )
    robots_txt = models.TextField(
        _("robots.txt"),
        max_length=2000,
        default=default_robots_txt,
        blank=True,
        help_text=_("Served at /robots.txt; the sitemap line is added automatically."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")

    def __str__(self):
        return str(self.crm_name)

    def save(self, *args, **kwargs):
        self.pk = 1  # a singleton: there is only ever one settings row
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)

    @classmethod
    def load(cls) -> "SiteSettings":
        obj = cache.get(cls.CACHE_KEY)
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1)
            cache.set(cls.CACHE_KEY, obj, 300)
        return obj


class ImageSlot(models.TextChoices):
    BANNER = "banner", _("Homepage banner")
    ADVERT = "advert", _("Advertisement")


class SiteImage(models.Model):
    """A homepage banner or an advertisement image, shown in `sort_order`."""

    kind = models.CharField(_("kind"), max_length=10, choices=ImageSlot.choices)
    title = models.CharField(_("title"), max_length=60)
    image = models.ImageField(_("image"), upload_to="site/")
    link = models.CharField(_("link"), max_length=300, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("shown"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "sort_order", "pk"]
        verbose_name = _("site image")
        verbose_name_plural = _("site images")

    def __str__(self):
        return self.title
