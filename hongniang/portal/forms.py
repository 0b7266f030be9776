from django import forms
from django.utils.translation import gettext_lazy as _

from hongniang.members.forms import MemberForm
from hongniang.workbench.forms import StyledFormMixin
from hongniang.workbench.uploads import CheckedImageField


class MemberLoginForm(StyledFormMixin, forms.Form):
    identifier = forms.CharField(
        label=_("Mobile or username"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class MemberPasswordForm(StyledFormMixin, forms.Form):
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class AccountIssueForm(StyledFormMixin, forms.Form):
    """Staff open a member's account or reset its password: a one-time password, shown once,
    optionally sent by SMS. Opening may also give the member a username to log in with."""

    username = forms.CharField(
        label=_("Username (optional)"),
        max_length=30,
        required=False,
        help_text=_(
            "The member logs in with their mobile; a username given here works too. Empty: "
            "keep the current one."
        ),
    )
    send_sms = forms.BooleanField(
        label=_("Send the one-time password to the member's mobile by SMS"),
        required=False,
    )

    def __init__(self, *args, opening: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not opening:
            del self.fields["username"]


class ResetRequestForm(StyledFormMixin, forms.Form):
    identifier = forms.CharField(
        label=_("Mobile or username"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class ResetForm(MemberPasswordForm):
    """The code from the SMS instead of the current password."""

    identifier = forms.CharField(
        label=_("Mobile or username"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    field_order = ["identifier", "code", "new_password1", "new_password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["current_password"]


class AnswerForm(forms.Form):
    """Interested, or not with at least one reason (the engine's vocabulary, a member's few)."""

    answer = forms.ChoiceField(choices=[("yes", _("Interested")), ("no", _("Not interested"))])
    reasons = forms.MultipleChoiceField(
        label=_("Why not?"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        from .centre_services import MEMBER_REASONS

        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(r.value, r.label) for r in MEMBER_REASONS]

    def clean(self):
        data = super().clean()
        if data.get("answer") == "no" and not data.get("reasons"):
            self.add_error("reasons", _("Choose at least one reason."))
        return data


class IntroductionForm(StyledFormMixin, forms.Form):
    message = forms.CharField(
        label=_("A word for your matchmaker (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedbackForm(StyledFormMixin, forms.Form):
    feedback = forms.CharField(
        label=_("How did the meeting go?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MessageForm(StyledFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Message to my matchmaker"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PhotoUploadForm(StyledFormMixin, forms.Form):
    image = CheckedImageField(label=_("Photo"), max_px=1200, required=True)


class MemberSelfForm(MemberForm):
    """The staff member form's fields and rules, cut down to what the agency lets members
    change; whatever else is posted is ignored."""

    def __init__(self, *args, editable: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.editable = [n for n in editable if n in self.fields]
        for name in list(self.fields):
            if name not in self.editable:
                del self.fields[name]

    def clean(self):
        data = super().clean()
        # The staff form fills a few fields in (store, siblings): only the editable ones count.
        for name in list(data):
            if name not in self.editable:
                data.pop(name)
        return data
