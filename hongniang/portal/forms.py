from django import forms
from django.utils.translation import gettext_lazy as _

from hongniang.workbench.forms import StyledFormMixin


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
