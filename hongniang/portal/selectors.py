"""Reads of the member centre: always the logged-in member's own records, nothing of others."""

from dataclasses import dataclass

from hongniang.members.forms import PROFILE_GROUPS, MemberForm, PreferenceForm
from hongniang.members.models import MatePreference, Member, MemberPhoto
from hongniang.siteconfig.models import SiteSettings

# The account fields a member sees of themselves; the ID number, the store and the consent stay
# with the staff (the member centre of issue 13 decides what members may change).
OWN_ACCOUNT_FIELDS = ("username", "name", "email", "wechat", "qq")


def my_profile(member: Member) -> list[tuple[str, list]]:
    """[(section title, [bound fields])] of the member's own profile, read-only, labelled as on
    the workbench's member page (choices and regions by their names)."""
    form = MemberForm(instance=member)
    sections = []
    for index, (title, names) in enumerate(PROFILE_GROUPS):
        if index == 0:
            names = [n for n in names if n in OWN_ACCOUNT_FIELDS]
        sections.append((title, [form[n] for n in names]))
    return sections


def my_preferences(member: Member) -> tuple[list[tuple[str, list, bool]], str] | None:
    """([(criterion, [bound fields of the requirement], must-have)] for each criterion the member
    stated, their other requirements); None when no preferences are recorded."""
    preference = MatePreference.objects.filter(member=member).first()
    if preference is None:
        return None
    rows = []
    for label, fields, must, _importance in PreferenceForm(instance=preference).rows():
        if any(f.value() not in (None, "", [], ()) for f in fields):
            rows.append((label, fields, bool(must.value())))
    return rows, preference.other


@dataclass(frozen=True)
class MatchmakerCard:
    display_name: str
    phone: str
    phone_is_personal: bool
    avatar_url: str
    store: str


def my_matchmaker(member: Member) -> MatchmakerCard | None:
    """The member's matchmaker (after-sales once there is one, else pre-sales). Their own phone
    only when the agency shows them on the site; otherwise the store's or the agency's number."""
    staff = member.aftersales_owner or member.presales_owner
    if staff is None:
        return None
    site = SiteSettings.load()
    store_phone = staff.store.phone if staff.store_id else ""
    shown = staff.show_on_site and bool(staff.mobile)
    return MatchmakerCard(
        # The name the agency gives them on the site (资深红娘王老师), else their name.
        display_name=staff.public_title or staff.name,
        phone=staff.mobile if shown else (store_phone or site.hotline or site.contact_phone),
        phone_is_personal=shown,
        avatar_url=staff.avatar.url if staff.show_on_site and staff.avatar else "",
        store=staff.store.name if staff.store_id else "",
    )


def member_for_home(member_pk: int) -> Member:
    return Member.objects.select_related(
        "aftersales_owner__store", "presales_owner__store", "store"
    ).get(pk=member_pk)


def my_avatar(member: Member) -> MemberPhoto | None:
    return MemberPhoto.objects.filter(member=member, is_avatar=True).first()
