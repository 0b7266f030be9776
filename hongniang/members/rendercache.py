"""Rendered choice widgets of the member form, remembered per process.

The member form draws some 60 selects and checkbox lists (ethnic groups, occupations, the three
region cascades…); rendering their options through the widget templates was most of the time of
/members/new/ and the edit page. A widget's HTML depends only on what the key holds: its class
and templates, name, attributes, value, choices (labels in the active language) and the active
language; for a region cascade also the region table's version, which `regions.sync_regions`
raises whenever it writes. So a remembered render is the render, and nothing needs clearing by
hand. Choices read from other tables (a ModelChoiceField: stores) are never remembered.
"""

from django import forms
from django.utils.translation import get_language

MAX_ENTRIES = 5000
_rendered: dict = {}
_classes: dict[type, type] = {}


def remembered(key, render) -> str:
    html = _rendered.get(key)
    if html is None:
        if len(_rendered) >= MAX_ENTRIES:
            _rendered.clear()  # crude but bounded: the forms refill it in a few requests
        html = _rendered[key] = render()
    return html


def clear() -> None:
    _rendered.clear()


def _flat(choices) -> tuple:
    """The choices as plain strings in the active language (groups kept)."""
    out = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            out.append((str(value), _flat(label)))
        else:
            out.append((str(value), str(label)))
    return tuple(out)


def widget_key(widget, name, value, attrs, *extra) -> tuple:
    final = widget.build_attrs(widget.attrs, attrs)
    return (
        type(widget).__mro__[1],  # the class the cached one stands for
        widget.template_name,
        getattr(widget, "option_template_name", ""),
        name,
        repr(widget.format_value(value)),
        tuple(sorted((k, str(v)) for k, v in final.items())),
        get_language(),
        *extra,
    )


class RememberedChoices:
    """Mixin for a choice widget with fixed choices: remembers its HTML (see module)."""

    def render(self, name, value, attrs=None, renderer=None):
        key = (*widget_key(self, name, value, attrs), _flat(self.choices))
        parent = super()
        return remembered(key, lambda: parent.render(name, value, attrs, renderer))


def _remembering(cls: type) -> type:
    if cls not in _classes:
        # Same name: templates tell widgets apart by it (BoundField.widget_type).
        _classes[cls] = type(cls.__name__, (RememberedChoices, cls), {})
    return _classes[cls]


def remember_choice_renders(form) -> None:
    """Make the form's fixed-choice widgets remember their HTML (the region cascades remember
    theirs on their own)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(field, forms.ModelChoiceField) or isinstance(widget, RememberedChoices):
            continue
        if isinstance(widget, forms.Select | forms.SelectMultiple | forms.RadioSelect):
            widget.__class__ = _remembering(type(widget))
