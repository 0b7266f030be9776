from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hongniang.members import choices as c
from hongniang.members.models import MatePreference, Member
from hongniang.members.reference import ethnic_group_choices
from hongniang.members.regions import RegionLevel
from hongniang.members.rendercache import remember_choice_renders
from hongniang.members.selectors import WINDOWS, assignees, stores_for
from hongniang.members.validators import RANGE_INVERTED, inverted_ranges
from hongniang.members.widgets import RegionField
from hongniang.staff.models import Staff, Store
from hongniang.staff.permissions import can
from hongniang.workbench.forms import StyledFormMixin

# The profile as the whitepaper groups it (2.4.4); templates render one card per group.
PROFILE_GROUPS = (
    (
        _("Account"),
        (
            "username",
            "name",
            "mobile",
            "email",
            "wechat",
            "qq",
            "address",
            "id_type",
            "id_number",
            "store",
            "consents_to_introduction",
        ),
    ),
    (
        _("Basic information"),
        (
            "sex",
            "birthday",
            "lunar_birthday",
            "hukou_region",
            "region",
            "height",
            "weight",
            "marital_status",
            "education",
            "annual_income",
            "monthly_income",
            "occupation",
            "occupation_sought",
            "car",
            "house",
            "children",
            "blood_type",
            "ethnicity",
            "appearance",
            "personality",
            "hobbies",
            "about",
        ),
    ),
    (
        _("Personal and family"),
        (
            "religion",
            "smoking",
            "drinking",
            "work_status",
            "exercise",
            "debts",
            "family_background",
            "parents_finances",
            "parents_work",
            "father_occupation",
            "mother_occupation",
            "birth_order",
            "older_brothers",
            "older_sisters",
            "younger_brothers",
            "younger_sisters",
        ),
    ),
    (
        _("Relationship views"),
        (
            "long_distance",
            "online_dating",
            "only_child",
            "partner_house",
            "wedding_style",
            "live_with_parents",
            "cooking",
            "housework",
        ),
    ),
)


SIBLINGS = ("older_brothers", "older_sisters", "younger_brothers", "younger_sisters")


class MemberForm(StyledFormMixin, forms.ModelForm):
    mobile = forms.CharField(
        label=_("Mobile"),
        required=True,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=30)
    region = RegionField(label=_("Location"), required=True)
    hukou_region = RegionField(label=_("Hukou"), required=False, max_level=RegionLevel.CITY)
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), required=False)
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.order_by("sort_order", "name"),
        required=False,
        help_text=_("Empty: your own store."),
    )
    # A yes/no choice rather than a checkbox, so that import and export read and write it as
    # one of two labelled values like every other choice column.
    consents_to_introduction = forms.TypedChoiceField(
        label=_("Agrees to be introduced"),
        choices=[("False", _("No")), ("True", _("Yes"))],
        coerce=lambda v: v == "True",
        empty_value=False,
        required=False,
        help_text=_("May be offered as a candidate to other members before signing."),
    )
    personality = forms.MultipleChoiceField(
        label=_("Personality"),
        choices=c.Personality.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hobbies = forms.MultipleChoiceField(
        label=_("Hobbies"),
        choices=c.Hobby.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Member
        fields = [
            f for _title, names in PROFILE_GROUPS for f in names if f not in ("mobile", "id_number")
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "about": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, viewer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ethnicity"].choices = [("", "---------"), *ethnic_group_choices()]
        remember_choice_renders(self)
        if viewer is not None:
            # The stores the user may put a member in, plus the member's own (kept unchanged).
            self.fields["store"].queryset = (
                stores_for(viewer) | Store.objects.filter(pk=self.instance.store_id)
            ).order_by("sort_order", "name")
            if not self.instance.pk:
                self.fields["store"].initial = viewer.store_id
        if self.instance.pk:
            self.fields["store"].help_text = _("Empty: unchanged.")
        for name in ("sex", "marital_status", "education", "height", "id_type"):
            self.fields[name].required = True
        for name in SIBLINGS:
            self.fields[name].required = False
        if self.instance.pk:
            # Personal data is never sent back to the browser in clear; blank keeps it.
            self.fields["mobile"].required = False
            self.fields["mobile"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
                "masked": self.instance.mobile_masked or "—"
            }
            self.fields["id_number"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
                "masked": self.instance.id_number_masked or "—"
            }
        if viewer is not None and not can(viewer, "members", "add"):
            return  # the live checks answer only those who may add members
        self.fields["mobile"].widget.attrs.update(
            {
                "hx-get": reverse("members:check_mobile"),
                "hx-trigger": "change, keyup changed delay:500ms",
                "hx-target": "#mobile-check",
                "hx-include": "this",
                "hx-vals": f'{{"member": "{self.instance.pk or ""}"}}',
            }
        )
        self.fields["id_number"].widget.attrs.update(
            {
                "hx-get": reverse("members:check_id_number"),
                "hx-trigger": "change, keyup changed delay:500ms",
                "hx-target": "#id-number-check",
                "hx-include": "this, [name=id_type]",
                "hx-vals": f'{{"member": "{self.instance.pk or ""}"}}',
            }
        )

    def clean(self):
        data = super().clean()
        if self.instance.pk and not data.get("store"):
            data["store"] = self.instance.store  # a member keeps a store once they have one
        for name in SIBLINGS:
            if data.get(name) is None:
                data[name] = 0  # blank means none
        return data

    def groups(self):
        return [(title, [self[n] for n in names]) for title, names in PROFILE_GROUPS]

    def personal_data(self) -> dict:
        """What to hand to the service: None means "unchanged" when editing."""
        mobile = self.cleaned_data.get("mobile", "")
        id_number = self.cleaned_data.get("id_number", "")
        if self.instance.pk:
            return {"mobile": mobile or None, "id_number": id_number or None}
        return {"mobile": mobile, "id_number": id_number}


PREFERENCE_ROWS = (
    ("age", _("Age"), ("age_min", "age_max")),
    ("height", _("Height"), ("height_min", "height_max")),
    ("weight", _("Weight"), ("weight_min", "weight_max")),
    ("children", _("Children"), ("children",)),
    ("education", _("Education"), ("education_min",)),
    ("income", _("Income"), ("income_min",)),
    ("car", _("Car"), ("car",)),
    ("house", _("House"), ("house",)),
    ("marital", _("Marital status"), ("marital",)),
    ("region", _("Region"), ("region",)),
)
PREFERENCE_FIELDS = [
    *(
        f"{key}{suffix}"
        for key, _label, _names in PREFERENCE_ROWS
        for suffix in ("_must", "_importance")
    ),
    *(n for _key, _label, names in PREFERENCE_ROWS for n in names),
    "other",
]


class PreferenceForm(StyledFormMixin, forms.ModelForm):
    children = forms.MultipleChoiceField(
        label=_("Acceptable children situations"),
        choices=c.ChildrenStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    marital = forms.MultipleChoiceField(
        label=_("Acceptable marital statuses"),
        choices=c.MaritalStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    region = RegionField(label=_("Region"), required=False, max_level=RegionLevel.CITY)

    class Meta:
        model = MatePreference
        fields = PREFERENCE_FIELDS
        widgets = {"other": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "pref")
        super().__init__(*args, **kwargs)
        self.fields["marital"].choices = [
            (v, label) for v, label in c.MaritalStatus.choices if v != c.MaritalStatus.MARRIED
        ]
        remember_choice_renders(self)

    def rows(self):
        return [
            (label, [self[n] for n in names], self[f"{key}_must"], self[f"{key}_importance"])
            for key, label, names in PREFERENCE_ROWS
        ]

    def clean(self):
        data = super().clean()
        for name in inverted_ranges(data):
            self.add_error(name, RANGE_INVERTED)
        return data


class MemberFilterForm(StyledFormMixin, forms.Form):
    member_id = forms.IntegerField(label=_("Member ID"), required=False, min_value=1)
    username = forms.CharField(label=_("Username"), required=False)
    name = forms.CharField(label=_("Name"), required=False)
    mobile = forms.CharField(label=_("Mobile"), required=False)
    email = forms.CharField(label=_("Email"), required=False)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", _("Any sex")), *c.Sex.choices]
    )
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=16, max_value=99)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=16, max_value=99)
    education = forms.TypedChoiceField(
        label=_("Education at least"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any education")), *c.Education.choices],
    )
    marital_status = forms.ChoiceField(
        label=_("Marital status"),
        required=False,
        choices=[("", _("Any marital status")), *c.MaritalStatus.choices],
    )
    region = RegionField(label=_("Region"), required=False, max_level=RegionLevel.CITY)
    window = forms.ChoiceField(
        label=_("Registered"),
        required=False,
        choices=[("", _("Any time")), *((k, v[1]) for k, v in WINDOWS.items())],
    )
    registered_from = forms.DateField(
        label=_("Registered from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    registered_to = forms.DateField(
        label=_("Registered to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = forms.ModelChoiceField(
        label=_("Matchmaker"),
        required=False,
        queryset=Staff.objects.none(),
        empty_label=_("Any matchmaker"),
    )
    sales_stage = forms.ChoiceField(
        label=_("Sales stage"),
        required=False,
        choices=[("", _("Any stage")), *c.SalesStage.choices],
    )
    service_status = forms.ChoiceField(
        label=_("Service status"),
        required=False,
        choices=[("", _("Any service status")), *c.ServiceStatus.choices],
    )

    PRIMARY = ("member_id", "username", "mobile", "sex", "sales_stage")

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Staff.objects.visible_to(viewer).order_by("path")

    def clean(self):
        data = super().clean()
        lo, hi = data.get("age_min"), data.get("age_max")
        if lo is not None and hi is not None and lo > hi:
            self.add_error("age_max", _("The upper bound is below the lower bound."))
        return data


class AllocateForm(StyledFormMixin, forms.Form):
    members = forms.ModelMultipleChoiceField(
        queryset=Member.objects.none(), widget=forms.MultipleHiddenInput
    )
    to = forms.ModelChoiceField(label=_("Allocate to"), queryset=Staff.objects.none())
    remark = forms.CharField(
        label=_("Remark"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, viewer, members_qs, kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = members_qs
        self.fields["members"].error_messages["required"] = _("Choose at least one member.")
        self.fields["to"].queryset = assignees(viewer=viewer, kind=kind)
        self.fields["to"].label_from_instance = lambda s: f"{s.name}({s.username}) · {s.role or ''}"


class JourneyStepForm(StyledFormMixin, forms.Form):
    """What a journey step asks for: a reason, an expected return date, or why it finished."""

    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    until = forms.DateField(
        label=_("Expected return"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    finish_reason = forms.ChoiceField(
        label=_("Why the service finished"),
        choices=[("", "---------"), *c.FinishReason.choices],
        required=False,
    )

    def __init__(self, *args, step, **kwargs):
        super().__init__(*args, **kwargs)
        keep = {"reason": ("reason",), "pause": ("reason", "until"), "finish": ("finish_reason",)}
        for name in list(self.fields):
            if name not in keep.get(step.asks, ()):
                del self.fields[name]
            else:
                self.fields[name].required = True
