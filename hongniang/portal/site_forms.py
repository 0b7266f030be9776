"""Forms of the public site and of its settings on a member's page."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.regions import RegionLevel
from hongniang.members.widgets import RegionField
from hongniang.staff.models import Store
from hongniang.workbench.forms import StyledFormMixin

AGE_MIN, AGE_MAX = 18, 99


def _blank(label):
    return [("", label)]


class PublicSearchForm(StyledFormMixin, forms.Form):
    """The search bar of the public home (前台首页): every field optional."""

    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=_blank(_("Any sex")) + list(c.Sex.choices)
    )
    age_min = forms.IntegerField(
        label=_("Age from"), required=False, min_value=AGE_MIN, max_value=AGE_MAX
    )
    age_max = forms.IntegerField(
        label=_("Age to"), required=False, min_value=AGE_MIN, max_value=AGE_MAX
    )
    education = forms.TypedChoiceField(
        label=_("Education"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=_blank(_("Any education"))
        + [(v, format_lazy(_("{} or higher"), label)) for v, label in c.Education.choices],
    )
    marital_status = forms.ChoiceField(
        label=_("Marital status"),
        required=False,
        choices=_blank(_("Any marital status"))
        + [(v, label) for v, label in c.MaritalStatus.choices if v != c.MaritalStatus.MARRIED],
    )
    occupation = forms.ChoiceField(
        label=_("Occupation"),
        required=False,
        choices=_blank(_("Any occupation")) + list(c.Occupation.choices),
    )
    income = forms.TypedChoiceField(
        label=_("Annual income"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=_blank(_("Any income"))
        + [(v, format_lazy(_("{} or more"), label)) for v, label in c.AnnualIncome.choices],
    )
    region = RegionField(
        label=_("Location"),
        required=False,
        max_level=RegionLevel.CITY,
        url_name="frontdesk:region_children",
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("age_min"), data.get("age_max")
        if low and high and low > high:
            raise ValidationError(_("The lowest age must not be above the highest."))
        return data

    def filters(self) -> dict:
        """The valid filters (a wrong field is left out, with its message on the page)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {}) or {}
        if self.non_field_errors():
            data = {k: v for k, v in data.items() if k not in ("age_min", "age_max")}
        return {k: v for k, v in data.items() if v not in (None, "")}


class StoryFilterForm(StyledFormMixin, forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    store = forms.ModelChoiceField(
        label=_("Store"), required=False, queryset=Store.objects.all(), empty_label=_("All stores")
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _blank(_("All years")) + [(y, str(y)) for y in years]


class SiteFlagsForm(forms.Form):
    """A member's place on the public site, set by staff on the member's page."""

    site_featured = forms.BooleanField(
        label=Member._meta.get_field("site_featured").verbose_name, required=False
    )
    site_hidden = forms.BooleanField(
        label=Member._meta.get_field("site_hidden").verbose_name, required=False
    )
