"""A province → city → county cascade for a 6-digit region code (GB/T 2260).

``RegionField`` is a form field whose cleaned value is the most specific code chosen ("440106",
or "440100" when only a city was chosen, "440000" for a province). Its widget ``RegionSelect``
renders one ``<select>`` per level, named ``<name>_province``, ``<name>_city`` and
``<name>_county``. With htmx, choosing a province reloads the city options (and empties the
counties) from ``members:region_children``; without JavaScript the form still submits the
province, and after a round trip the cities of the chosen province are rendered server-side.

Usage in a ModelForm for a model ``CharField(max_length=6)`` named ``region_code``::

    class MemberForm(forms.ModelForm):
        class Meta:
            model = Member
            fields = [..., "region_code"]
            field_classes = {"region_code": RegionField}

or declare it to pass options: ``region_code = RegionField(label=_("Location"), min_level=2)``;
``hukou_province = RegionField(max_level=RegionLevel.PROVINCE)`` shows the province select only.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hongniang.members import rendercache
from hongniang.members.regions import (
    Region,
    RegionLevel,
    children,
    is_region_code,
    provinces,
    region_path,
    regions_version,
)

LEVEL_KEYS = {
    RegionLevel.PROVINCE: "province",
    RegionLevel.CITY: "city",
    RegionLevel.COUNTY: "county",
}
LEVEL_LABELS = {
    RegionLevel.PROVINCE: _("Province"),
    RegionLevel.CITY: _("City"),
    RegionLevel.COUNTY: _("District / county"),
}
# Attributes of the field that make no sense on each select (CharField adds maxlength; the
# shared form styling adds form-control).
_DROPPED_ATTRS = {"id", "class", "maxlength", "minlength", "required"}
# htmx sends the select above as ?parent=<code>: static/js/workbench.js reads the id named in
# data-region-parent (hx-vals with "js:" would need eval, which the CSP forbids).


def most_specific_code(codes: list[str]) -> str:
    """The deepest code of a province → city → county chain, ignoring a level that does not
    belong to the level above (a county left selected after the province was changed)."""
    chosen = ""
    for code in codes:
        if not is_region_code(code):
            break
        if chosen and not code.startswith(_prefix(chosen)):
            break
        chosen = code
    return chosen


def _prefix(code: str) -> str:
    """The digits a child's code shares with ``code``: "44" for 440000, "4401" for 440100."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


class RegionSelect(forms.Widget):
    template_name = "members/widgets/region_select.html"

    def __init__(
        self,
        attrs=None,
        max_level: int = RegionLevel.COUNTY,
        url_name: str = "members:region_children",
    ):
        super().__init__(attrs)
        self.max_level = int(max_level)
        # The view answering ?parent=<code> with <option>s; a public page can name its own.
        self.url_name = url_name

    @property
    def levels(self) -> list[RegionLevel]:
        return [lvl for lvl in RegionLevel if lvl <= self.max_level]

    @staticmethod
    def subname(name: str, level: RegionLevel) -> str:
        return f"{name}_{LEVEL_KEYS[level]}"

    def value_from_datadict(self, data, files, name):
        keys = [self.subname(name, lvl) for lvl in self.levels]
        if name in data and not any(k in data for k in keys):
            # A plain code posted under the field's own name (API clients, imports, tests).
            return (data.get(name) or "").strip()
        return most_specific_code([(data.get(k) or "").strip() for k in keys])

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(self.subname(name, lvl) in data for lvl in self.levels)

    def id_for_label(self, id_):
        return f"{id_}_{LEVEL_KEYS[RegionLevel.PROVINCE]}" if id_ else id_

    def format_value(self, value):
        return "" if value is None else str(value)

    def render(self, name, value, attrs=None, renderer=None):
        # The options come from the region table: remembered per table version (rendercache).
        key = (
            *rendercache.widget_key(self, name, value, attrs),
            self.max_level,
            self.url_name,
            regions_version(),
        )
        parent = super()
        return rendercache.remembered(key, lambda: parent.render(name, value, attrs, renderer))

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        final = context["widget"]["attrs"]
        base_id = final.get("id") or f"id_{name}"
        classes = [c for c in str(final.get("class", "")).split() if c != "form-control"]
        if "form-select" not in classes:
            classes.insert(0, "form-select")
        shared = {k: v for k, v in final.items() if k not in _DROPPED_ATTRS}

        path = [r for r in region_path(context["widget"]["value"]) if r.level <= self.max_level]
        selected = {r.level: r.code for r in path}
        url = reverse(self.url_name) if self.max_level > RegionLevel.PROVINCE else ""

        selects = []
        for lvl in self.levels:
            sub_id = f"{base_id}_{LEVEL_KEYS[lvl]}"
            sub_attrs = {
                **shared,
                "id": sub_id,
                "class": " ".join(classes),
                "aria-label": LEVEL_LABELS[lvl],
            }
            if lvl == RegionLevel.PROVINCE:
                options = provinces()
                if final.get("required"):
                    sub_attrs["required"] = True
            else:
                parent_id = f"{base_id}_{LEVEL_KEYS[RegionLevel(lvl - 1)]}"
                parent_code = selected.get(RegionLevel(lvl - 1))
                options = children(parent_code) if parent_code else Region.objects.none()
                triggers = f"change from:#{parent_id}"
                if lvl > RegionLevel.CITY:
                    # The level above was reloaded (and so reset): empty this one as well.
                    triggers += f", htmx:afterSettle from:#{parent_id}"
                sub_attrs |= {
                    "hx-get": url,
                    "hx-trigger": triggers,
                    "data-region-parent": parent_id,
                    "hx-sync": "this:replace",
                }
            selects.append(
                {
                    "name": self.subname(name, lvl),
                    "attrs": sub_attrs,
                    "options": options,
                    "selected": selected.get(lvl, ""),
                }
            )
        context["widget"]["selects"] = selects
        return context


class RegionField(forms.CharField):
    """A region code chosen through a :class:`RegionSelect` cascade and checked against the table.

    ``max_level`` is the deepest level offered (1 province, 2 city, 3 county); ``min_level`` the
    least specific level accepted. A city without counties (东莞, 中山, …) satisfies level 3.
    """

    default_error_messages = {
        "invalid_region": _("Select a valid region."),
        "too_coarse": _("Select a more specific region."),
    }

    def __init__(
        self,
        *,
        max_level: int = RegionLevel.COUNTY,
        min_level: int = 1,
        url_name: str = "members:region_children",
        **kwargs,
    ):
        if not 1 <= min_level <= max_level <= RegionLevel.COUNTY:
            raise ValueError("Need 1 <= min_level <= max_level <= 3.")
        self.max_level, self.min_level = int(max_level), int(min_level)
        kwargs.setdefault("widget", RegionSelect(max_level=self.max_level, url_name=url_name))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        level = (
            Region.objects.filter(code=value).values_list("level", flat=True).first()
            if is_region_code(value)
            else None
        )
        if level is None or level > self.max_level:
            raise ValidationError(self.error_messages["invalid_region"], code="invalid_region")
        if level < self.min_level and children(value).exists():
            raise ValidationError(self.error_messages["too_coarse"], code="too_coarse")
