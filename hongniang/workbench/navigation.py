"""The sidebar: the whitepaper's modules, each shown only to roles that may use it."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from hongniang.staff.permissions import can
from hongniang.staff.visibility import DataScope, user_scope


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    module: str
    action: str = "view"
    icon: str = "point"
    # Pages for administrators only: the module action and the data scope "all".
    all_scope: bool = False


@dataclass(frozen=True)
class NavSection:
    label: str
    icon: str
    items: tuple[NavItem, ...]


SECTIONS = (
    NavSection(
        _("Members"),
        "users",
        (
            NavItem(_("Member list"), "members:list", "members", icon="list"),
            NavItem(_("Add member"), "members:create", "members", "add", icon="user-plus"),
            NavItem(_("Allocate"), "members:pools", "members", "allocate", icon="arrows-split"),
            NavItem(_("Reallocate"), "members:reallocate", "members", "allocate", icon="switch"),
            NavItem(_("Import"), "members:import", "members", "add", icon="file-import"),
        ),
    ),
    NavSection(
        _("Pre-sales"),
        "phone-call",
        (
            NavItem(_("Pre-sales follow-up"), "members:presales", "presales", icon="phone"),
            NavItem(_("Public pool"), "members:public_pool", "presales", icon="users-group"),
            NavItem(_("Waiting for my acceptance"), "members:pending", "members", icon="inbox"),
        ),
    ),
    NavSection(
        _("After-sales service"),
        "heart",
        (
            NavItem(
                _("After-sales follow-up"), "members:aftersales", "aftersales", icon="messages"
            ),
            NavItem(_("Match library"), "matching:library_index", "matching", icon="hearts"),
            NavItem(_("Appointments"), "matching:appointments", "matching", icon="calendar-heart"),
            NavItem(
                _("Introduction requests"),
                "matching:introductions",
                "matching",
                icon="message-heart",
            ),
            NavItem(_("Complaints"), "finance:complaints", "aftersales", icon="mood-sad"),
            NavItem(
                _("Success stories"), "portal:stories_manage", "aftersales", icon="heart-handshake"
            ),
        ),
    ),
    NavSection(
        _("Finance"),
        "coin-yuan",
        (
            NavItem(_("Contracts"), "finance:contracts", "finance", icon="file-certificate"),
            NavItem(_("Payments"), "finance:payments", "finance", icon="cash"),
            NavItem(_("Refunds"), "finance:refunds", "finance", icon="receipt-refund"),
            NavItem(_("Service plans"), "finance:plans", "finance", icon="package"),
            NavItem(_("Sales report"), "finance:report", "reports", icon="chart-bar"),
        ),
    ),
    NavSection(
        _("Front desk"),
        "building-store",
        (
            NavItem(
                _("Consultations"), "frontdesk:consultations", "presales", icon="message-question"
            ),
            NavItem(_("My registration link"), "frontdesk:my_link", "members", icon="qrcode"),
            NavItem(_("Registrations by link"), "frontdesk:referrals", "staff", icon="chart-bar"),
        ),
    ),
    NavSection(
        _("Messages"),
        "mail",
        (
            NavItem(_("Inbox"), "member_messages:inbox", "members", icon="inbox"),
            NavItem(_("Sent messages"), "member_messages:sent", "members", icon="send"),
            NavItem(
                _("Message templates"),
                "member_messages:templates",
                "settings",
                "edit",
                icon="template",
            ),
        ),
    ),
    NavSection(
        _("Matchmakers"),
        "heart-handshake",
        (
            NavItem(_("Matchmaker list"), "staff:list", "staff", icon="id-badge"),
            NavItem(_("Add matchmaker"), "staff:create", "staff", "add", icon="user-plus"),
            NavItem(_("Roles"), "staff:roles", "staff", "edit", icon="shield-lock"),
            NavItem(_("Stores"), "staff:stores", "staff", icon="building-store"),
            NavItem(
                _("Login lock-outs"), "staff:lockouts", "staff", "edit", icon="lock", all_scope=True
            ),
        ),
    ),
    NavSection(
        _("System settings"),
        "settings",
        (
            NavItem(_("Site settings"), "siteconfig:edit", "settings", icon="adjustments"),
            NavItem(_("Banners and ads"), "siteconfig:images", "settings", icon="photo"),
            NavItem(_("Registration form"), "frontdesk:settings", "settings", "edit", icon="forms"),
            NavItem(
                _("Audit trail"), "siteconfig:audit", "settings", icon="history", all_scope=True
            ),
            NavItem(
                _("Personal data access"),
                "siteconfig:personal_data",
                "settings",
                icon="eye-check",
                all_scope=True,
            ),
            NavItem(
                _("Background jobs"), "jobs:list", "settings", icon="list-check", all_scope=True
            ),
        ),
    ),
)


def sections_for(user, current_path: str) -> list[dict]:
    result = []
    for section in SECTIONS:
        items = []
        for item in section.items:
            if not can(user, item.module, item.action):
                continue
            if item.all_scope and user_scope(user) != DataScope.ALL:
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:  # a module whose screens are not installed yet
                continue
            items.append(
                {"label": item.label, "url": url, "icon": item.icon, "active": current_path == url}
            )
        if items:
            result.append(
                {
                    "label": section.label,
                    "icon": section.icon,
                    "items": items,
                    "active": any(i["active"] for i in items),
                }
            )
    return result
