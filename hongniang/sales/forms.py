import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hongniang.sales.models import FollowUp
from hongniang.workbench.forms import StyledFormMixin

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Tags are typed separated by commas (English or Chinese) or spaces.
TAG_SEPARATORS = re.compile(r"[,，、\s]+")


class FollowUpForm(StyledFormMixin, forms.ModelForm):
    """The form of whitepaper 2.5.2 (添加跟进)."""

    effective = forms.TypedChoiceField(
        label=_("Effective contact"),
        choices=[("1", _("Yes")), ("0", _("No"))],
        coerce=lambda v: v == "1",
        initial="1",
    )
    tags_text = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=200,
        help_text=_("For searching; separate several tags with commas."),
    )

    class Meta:
        model = FollowUp
        fields = [
            "effective",
            "intention",
            "sign_state",
            "unsigned_reason",
            "contacted_at",
            "next_contact_at",
            "remark",
        ]
        widgets = {
            "contacted_at": DATETIME,
            "next_contact_at": DATETIME,
            "remark": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacted_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["contacted_at"].required = False

    def tags(self) -> list[str]:
        return [t for t in TAG_SEPARATORS.split(self.cleaned_data.get("tags_text") or "") if t]


class FollowUpSearchForm(StyledFormMixin, forms.Form):
    """跟进关键字 · 跟进人姓名 · 开始日期 · 结束日期 (whitepaper 2.4.2)."""

    q = forms.CharField(label=_("Keyword or tag"), required=False, max_length=50)
    follower = forms.CharField(label=_("Followed up by"), required=False, max_length=30)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
