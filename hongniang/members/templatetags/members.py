from django import forms, template
from django.utils.translation import gettext as _

from hongniang.members.regions import region_label
from hongniang.members.widgets import RegionField

register = template.Library()


@register.simple_tag
def display_value(bound_field) -> str:
    """A bound form field's current value as a reader sees it: labels, not stored codes."""
    field, value = bound_field.field, bound_field.value()
    if value in (None, "", [], ()):
        return "—"
    if isinstance(field, RegionField):
        return region_label(value) or "—"
    if isinstance(field, forms.BooleanField):
        return _("Yes") if value else _("No")
    choices = dict((str(k), v) for k, v in getattr(field, "choices", []) or [])
    if isinstance(value, list | tuple):
        return "、".join(str(choices.get(str(v), v)) for v in value)
    if choices:
        return str(choices.get(str(value), value))
    return str(value)
