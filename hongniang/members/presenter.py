"""The one presenter that decides what a viewer sees of a member (DESIGN.md, Permissions).

A member is "own" for a viewer when the viewer may see the member's record (`visible_to`): their
own team's members, or everyone for the scope "all". Everybody else's member — a candidate of
another team in the match library, the partner of an appointment, the target of an introduction
request — is shown with public fields only: the surname followed by "**", no contact data at all.

Every template, flash message, notice and export that can show a member who is not the viewer's
goes through `present`/`present_many`/`member_label`; nothing prints `member.name` or a contact
field of such a member directly.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from hongniang.members.models import Member

# Fields that identify or reach a person; shown to the member's own team only.
PRIVATE_FIELDS = ("name", "mobile", "id_number", "wechat", "qq", "email", "username")
# Fields anyone in the agency may see of a member offered as a candidate.
PUBLIC_FIELDS = frozenset(
    {
        "pk",
        "id",
        "sex",
        "get_sex_display",
        "age",
        "birthday_year",
        "height",
        "weight",
        "education",
        "get_education_display",
        "marital_status",
        "get_marital_status_display",
        "occupation",
        "get_occupation_display",
        "annual_income",
        "get_annual_income_display",
        "monthly_income",
        "get_monthly_income_display",
        "region",
        "hukou_region",
        "car",
        "get_car_display",
        "house",
        "get_house_display",
        "children",
        "get_children_display",
        "hobbies",
        "personality",
        "store",
        "store_id",
        "presales_owner",
        "presales_owner_id",
        "aftersales_owner",
        "aftersales_owner_id",
    }
)


def mask_name(name: str) -> str:
    """张三丰 → 张**: the surname (first character) only."""
    name = (name or "").strip()
    return f"{name[:1]}**" if name else "—"


@dataclass(frozen=True)
class MemberView:
    """What `viewer` may see of `member`; templates use it like a member."""

    # Underscored so that a template cannot reach past the presenter to the raw row.
    _member: Member
    own: bool
    # A visitor of the public site: not even the surname (a surname with an age and a town can
    # be enough to find someone), only "Ms."/"Mr.".
    public: bool = False

    # --- identity ---
    @property
    def pk(self) -> int:
        return self._member.pk

    @property
    def uid(self) -> int:
        return self._member.pk

    @property
    def name(self) -> str:
        if self.public:
            return str(_("Ms.") if self._member.sex == "F" else _("Mr."))
        return self._member.name if self.own else mask_name(self._member.name)

    @property
    def label(self) -> str:
        """The name and UID, as messages and notices print a member."""
        return _("%(name)s (UID %(uid)s)") % {"name": self.name, "uid": self._member.pk}

    @property
    def url(self) -> str | None:
        """The member's page, only for a viewer who may open it."""
        return reverse("members:detail", args=[self._member.pk]) if self.own else None

    # --- contact data: masked for the own team (reveal is a separate, logged action) ---
    @property
    def mobile(self) -> str:
        return self._member.mobile_masked if self.own else ""

    @property
    def id_number(self) -> str:
        return self._member.id_number_masked if self.own else ""

    @property
    def wechat(self) -> str:
        return self._member.wechat if self.own else ""

    @property
    def qq(self) -> str:
        return self._member.qq if self.own else ""

    @property
    def email(self) -> str:
        return self._member.email if self.own else ""

    @property
    def username(self) -> str:
        return self._member.username if self.own else ""

    @property
    def matchmaker(self):
        """The member's matchmaker: the person to contact about this member."""
        return self._member.aftersales_owner or self._member.presales_owner

    def __getattr__(self, attr):
        # Public profile fields pass through; anything else of another team's member is hidden.
        if attr in PUBLIC_FIELDS or (attr.startswith("get_") and attr.endswith("_display")):
            return getattr(self._member, attr)
        if self.own and not attr.startswith("_"):
            return getattr(self._member, attr)
        raise AttributeError(attr)

    def __str__(self) -> str:
        return self.name


def own_member_ids(viewer, ids) -> set[int]:
    """Of `ids`, the members whose record the viewer may see (one query)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return set()
    return set(Member.objects.visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True))


def present(viewer, member: Member, *, own: bool | None = None) -> MemberView:
    if own is None:
        own = bool(own_member_ids(viewer, [member.pk]))
    return MemberView(member, own)


def present_many(viewer, members) -> list[MemberView]:
    members = list(members)
    own = own_member_ids(viewer, [m.pk for m in members])
    return [MemberView(m, m.pk in own) for m in members]


def present_public(members) -> list[MemberView]:
    """Members as a visitor of the public site sees them: public fields, no name at all."""
    return [MemberView(m, own=False, public=True) for m in members]


def member_label(viewer, member: Member) -> str:
    """A member as one line of text for `viewer`: messages, notices, exports."""
    return present(viewer, member).label


# What one member may see of another (the member centre): the profile's public fields, and no
# name at all — not even the surname — nor who serves them.
PEER_HIDDEN = frozenset(
    {"store", "store_id", "presales_owner", "presales_owner_id", "aftersales_owner"}
    | {"aftersales_owner_id"}
)


@dataclass(frozen=True)
class PeerView(MemberView):
    own: bool = False

    @property
    def name(self) -> str:
        return _("Member %(uid)s") % {"uid": self._member.pk}

    @property
    def label(self) -> str:
        return self.name

    @property
    def url(self) -> None:
        return None

    @property
    def matchmaker(self) -> None:
        return None

    def __getattr__(self, attr):
        if attr in PEER_HIDDEN:
            raise AttributeError(attr)
        return super().__getattr__(attr)


def present_to_member(other: Member) -> PeerView:
    """`other` as another member sees them: never their record, whatever the caller."""
    return PeerView(other)
