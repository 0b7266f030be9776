"""The member's place on the public site, on the workbench's member page (members/ is a lower
floor: its page loads this tag instead of knowing the public site)."""

from django import template

from hongniang.portal import public_ids
from hongniang.portal import site_selectors as sel
from hongniang.staff.permissions import can

register = template.Library()


@register.inclusion_tag("portal/site/_member_panel.html", takes_context=True)
def public_site_panel(context, member):
    shown = sel.public_members().filter(pk=member.pk).exists()
    return {
        "member": member,
        "may_edit": can(context["request"].user, "members", "edit"),
        "shown": shown,
        "code": public_ids.encode("member", member.pk) if shown else "",
        "csrf_token": context.get("csrf_token"),
    }
