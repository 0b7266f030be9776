"""The workbench's "log in as this member" button, drawn by the member centre that owns the rule
(members/ is a lower floor: its member page loads this tag instead of knowing the rule)."""

from django import template

from hongniang.frontdesk.models import MemberAccount
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
