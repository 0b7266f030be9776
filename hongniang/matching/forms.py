from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from hongniang.matching.models import (
    Appointment,
    AppointmentStatus,
    DeclineReason,
    IntroductionRequest,
    IntroductionStatus,
)
from hongniang.matching.selectors import offerable_members
from hongniang.members.choices import Education
from hongniang.members.models import Member
from hongniang.members.presenter import present
from hongniang.members.regions import RegionLevel
from hongniang.members.widgets import RegionField
from hongniang.workbench.forms import StyledFormMixin
from hongniang.workbench.listing import key_param

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AttendanceSelect(forms.NullBooleanSelect):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [
            ("unknown", _("Not recorded")),
            ("true", _("Attended")),
            ("false", _("Did not come")),
        ]


class MemberSearchSelect(forms.Select):
    """A select that holds only the chosen member; the browser fills it by searching
    (matching/static/matching/member_search.js, Tom Select) by name, UID, ID number or mobile.
    The chosen member is labelled through the presenter for the form's viewer."""

    def __init__(self, *, own_only=False, member_field="", attrs=None):
        attrs = {"data-member-search": reverse_lazy("matching:member_search"), **(attrs or {})}
        if own_only:
            attrs["data-own-only"] = "1"
        if member_field:
            attrs["data-member-field"] = f"id_{member_field}"
        super().__init__(attrs=attrs)
        self.viewer = None

    def optgroups(self, name, value, attrs=None):
        # Never list the whole queryset: only the empty choice and the chosen member.
        options = [self.create_option(name, "", "", False, 0, attrs=attrs)]
        picked = [v for v in value if v]
        pks = [pk for v in picked if (pk := key_param(v))]
        # Only within the field's own choices: a UID outside them shows as typed, no name.
        queryset = getattr(self.choices, "queryset", Member.objects.none())
        members = {m.pk: m for m in queryset.filter(pk__in=pks)}
        for i, v in enumerate(picked, start=1):
            member = members.get(key_param(v))
            label = present(self.viewer, member).label if member else str(v)
            options.append(self.create_option(name, v, label, True, i, attrs=attrs))
        return [(None, options, 0)]


class MemberIdField(forms.ModelChoiceField):
    """A member chosen by UID (searched in the browser): one of the viewer's own members, or a
    member the engine may offer as a candidate (the partner may be another team's)."""

    def __init__(self, *, own_only=False, member_field="", **kwargs):
        kwargs.setdefault(
            "widget", MemberSearchSelect(own_only=own_only, member_field=member_field)
        )
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": _("No member of yours has this UID.")
                if own_only
                else _("No member who can be proposed has this UID.")
            },
        )
        super().__init__(queryset=Member.objects.none(), **kwargs)

    def __deepcopy__(self, memo):
        # Each form gets the offerable members as the candidate setting says at that moment
        # (not as it said when the form class was defined).
        result = super().__deepcopy__(memo)
        result.queryset = offerable_members()
        return result


class ViewerMemberFormMixin:
    """Scope the member fields to the viewer and let their widgets label through the presenter."""

    own_member_fields = ("member",)

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, MemberIdField):
                field.widget.viewer = viewer
                if name in self.own_member_fields:
                    field.queryset = Member.objects.visible_to(viewer)


class RecommendForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why this person (the member reads it)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Shown to the member as written: no phone or ID numbers, e-mail or WeChat accounts, "
            "nor the candidate's name."
        ),
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


class AppointmentForm(ViewerMemberFormMixin, StyledFormMixin, forms.ModelForm):
    member = MemberIdField(label=_("Member"), own_only=True)
    partner = MemberIdField(label=_("Partner"), member_field="member")
    allow_double_booking = forms.BooleanField(
        label=_("Book even if one of them already has an appointment around this time"),
        required=False,
    )

    class Meta:
        model = Appointment
        fields = ["member", "partner", "starts_at", "place", "notes"]
        widgets = {"starts_at": DATETIME, "notes": forms.Textarea(attrs={"rows": 2})}

    def clean(self):
        data = super().clean()
        if data.get("member") and data.get("member") == data.get("partner"):
            self.add_error("partner", _("A member cannot meet themselves."))
        return data


class AppointmentUpdateForm(StyledFormMixin, forms.ModelForm):
    """Only the fields of the sides the viewer holds (Appointment.SIDE_FIELDS): the partner's
    matchmaker sees and changes only their member's attendance and feedback."""

    allow_double_booking = forms.BooleanField(
        label=_("Book even if one of them already has an appointment around this time"),
        required=False,
    )

    class Meta:
        model = Appointment
        fields = [
            "starts_at",
            "place",
            "status",
            "member_attended",
            "member_feedback",
            "partner_attended",
            "partner_feedback",
            "outcome",
            "notes",
        ]
        widgets = {
            "starts_at": DATETIME,
            "member_attended": AttendanceSelect(),
            "partner_attended": AttendanceSelect(),
            "member_feedback": forms.Textarea(attrs={"rows": 2}),
            "partner_feedback": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, sides, **kwargs):
        super().__init__(*args, **kwargs)
        keep = {name for side in sides for name in Appointment.SIDE_FIELDS[side]}
        if "member" in sides:
            keep.add("allow_double_booking")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if len(sides) == 1:
            # One side only: its member is "your member", whichever column it is stored in.
            side = sides[0]
            self.fields[f"{side}_attended"].label = _("Your member attended")
            self.fields[f"{side}_feedback"].label = _("Your member's feedback")

    def clean_starts_at(self):
        # The input shows minutes only: an unchanged minute keeps the stored instant.
        value = self.cleaned_data["starts_at"]
        before = self.instance.starts_at
        if value and before and value == before.replace(second=0, microsecond=0):
            return before
        return value

    def clean(self):
        data = super().clean()
        held = data.get("status") == AppointmentStatus.HELD
        if "status" in self.fields and data.get("outcome") and not held:
            self.add_error("outcome", _("Only a held appointment has an outcome."))
        return data


class IntroductionForm(ViewerMemberFormMixin, StyledFormMixin, forms.ModelForm):
    member = MemberIdField(label=_("Member"), own_only=True)
    target = MemberIdField(label=_("Wants to meet"), member_field="member")

    class Meta:
        model = IntroductionRequest
        fields = ["member", "target", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 2})}

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
    allow_double_booking = forms.BooleanField(
        label=_("Book even if one of them already has an appointment around this time"),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("status") == IntroductionStatus.ARRANGED:
            for name in ("starts_at", "place"):
                if not data.get(name):
                    self.add_error(name, _("Needed for an arranged introduction."))
        return data
