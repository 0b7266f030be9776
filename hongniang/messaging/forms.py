from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hongniang.messaging.models import Channel, MessageTemplate
from hongniang.messaging.services import MAX_LENGTH
from hongniang.messaging.texts import PLACEHOLDERS
from hongniang.workbench.forms import StyledFormMixin


def placeholder_help() -> str:
    return _("Placeholders: %(list)s") % {
        "list": "，".join(f"{{{k}}} {label}" for k, label in PLACEHOLDERS.items())
    }


class MessageForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(
        label=_("Send as"),
        choices=Channel.choices,
        initial=Channel.INTERNAL,
        widget=forms.RadioSelect,
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("Message"),
        max_length=MAX_LENGTH[Channel.INTERNAL],
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = placeholder_help()
        self.fields["subject"].help_text = _("Required for email.")


class TemplatePickForm(StyledFormMixin, forms.Form):
    """A GET form: the chosen template fills the message form."""

    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=MessageTemplate.objects.none(),
        required=False,
        empty_label=_("No template"),
    )

    def __init__(self, *args, channel: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        qs = MessageTemplate.objects.filter(is_active=True)
        if channel:
            qs = qs.filter(Q(channel="") | Q(channel=channel))
        self.fields["template"].queryset = qs


class MessageTemplateForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "channel", "subject", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = placeholder_help()
