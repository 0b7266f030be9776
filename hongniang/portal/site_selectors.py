"""Reads of the public site (no login): who is shown, the search, the home page's blocks.

Who is shown: a member the matching engine may offer as a candidate (`offerable_q`: the agency's
candidate setting, not hidden, not married, sex and birthday known), old enough under the
agency's matching rules, and not hidden from the public site. Only public fields leave here,
through the presenter (`present_public`): no name, contact, ID, street address or photo that
was not approved.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone

from hongniang.finance.selectors import plans_on_sale
from hongniang.matching.selectors import offerable_q
from hongniang.members import choices as c
from hongniang.members.models import Member, MemberPhoto
from hongniang.members.presenter import MemberView, present_public
from hongniang.members.regions import region_labels
from hongniang.portal import public_ids
from hongniang.portal.models import StoryPhoto, SuccessStory
from hongniang.siteconfig.models import ImageSlot, SiteImage, SiteSettings
from hongniang.staff.models import Staff, StaffStatus
from hongniang.staff.visibility import Unindexed

PAGE_SIZE = 12
# Search is a scraping target: past this many pages a visitor narrows the search instead.
MAX_PAGES = 30
FEATURED_COUNT = 8
TEAM_COUNT = 8
STORIES_ON_HOME = 3

# What a public page reads of a member: the public fields, nothing else leaves the database.
PUBLIC_COLUMNS = (
    "id",
    "sex",
    "birthday",
    "height",
    "weight",
    "education",
    "marital_status",
    "occupation",
    "annual_income",
    "region",
    "hukou_region",
    "car",
    "house",
    "children",
    "hobbies",
    "personality",
    "registered_at",
)


def _years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _unindexed(field: str) -> Unindexed:
    # Sex, birthday and region have indexes of their own; kept off them, SQLite walks
    # member_public_search in the page's order and stops after the page (see Member.Meta).
    return Unindexed(F(field))


def _sex_is(sex: str) -> Q:
    return Q(Exact(_unindexed("sex"), sex))


def public_q(today: date | None = None) -> Q:
    """Members shown on the public site."""
    today = today or timezone.localdate()
    site = SiteSettings.load()
    old_enough = Q(
        LessThanOrEqual(_unindexed("birthday"), _years_ago(today, site.match_min_age_male))
    ) & _sex_is(c.Sex.MALE) | Q(
        LessThanOrEqual(_unindexed("birthday"), _years_ago(today, site.match_min_age_female))
    ) & _sex_is(c.Sex.FEMALE)
    return offerable_q(indexed=False) & Q(site_hidden=False) & old_enough


def public_members():
    return Member.objects.filter(public_q())


def _approved_photos() -> Prefetch:
    return Prefetch(
        "photos",
        queryset=MemberPhoto.objects.filter(status=c.PhotoStatus.APPROVED).only(
            "id", "member_id", "is_avatar", "image"
        ),
        to_attr="approved_photos",
    )


@dataclass(frozen=True)
class PublicMember:
    """A member card or page: the presenter's public view, the public code, the photos."""

    view: MemberView
    code: str
    region_label: str
    photos: list

    @property
    def photo(self):
        return self.photos[0] if self.photos else None


@dataclass(frozen=True)
class PublicPhoto:
    code: str
    member_code: str


def _cards(members, *, region_level: int = 4) -> list[PublicMember]:
    members = list(members)
    # Province and city only: a county with an age and a height narrows too much.
    regions = region_labels(m.region[:region_level].ljust(6, "0") for m in members if m.region)
    cards = []
    for m, view in zip(members, present_public(members), strict=True):
        code = public_ids.encode("member", m.pk)
        photos = sorted(getattr(m, "approved_photos", []), key=lambda p: (not p.is_avatar, p.pk))
        cards.append(
            PublicMember(
                view=view,
                code=code,
                region_label=regions.get(m.region[:region_level].ljust(6, "0"), "")
                if m.region
                else "",
                photos=[PublicPhoto(public_ids.encode("photo", p.pk), code) for p in photos],
            )
        )
    return cards


def featured(sex: str) -> list[PublicMember]:
    """优质女会员 / 优质男会员: chosen by staff, shown only with an approved photo.

    The staff's picks come first, newest first, through their small partial index
    (member_site_featured); the public rule then keeps those who are shown."""
    picked = list(
        Member.objects.filter(site_featured=True, sex=sex)
        .order_by("-registered_at", "-id")
        .values_list("id", flat=True)[: FEATURED_COUNT * 10]
    )
    approved = MemberPhoto.objects.filter(member=OuterRef("pk"), status=c.PhotoStatus.APPROVED)
    rows = (
        public_members()
        .filter(pk__in=picked)
        .filter(Exists(approved))
        .only(*PUBLIC_COLUMNS)
        .prefetch_related(_approved_photos())
        .order_by("-registered_at", "-id")[:FEATURED_COUNT]
    )
    return _cards(rows)


def team() -> list[Staff]:
    """The matchmakers shown on the site, in their sort order."""
    return list(
        Staff.objects.filter(show_on_site=True, status=StaffStatus.NORMAL)
        .only(
            "id",
            "name",
            "avatar",
            "public_title",
            "motto",
            "years_of_experience",
            "experience",
            "sort_order",
        )
        .order_by("sort_order", "pk")[:TEAM_COUNT]
    )


def banners() -> list[SiteImage]:
    return list(SiteImage.objects.filter(kind=ImageSlot.BANNER, is_active=True))


def plans() -> list:
    return list(plans_on_sale().filter(active=True))


def published_stories():
    return SuccessStory.objects.filter(published=True).prefetch_related("photos")


def latest_stories() -> list[SuccessStory]:
    return list(published_stories()[:STORIES_ON_HOME])


def story_photos():
    """Photos of published stories: the couple agreed to show them (consent is recorded)."""
    return StoryPhoto.objects.filter(story__published=True)


def story_years() -> list[int]:
    return [
        d.year
        for d in SuccessStory.objects.filter(published=True).dates("happened_on", "year", "DESC")
    ]


@dataclass(frozen=True)
class StoriesPage:
    stories: list
    number: int
    pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


STORIES_PAGE_SIZE = 9


def stories_page(filters: dict, page: int = 1) -> StoriesPage:
    qs = published_stories()
    if filters.get("year"):
        qs = qs.filter(happened_on__year=filters["year"])
    if filters.get("store"):
        qs = qs.filter(store=filters["store"])
    total = qs.count()
    pages = max(1, -(-total // STORIES_PAGE_SIZE))
    number = min(max(1, page), pages)
    start = (number - 1) * STORIES_PAGE_SIZE
    return StoriesPage(list(qs[start : start + STORIES_PAGE_SIZE]), number, pages)


# --- search -----------------------------------------------------------------------------------


def _region_range(code: str) -> tuple[str, str] | None:
    """A province or city code as the range of the codes below it ("44" → 440000–449999)."""
    if not code or len(code) != 6 or not code.isdigit():
        return None
    prefix = code[:2] if code[2:] == "0000" else code[:4] if code[4:] == "00" else code
    low = prefix.ljust(6, "0")
    high = str(int(prefix) + 1).ljust(6, "0")
    return low, high


def search_q(filters: dict, today: date | None = None) -> Q:
    """The search bar's filters (cleaned by `forms.PublicSearchForm`) as a query."""
    today = today or timezone.localdate()
    q = Q()
    if filters.get("sex"):
        q &= _sex_is(filters["sex"])
    if filters.get("age_min"):
        # At least N years old: born on or before today N years ago.
        q &= Q(LessThanOrEqual(_unindexed("birthday"), _years_ago(today, filters["age_min"])))
    if filters.get("age_max"):
        # At most N years old: born after today N+1 years ago.
        q &= Q(GreaterThan(_unindexed("birthday"), _years_ago(today, filters["age_max"] + 1)))
    if filters.get("education"):
        q &= Q(education__gte=filters["education"])
    if filters.get("marital_status"):
        q &= Q(marital_status=filters["marital_status"])
    if filters.get("occupation"):
        q &= Q(occupation=filters["occupation"])
    if filters.get("income"):
        q &= Q(annual_income__gte=filters["income"])
    bounds = _region_range(filters.get("region") or "")
    if bounds:
        q &= Q(GreaterThanOrEqual(_unindexed("region"), bounds[0])) & Q(
            LessThan(_unindexed("region"), bounds[1])
        )
    return q


@dataclass(frozen=True)
class SearchPage:
    cards: list[PublicMember]
    number: int
    total: int  # capped at MAX_PAGES pages
    capped: bool
    pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def search(filters: dict, page: int = 1) -> SearchPage:
    """One page of the search, newest members first. One walk of member_public_search collects
    the ids of the first MAX_PAGES pages (the index holds every column tested, so no row is
    read): it gives the count and the page's ids; only the page's rows are then read."""
    qs = public_members().filter(search_q(filters)).order_by("-registered_at", "-id")
    cap = PAGE_SIZE * MAX_PAGES
    ids = list(qs.values_list("id", flat=True)[: cap + 1])
    capped = len(ids) > cap
    total = min(len(ids), cap)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, page), pages)
    start = (number - 1) * PAGE_SIZE
    wanted = ids[start : start + PAGE_SIZE]
    rows = []
    if wanted:
        by_id = {
            m.pk: m
            for m in Member.objects.filter(pk__in=wanted)
            .only(*PUBLIC_COLUMNS)
            .prefetch_related(_approved_photos())
        }
        rows = [by_id[pk] for pk in wanted if pk in by_id]
    return SearchPage(_cards(rows), number, total, capped, pages)


# --- one member -------------------------------------------------------------------------------


def public_member(code: str) -> PublicMember | None:
    """A member's public page by public code; None when there is no such member or the member
    is not shown (hidden, not offered, under age…), which the view answers with 404 alike."""
    pk = public_ids.decode("member", code)
    if pk is None:
        return None
    member = (
        public_members()
        .filter(pk=pk)
        .only(*PUBLIC_COLUMNS)
        .prefetch_related(_approved_photos())
        .first()
    )
    if member is None:
        return None
    return _cards([member], region_level=4)[0]


def hukou_label(member: PublicMember) -> str:
    code = member.view.hukou_region
    if not code:
        return ""
    key = code[:4].ljust(6, "0")
    return region_labels([key]).get(key, "")


def tag_labels(codes, choices) -> list[str]:
    """Hobby or personality codes as their labels, in the choices' order."""
    wanted = set(codes or [])
    return [str(label) for code, label in choices.choices if code in wanted]


def public_photo(member_code: str, photo_code: str) -> MemberPhoto | None:
    """An approved photo of a member shown on the public site, else None."""
    member_pk = public_ids.decode("member", member_code)
    photo_pk = public_ids.decode("photo", photo_code)
    if member_pk is None or photo_pk is None:
        return None
    return (
        MemberPhoto.objects.filter(
            pk=photo_pk,
            member_id=member_pk,
            status=c.PhotoStatus.APPROVED,
        )
        .filter(Exists(public_members().filter(pk=OuterRef("member_id"))))
        .first()
    )


def sitemap_members():
    """Every member shown, for the sitemap (ids only, newest first)."""
    return public_members().order_by("-registered_at", "-id").values_list("id", "registered_at")
