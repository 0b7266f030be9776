from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from hongniang.staff.models import Role, Staff, StaffStatus, Store
from hongniang.staff.permissions import MODULE_ACTIONS, Action, Module, can
from hongniang.staff.selectors import supervisor_choices
from hongniang.staff.services import SCOPE_ORDER, assignable_roles
from hongniang.staff.visibility import DataScope, user_scope
from hongniang.workbench.forms import StyledFormMixin
from hongniang.workbench.uploads import CheckedImageField


class StaffFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name, account, mobile")}),
    )
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.all(), required=False, empty_label=_("All roles")
    )
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.all(), required=False, empty_label=_("All stores")
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *StaffStatus.choices]
    )


class StaffForm(StyledFormMixin, forms.ModelForm):
    password = forms.CharField(
        label=_("Login password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    security_password = forms.CharField(
        label=_("Security password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Asked for before sensitive actions. Leave empty to keep it unchanged."),
    )
    avatar = CheckedImageField(label=_("Avatar"), max_px=400)

    field_order = ["username", "password", "security_password"]

    class Meta:
        model = Staff
        fields = [
            "username",
            "name",
            "mobile",
            "email",
            "wechat",
            "qq",
            "address",
            "role",
            "store",
            "supervisor",
            "status",
            "avatar",
            "public_title",
            "show_on_site",
            "sort_order",
            "years_of_experience",
            "experience",
            "motto",
            "introduction",
            "remarks",
        ]
        widgets = {
            "experience": forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
            "introduction": forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
            "remarks": forms.Textarea(attrs={"rows": 2}),
            "motto": forms.TextInput(attrs={"maxlength": 100}),
            "supervisor": forms.Select(attrs={"data-searchable": "1"}),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        editing = self.instance.pk is not None
        self.fields["role"].queryset = assignable_roles(actor)
        self.fields["role"].required = True
        self.fields["store"].required = True
        self.fields["supervisor"].queryset = supervisor_choices(viewer=actor, staff=self.instance)
        if editing:
            # The account name is fixed once created (whitepaper 2.2.2).
            self.fields["username"].disabled = True
            self.fields["password"].help_text = _("Leave empty to keep the current password.")
            # Locking goes through its own confirmed action, which asks for the security password.
            del self.fields["status"]
            if self.instance.pk == actor.pk:
                self.fields["supervisor"].disabled = True
                # One's own supervisor is usually above one's sight; the fixed value must validate.
                self.fields["supervisor"].queryset = Staff.objects.filter(
                    pk=self.instance.supervisor_id
                )
                self.fields["role"].disabled = True
                self.fields["role"].queryset = Role.objects.all()
                # Below scope "all" one's own store decides what a store-wide role sees.
                if user_scope(actor) != DataScope.ALL:
                    self.fields["store"].disabled = True
        else:
            self.fields["password"].required = True
            del self.fields["status"]
            if not actor.is_superuser and actor.store_id:
                self.initial.setdefault("store", actor.store_id)
            self.initial.setdefault("supervisor", actor.pk)

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            password_validation.validate_password(password, self.instance)
        return password

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        # No new upload keeps the existing picture.
        return avatar if avatar else self.instance.avatar


class SecurityActionForm(StyledFormMixin, forms.Form):
    security_password = forms.CharField(
        label=_("Security password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class SecurityPasswordForm(StyledFormMixin, forms.Form):
    """Set the second password; the login password proves it is really you."""

    current_password = forms.CharField(
        label=_("Current login password"), strip=False, widget=forms.PasswordInput
    )
    security_password1 = forms.CharField(
        label=_("New security password"), strip=False, min_length=6, widget=forms.PasswordInput
    )
    security_password2 = forms.CharField(
        label=_("Repeat the security password"), strip=False, widget=forms.PasswordInput
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_current_password(self):
        value = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("The login password is wrong."))
        return value

    def clean(self):
        data = super().clean()
        one, two = data.get("security_password1"), data.get("security_password2")
        if one and two and one != two:
            self.add_error("security_password2", _("The two passwords differ."))
        if one and self.user.check_password(one):
            self.add_error(
                "security_password1",
                _("The security password must differ from the login password."),
            )
        return data


def grant_field_name(module: str, action: str) -> str:
    return f"grant__{module}__{action}"


class RoleForm(StyledFormMixin, forms.ModelForm):
    """Offers only the grants and scopes the actor holds; the service enforces the same rule."""

    class Meta:
        model = Role
        fields = ["name", "description", "data_scope"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        current = set(self.instance.grants or [])
        for module, actions in MODULE_ACTIONS.items():
            for action in actions:
                self.fields[grant_field_name(module, action)] = forms.BooleanField(
                    required=False,
                    initial=f"{module}.{action}" in current,
                    label=f"{Module(module).label} · {Action(action).label}",
                    disabled=not can(actor, module, action),
                )
        limit = SCOPE_ORDER.index(user_scope(actor))
        self.fields["data_scope"].choices = [
            (value, label)
            for value, label in DataScope.choices
            if SCOPE_ORDER.index(value) <= limit
        ]

    def grid(self):
        """Rows of (module label, [bound field or None per action]) for the template's table."""
        rows = []
        for module, actions in MODULE_ACTIONS.items():
            cells = [
                self[grant_field_name(module, a)] if a in actions else None for a in Action.values
            ]
            rows.append((Module(module).label, cells))
        return rows

    def save(self, commit=True):
        self.instance.grants = [
            f"{module}.{action}"
            for module, actions in MODULE_ACTIONS.items()
            for action in actions
            if self.cleaned_data.get(grant_field_name(module, action))
        ]
        return super().save(commit=commit)


class StoreForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Store
        fields = ["name", "address", "phone", "sort_order"]


class StyledPasswordChangeForm(StyledFormMixin, PasswordChangeForm):
    pass
