"""The workbench member page's mark of a family profile (members/ is a lower floor: its page
loads this tag instead of knowing family profiles), and the member centre's link to the switch."""

from django import template

from hongniang.family import selectors

register = template.Library()


@register.inclusion_tag("family/_staff_panel.html")
def family_panel(member):
    return {"member": member, "profile": selectors.profile_for_staff(member.pk)}


@register.inclusion_tag("family/_centre_card.html")
def family_share_card(member):
    return {"profile": selectors.approved_profile_of(member)}
