from django import template
from django.utils.html import format_html

from hongniang.staff.permissions import can as can_do

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str):
    """A column header that toggles `?sort=key` / `?sort=-key`, keeping the other filters."""
    request = context["request"]
    current = request.GET.get("sort", context.get("default_sort", ""))
    query = request.GET.copy()
    query.pop("page", None)
    if current == key:
        query["sort"], arrow = f"-{key}", " ↑"
    elif current == f"-{key}":
        query["sort"], arrow = key, " ↓"
    else:
        query["sort"], arrow = key, ""
    return format_html(
        '<a class="table-sort-link" href="?{}">{}{}</a>', query.urlencode(), label, arrow
    )


@register.simple_tag(takes_context=True)
def can(context, module: str, action: str = "view") -> bool:
    return can_do(context["request"].user, module, action)


@register.filter
def field_label(obj, name: str):
    return obj._meta.get_field(name).verbose_name
