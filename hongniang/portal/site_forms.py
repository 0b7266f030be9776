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
from hongniang.workbench.uploads import CheckedImageField

from .models import StoryPhoto, SuccessStory

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


class MemberUidField(forms.IntegerField):
    """A member by UID (the number staff see on member pages)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


class StoryForm(StyledFormMixin, forms.ModelForm):
    """A success story as staff write it: the two members by UID, each one's consent, photos."""

    member_a_uid = MemberUidField(
        label=_("Member UID"), help_text=_("A member of your team (or one you can see).")
    )
    member_b_uid = MemberUidField(label=_("Partner UID"))
    consent_a = forms.BooleanField(
        label=_("The member agreed to publish this story"), required=True
    )
    consent_b = forms.BooleanField(
        label=_("The partner agreed to publish this story"), required=True
    )
    photo = CheckedImageField(label=_("Add a photo"), max_px=1600)
    remove_photos = forms.ModelMultipleChoiceField(
        label=_("Remove photos"),
        queryset=StoryPhoto.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    field_order = [
        "title",
        "member_a_uid",
        "consent_a",
        "consent_a_on",
        "member_b_uid",
        "consent_b",
        "consent_b_on",
        "happened_on",
        "text",
        "photo",
        "remove_photos",
        "published",
    ]

    class Meta:
        model = SuccessStory
        fields = ["title", "consent_a_on", "consent_b_on", "happened_on", "text", "published"]
        widgets = {
            "consent_a_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "consent_b_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "happened_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "text": forms.Textarea(attrs={"rows": 8}),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        story = self.instance
        if story.pk:
            self.initial.setdefault("member_a_uid", story.member_a_id)
            self.initial.setdefault("member_b_uid", story.member_b_id)
            self.initial.setdefault("consent_a", True)
            self.initial.setdefault("consent_b", True)
            self.fields["remove_photos"].queryset = story.photos.all()
        else:
            del self.fields["remove_photos"]

    def clean_member_a_uid(self):
        uid = self.cleaned_data["member_a_uid"]
        member = Member.objects.visible_to(self.actor).filter(pk=uid).first()
        if member is None:
            raise ValidationError(_("No member of yours has this UID."))
        return member

    def clean_member_b_uid(self):
        uid = self.cleaned_data["member_b_uid"]
        member = Member.objects.filter(pk=uid).first()
        if member is None:
            raise ValidationError(_("No member has this UID."))
        return member

    def clean(self):
        data = super().clean()
        a, b = data.get("member_a_uid"), data.get("member_b_uid")
        if a is not None and b is not None:
            if a.pk == b.pk:
                self.add_error("member_b_uid", _("A story needs two different members."))
            self.instance.member_a, self.instance.member_b = a, b
        return data
