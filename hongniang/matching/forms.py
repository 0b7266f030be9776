from django import forms
from django.utils.translation import gettext_lazy as _

from hongniang.matching.models import (
    Appointment,
    AppointmentStatus,
    DeclineReason,
    IntroductionRequest,
    IntroductionStatus,
)
from hongniang.members.choices import Education
from hongniang.members.models import Member
from hongniang.members.regions import RegionLevel
from hongniang.members.widgets import RegionField
from hongniang.workbench.forms import StyledFormMixin

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MemberIdField(forms.ModelChoiceField):
    """A member chosen by UID; any member of the agency (the partner may be another team's)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.NumberInput(attrs={"min": 1}))
        kwargs.setdefault("error_messages", {"invalid_choice": _("No member has this UID.")})
        super().__init__(queryset=Member.objects.all(), **kwargs)


class RecommendForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why this person"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AnswerForm(StyledFormMixin, forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("Answer"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("Accepted")), ("no", _("Declined"))],
        widget=forms.RadioSelect,
    )
    reasons = forms.MultipleChoiceField(
        label=_("Reasons for declining"),
        required=False,
        choices=DeclineReason.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("accepted") is False and not data.get("reasons"):
            self.add_error("reasons", _("Choose at least one reason for the decline."))
        return data


class BoostForm(StyledFormMixin, forms.Form):
    pin = forms.BooleanField(label=_("Pin to the top"), required=False)
    points = forms.IntegerField(label=_("Extra points"), min_value=0, max_value=50, initial=10)


class LibraryFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    times_matched_min = forms.IntegerField(label=_("Matched at least"), required=False, min_value=0)
    times_recommended_min = forms.IntegerField(
        label=_("Recommended at least"), required=False, min_value=0
    )
    times_received_min = forms.IntegerField(
        label=_("Received at least"), required=False, min_value=0
    )


class CandidateFilterForm(StyledFormMixin, forms.Form):
    min_score = forms.IntegerField(
        label=_("Score at least"), required=False, min_value=0, max_value=100
    )
    education = forms.TypedChoiceField(
        label=_("Education at least"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any education")), *Education.choices],
    )
    region = RegionField(label=_("Region"), required=False, max_level=RegionLevel.CITY)
    team = forms.ChoiceField(
        label=_("Whose members"),
        required=False,
        choices=[
            ("", _("Everyone's")),
            ("mine", _("My team's only")),
            ("others", _("Other teams' only")),
        ],
    )


class AppointmentForm(StyledFormMixin, forms.ModelForm):
    member = MemberIdField(label=_("Member UID"))
    partner = MemberIdField(label=_("Partner UID"))
    allow_double_booking = forms.BooleanField(
        label=_("Book even if one of them already has an appointment around this time"),
        required=False,
    )

    class Meta:
        model = Appointment
        fields = ["member", "partner", "starts_at", "place", "notes"]
        widgets = {"starts_at": DATETIME, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        # The member booked for must be one of ours; the partner may be anyone's.
        self.fields["member"].queryset = Member.objects.visible_to(viewer)
        self.fields["member"].error_messages["invalid_choice"] = _(
            "No member of yours has this UID."
        )

    def clean(self):
        data = super().clean()
        if data.get("member") and data.get("member") == data.get("partner"):
            self.add_error("partner", _("A member cannot meet themselves."))
        return data


class AppointmentUpdateForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Appointment
        fields = [
            "starts_at",
            "place",
            "status",
            "member_feedback",
            "partner_feedback",
            "outcome",
            "notes",
        ]
        widgets = {
            "starts_at": DATETIME,
            "member_feedback": forms.Textarea(attrs={"rows": 2}),
            "partner_feedback": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        data = super().clean()
        if data.get("outcome") and data.get("status") != AppointmentStatus.HELD:
            self.add_error("outcome", _("Only a held appointment has an outcome."))
        return data


class IntroductionForm(StyledFormMixin, forms.ModelForm):
    member = MemberIdField(label=_("Member UID"))
    target = MemberIdField(label=_("Wants to meet (UID)"))

    class Meta:
        model = IntroductionRequest
        fields = ["member", "target", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.visible_to(viewer)
        self.fields["member"].error_messages["invalid_choice"] = _(
            "No member of yours has this UID."
        )

    def clean(self):
        data = super().clean()
        if data.get("member") and data.get("member") == data.get("target"):
            self.add_error("target", _("A member cannot ask to meet themselves."))
        return data


class IntroductionCloseForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Result"),
        choices=[
            (IntroductionStatus.ARRANGED, _("Arranged: create the appointment")),
            (IntroductionStatus.DECLINED, _("Declined")),
            (IntroductionStatus.WITHDRAWN, _("Withdrawn")),
        ],
    )
    starts_at = forms.DateTimeField(label=_("Appointment time"), required=False, widget=DATETIME)
    place = forms.CharField(label=_("Place"), required=False, max_length=200)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("status") == IntroductionStatus.ARRANGED:
            for name in ("starts_at", "place"):
                if not data.get(name):
                    self.add_error(name, _("Needed for an arranged introduction."))
        return data
