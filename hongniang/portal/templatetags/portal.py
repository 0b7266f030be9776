"""The workbench's "log in as this member" button and the member-account panel, drawn by the
member centre that owns their rules (members/ is a lower floor: its member page loads these tags
instead of knowing the rules)."""

from django import template

from hongniang.frontdesk.models import MemberAccount
from hongniang.portal import accounts
from hongniang.portal.services import may_impersonate

register = template.Library()


@register.inclusion_tag("portal/_login_as.html", takes_context=True)
def login_as_button(context, member):
    user = context["request"].user
    allowed = may_impersonate(user)
    return {
        "member": member,
        "allowed": allowed,
        "has_account": allowed and MemberAccount.objects.filter(member_id=member.pk).exists(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("portal/_account_panel.html", takes_context=True)
def account_panel(context, member):
    """The member's account on their page: its state and, for staff with members edit, open,
    reset the password, close or reopen."""
    return {
        "member": member,
        "account": MemberAccount.objects.filter(member_id=member.pk).first(),
        "may_manage": accounts.may_manage(context["request"].user),
        "csrf_token": context.get("csrf_token"),
    }
