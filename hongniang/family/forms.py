from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from hongniang.frontdesk.forms import (
    GROUPS,
    Honeypot,
    RegistrationForm,
    RegistrationPreferenceForm,
)
from hongniang.members import personal_data as pd
from hongniang.workbench.forms import StyledFormMixin

from .models import Relationship

# What the relative does not write for the child: the child's login (chosen by the child).
NOT_DRAFTED = ("username", "password")


class RelativeForm(StyledFormMixin, forms.Form):
    """The relative's own account."""

    relative_name = forms.CharField(label=_("Your own name"), max_length=30)
    relative_mobile = forms.CharField(
        label=_("Your mobile"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    relative_password = forms.CharField(
        label=_("Your login password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    relationship = forms.ChoiceField(
        label=_("You are their"),
        choices=[("", _("Please choose")), *Relationship.choices],
    )
    website = Honeypot()

    def clean_relative_mobile(self):
        return pd.normalize_mobile(self.cleaned_data["relative_mobile"])

    def clean_relative_password(self):
        password = self.cleaned_data["relative_password"]
        validate_password(password)
        return password


class DraftForm(RegistrationForm):
    """The child's profile as the registration form has it, without the child's login; the
    birthday is required (the child must be of the legal marriage age)."""

    kept: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in (*NOT_DRAFTED, "ref", "website"):
            if name not in self.kept:
                self.fields.pop(name, None)
        self.fields["birthday"].required = True
        self.fields["mobile"].label = _("Their mobile (the invitation goes there)")

    def groups(self):
        return [(title, [self[n] for n in names if n in self.fields]) for title, names in GROUPS]


class ReviewForm(DraftForm):
    """The child's review: every drafted field, to correct; their own username and password.
    The mobile is the one the invitation reached: it stays (staff change it if need be)."""

    kept = ("password",)
    password = forms.CharField(
        label=_("Choose your login password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("mobile")
        username = forms.CharField(
            label=_("Username"),
            max_length=30,
            widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "username"}),
        )
        username.initial = self.instance.username
        self.fields = {"username": username, "password": self.fields.pop("password"), **self.fields}
        self.fields["id_number"].required = False

    def personal_data(self) -> dict:
        return {"id_number": self.cleaned_data.get("id_number") or None}


class ReviewPreferenceForm(RegistrationPreferenceForm):
    pass


class RelativeLoginForm(StyledFormMixin, forms.Form):
    mobile = forms.CharField(
        label=_("Your mobile"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
