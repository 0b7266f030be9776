from django import forms
from django.utils.translation import gettext_lazy as _

from hongniang.siteconfig.models import SiteImage, SiteSettings
from hongniang.siteconfig.selectors import AccessKind
from hongniang.staff.models import Staff
from hongniang.workbench.forms import StyledFormMixin
from hongniang.workbench.uploads import CheckedImageField


def candidate_state_choices() -> list[tuple[str, str]]:
    """ "stage/status" pairs a setting may open to matching, labelled "已签约 · 服务中"."""
    from hongniang.matching.adapter import CANDIDATE_STATES
    from hongniang.members.choices import SalesStage, ServiceStatus

    return [
        (f"{stage}/{status}", f"{SalesStage(stage).label} · {ServiceStatus(status).label}")
        for stage, status in CANDIDATE_STATES
    ]


class SiteSettingsForm(StyledFormMixin, forms.ModelForm):
    # Declared fields do not inherit the model field's label: name it, or it shows "Logo".
    logo = CheckedImageField(max_px=600, label=SiteSettings._meta.get_field("logo").verbose_name)
    candidate_states = forms.MultipleChoiceField(
        label=SiteSettings._meta.get_field("candidate_states").verbose_name,
        choices=candidate_state_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Members in these states may be offered as candidates. Abandoned, paused, finished "
            "and hidden members never are."
        ),
    )

    class Meta:
        model = SiteSettings
        fields = [
            "crm_name",
            "version",
            "hotline",
            "contact_phone",
            "address",
            "email",
            "logo",
            "member_page_size",
            "matchmaker_page_size",
            "crm_page_size",
            "about_us",
            "seo_description",
            "robots_txt",
            "candidate_states",
            "candidate_consenting",
            "pool_return_days",
            "pool_claim_limit",
            "allocation_accept_hours",
            "stalled_pair_days",
            "family_draft_days",
            "peer_avatars",
            "reveal_name",
        ]
        widgets = {
            "about_us": forms.Textarea(attrs={"rows": 6}),
            "robots_txt": forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
        }

    def clean_logo(self):
        return self.cleaned_data.get("logo") or self.instance.logo

    def clean_robots_txt(self):
        # Browsers send a textarea's lines with CRLF; robots.txt is served with plain newlines.
        return "\n".join(self.cleaned_data.get("robots_txt", "").splitlines())


class SiteImageForm(StyledFormMixin, forms.ModelForm):
    image = CheckedImageField(max_px=1920, label=SiteImage._meta.get_field("image").verbose_name)

    class Meta:
        model = SiteImage
        fields = ["kind", "title", "image", "link", "sort_order", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].required = not self.instance.image

    def clean_image(self):
        return self.cleaned_data.get("image") or self.instance.image


class PersonalDataFilterForm(StyledFormMixin, forms.Form):
    staff = forms.ModelChoiceField(
        label=_("Who"),
        required=False,
        queryset=Staff.objects.order_by("sort_order", "pk"),
        empty_label=_("Anyone"),
        widget=forms.Select(attrs={"data-searchable": "1"}),
    )
    member = forms.IntegerField(label=_("Member UID"), required=False, min_value=1)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *AccessKind.choices]
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
