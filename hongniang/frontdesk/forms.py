from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.forms import (
    PREFERENCE_ROWS,
    PROFILE_GROUPS,
    SIBLINGS,
    MemberForm,
    PreferenceForm,
)
from hongniang.members.regions import RegionLevel
from hongniang.members.widgets import RegionField
from hongniang.staff.models import Staff, Store
from hongniang.workbench.forms import StyledFormMixin

from .models import PREFERENCES, ConsultationStatus, HeardFrom, member_editable_choices

# The registration form in the whitepaper's sections (2.4.4): the account first, then the profile.
ACCOUNT = ("username", "password", "mobile", "name", "id_type", "id_number", "email", "wechat")
GROUPS = ((_("Account details"), ACCOUNT), *PROFILE_GROUPS[1:])
ALWAYS_REQUIRED = frozenset({"username", "password", "mobile", "name", "sex"})
PREFERENCE_FIELDS = (
    "age_min",
    "age_max",
    "height_min",
    "height_max",
    "weight_min",
    "weight_max",
    "children",
    "education_min",
    "income_min",
    "car",
    "house",
    "marital",
    "region",
    "other",
)
PREF_PREFIX = "pref."  # how preference fields are named in the required-fields setting


class Honeypot(forms.CharField):
    """A field people never see (hidden by CSS, skipped by keyboard and screen readers) but form-
    filling robots do: a value in it marks the submission as spam."""

    def __init__(self):
        super().__init__(
            required=False,
            label=_("Leave this field empty"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )


class ConsultationForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=30)
    mobile = forms.CharField(
        label=_("Mobile"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    message = forms.CharField(
        label=_("Your message"),
        max_length=1000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": _("What would you like to ask or apply for?")}
        ),
    )
    heard_from = forms.ChoiceField(
        label=_("How did you hear of us?"),
        required=False,
        choices=[("", _("Please choose")), *HeardFrom.choices],
    )
    website = Honeypot()

    def clean_mobile(self):
        return pd.normalize_mobile(self.cleaned_data["mobile"])


def _public_checks(form):
    """Point the live checks at the front desk's public endpoints (the member form's own
    answer only to staff)."""
    for name, url_name, target in (
        ("username", "frontdesk:check_username", "#username-check"),
        ("mobile", "frontdesk:check_mobile", "#mobile-check"),
        ("id_number", "frontdesk:check_id_number", "#id-number-check"),
    ):
        form.fields[name].widget.attrs.update(
            {
                "hx-get": reverse(url_name),
                "hx-trigger": "change, keyup changed delay:500ms",
                "hx-target": target,
                "hx-include": "this, [name=id_type]" if name == "id_number" else "this",
            }
        )
        form.fields[name].widget.attrs.pop("hx-vals", None)


class RegistrationForm(MemberForm):
    """The member form for visitors: no store, a login password, live checks without login, and
    the agency's own choice of required fields."""

    password = forms.CharField(
        label=_("Login password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    ref = forms.CharField(required=False, widget=forms.HiddenInput)
    website = Honeypot()

    class Meta(MemberForm.Meta):
        fields = [
            n for _t, names in GROUPS for n in names if n not in ("mobile", "id_number", "password")
        ]

    def __init__(self, *args, required=(), **kwargs):
        super().__init__(*args, viewer=None, **kwargs)
        self.fields.pop("store", None)
        self.fields["region"] = RegionField(
            label=_("Location"), url_name="frontdesk:region_children"
        )
        self.fields["hukou_region"] = RegionField(
            label=_("Hukou"), max_level=RegionLevel.CITY, url_name="frontdesk:region_children"
        )
        for name, field in self.fields.items():
            if name in ("ref", "website"):
                continue
            field.required = name in ALWAYS_REQUIRED or name in required
        self.fields["id_type"].initial = "resident_id"
        _public_checks(self)

    # Mobile and ID number are checked here as well as in the service, so that a visitor sees
    # their errors together with all the others instead of one round later. Whether they are a
    # member's already is not an error shown to the visitor (`services.register`).
    def clean_mobile(self):
        return pd.normalize_mobile(self.cleaned_data["mobile"])

    def clean(self):
        data = super().clean()
        number = data.get("id_number", "")
        if number and data.get("id_type") == c.IdType.RESIDENT_ID:
            try:
                number = pd.normalize_resident_id(number)
            except ValidationError as exc:
                self.add_error("id_number", exc)
                return data
            birth, sex = pd.resident_id_facts(number)
            if data.get("birthday") and data["birthday"] != birth:
                self.add_error("id_number", _("The ID number does not match the birthday."))
            elif data.get("sex") and data["sex"] != sex:
                self.add_error("id_number", _("The ID number does not match the sex chosen."))
        return data

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password

    def groups(self):
        return [(title, [self[n] for n in names]) for title, names in GROUPS]


class RegistrationPreferenceForm(PreferenceForm):
    """Mate preferences as a visitor states them: the values, without the engine's weights."""

    class Meta(PreferenceForm.Meta):
        fields = PREFERENCE_FIELDS

    def __init__(self, *args, required=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionField(
            label=_("Region"),
            required=False,
            max_level=RegionLevel.CITY,
            url_name="frontdesk:region_children",
        )
        for name, field in self.fields.items():
            field.required = f"{PREF_PREFIX}{name}" in required

    def public_rows(self):
        return [
            (label, [self[n] for n in names if n in self.fields])
            for _key, label, names in PREFERENCE_ROWS
        ]


def configurable_fields() -> list[tuple[str, list[tuple[str, str]]]]:
    """The optional fields of the registration form an agency may make required, by section:
    [(section, [(key, label), ...]), ...]."""
    form, pref = RegistrationForm(), RegistrationPreferenceForm()
    sections = []
    for title, names in GROUPS:
        keys = [
            (n, str(form.fields[n].label))
            for n in names
            if n not in ALWAYS_REQUIRED and n not in SIBLINGS
        ]
        sections.append((str(title), keys))
    pref_keys = [(f"{PREF_PREFIX}{n}", str(pref.fields[n].label)) for n in PREFERENCE_FIELDS]
    sections.append((str(_("Mate preferences")), pref_keys))
    return sections


class FrontDeskSettingsForm(StyledFormMixin, forms.Form):
    required_fields = forms.MultipleChoiceField(
        label=_("Fields a registration must fill in"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Username, password, mobile, name and sex are always required."),
    )
    default_store = forms.ModelChoiceField(
        label=_("Store for website leads"),
        queryset=Store.objects.order_by("sort_order", "name"),
        required=False,
        help_text=_(
            "Consultations and registrations without a matchmaker's code go to this store's "
            "pool. Empty: only administrators see them."
        ),
    )

    member_editable_fields = forms.MultipleChoiceField(
        label=_("What members may change in the member centre"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Name, mobile, ID, sex and birthday are changed only by staff."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = configurable_fields()
        self.fields["required_fields"].choices = [
            (key, label) for _title, keys in self.sections for key, label in keys
        ]
        profile = MemberForm()
        self.fields["member_editable_fields"].choices = [
            *((n, profile.fields[n].label) for n in member_editable_choices()),
            (PREFERENCES, _("Mate preferences")),
        ]

    def section_boxes(self):
        """The checkboxes grouped by the form's sections, for the template."""
        boxes = {box.data["value"]: box for box in self["required_fields"]}
        return [(title, [boxes[key] for key, _l in keys]) for title, keys in self.sections]


class ConsultationFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=50)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ConsultationStatus.choices],
    )
    assigned_to = forms.ModelChoiceField(
        label=_("Matchmaker"),
        required=False,
        queryset=Staff.objects.none(),
        empty_label=_("Any matchmaker"),
    )

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = Staff.objects.visible_to(viewer).order_by("path")


class AssignForm(StyledFormMixin, forms.Form):
    to = forms.ModelChoiceField(label=_("Assign to"), queryset=Staff.objects.none())

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = assignees
        self.fields["to"].label_from_instance = lambda s: f"{s.name}({s.username})"


class ConsultationUpdateForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ConsultationStatus.choices)
    result = forms.CharField(
        label=_("Result"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
