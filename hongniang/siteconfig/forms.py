from django import forms
from django.utils.translation import gettext_lazy as _

from hongniang.siteconfig.models import SiteImage, SiteSettings
from hongniang.siteconfig.selectors import AccessKind
from hongniang.staff.models import Staff
from hongniang.workbench.forms import StyledFormMixin
from hongniang.workbench.uploads import CheckedImageField


class SiteSettingsForm(StyledFormMixin, forms.ModelForm):
    # Declared fields do not inherit the model field's label: name it, or it shows "Logo".
    logo = CheckedImageField(max_px=600, label=SiteSettings._meta.get_field("logo").verbose_name)

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
        ]
        widgets = {"about_us": forms.Textarea(attrs={"rows": 6})}

    def clean_logo(self):
        return self.cleaned_data.get("logo") or self.instance.logo


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
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
