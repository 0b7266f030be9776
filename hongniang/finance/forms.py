from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hongniang.finance.models import (
    ComplaintStatus,
    Contract,
    ContractStatus,
    PaymentMethod,
    RefundStatus,
    ServicePlan,
)
from hongniang.workbench.forms import StyledFormMixin

MAX_INSTALMENTS = 6
MONEY_ATTRS = {"min": "0.01", "step": "0.01", "inputmode": "decimal"}


def money_field(label, required=True):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs=MONEY_ATTRS),
    )


class ServicePlanForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ServicePlan
        fields = [
            "name",
            "fee_type",
            "price",
            "monthly_fee",
            "success_fee",
            "duration_months",
            "introductions_per_month",
            "dates_per_month",
            "description",
            "active",
            "sort_order",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "price": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
            "monthly_fee": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
            "success_fee": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
            "duration_months": forms.NumberInput(attrs={"min": "1", "max": "120"}),
        }

    def clean(self):
        data = super().clean()
        for name in ("price", "monthly_fee", "success_fee"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, _("A fee cannot be negative."))
        months = data.get("duration_months")
        if months is not None and not 1 <= months <= 120:
            self.add_error("duration_months", _("Between 1 and 120 months."))
        return data


class FieldGroup:
    """Some of a form's fields, shaped like a form for includes/form_fields.html."""

    def __init__(self, form, names):
        self.form, self.names = form, names

    def visible_fields(self):
        return [self.form[name] for name in self.names]

    def hidden_fields(self):
        return []

    def non_field_errors(self):
        return self.form.non_field_errors()


class ContractForm(StyledFormMixin, forms.ModelForm):
    """The terms of a contract; the instalments come as numbered pairs of inputs."""

    number = forms.CharField(
        label=_("contract number"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to number it automatically; fill in for a paper contract."),
    )

    class Meta:
        model = Contract
        fields = [
            "number",
            "plans",
            "amount",
            "payment_type",
            "service_start",
            "service_end",
            "signed_by",
            "store",
            "remark",
        ]
        widgets = {
            "plans": forms.CheckboxSelectMultiple,
            "service_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "service_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "remark": forms.Textarea(attrs={"rows": 2}),
            "amount": forms.NumberInput(attrs=MONEY_ATTRS),
        }

    def __init__(self, *args, plans, staff, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plans"].queryset = plans
        self.fields["signed_by"].queryset = staff
        self.fields["store"].queryset = stores
        self.instalment_rows = []
        for i in range(MAX_INSTALMENTS):
            due = forms.DateField(
                label=_("due on"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            amount = money_field(_("amount"), required=False)
            self.fields[f"due_{i}"] = due
            self.fields[f"part_{i}"] = amount
        for i in range(MAX_INSTALMENTS):
            for name in (f"due_{i}", f"part_{i}"):
                widget = self.fields[name].widget
                widget.attrs["class"] = "form-control"
                if isinstance(widget, forms.DateInput):
                    widget.format = "%Y-%m-%d"
            self.instalment_rows.append((self[f"due_{i}"], self[f"part_{i}"]))
        self.terms = FieldGroup(self, list(self.Meta.fields))
        if self.instance.pk:
            for i, part in enumerate(self.instance.instalments.all()[:MAX_INSTALMENTS]):
                self.initial[f"due_{i}"] = part.due_on
                self.initial[f"part_{i}"] = part.amount

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()

    def instalments(self) -> list[tuple]:
        rows = []
        for i in range(MAX_INSTALMENTS):
            due, part = self.cleaned_data.get(f"due_{i}"), self.cleaned_data.get(f"part_{i}")
            if due and part:
                rows.append((due, part))
            elif due or part:
                self.add_error(f"due_{i}", _("Give both the due date and the amount."))
        return rows


class ApproveForm(StyledFormMixin, forms.Form):
    amount = money_field(_("amount received"))
    method = forms.ChoiceField(label=_("method"), choices=PaymentMethod.choices)
    paid_on = forms.DateField(
        label=_("paid on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reference = forms.CharField(label=_("reference"), max_length=60, required=False)
    security_password = forms.CharField(
        label=_("Security password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class PaymentForm(ApproveForm):
    amount = money_field(_("amount"))


class RejectForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("reason for rejection"), max_length=300)


class RefundRequestForm(StyledFormMixin, forms.Form):
    amount = money_field(_("amount to refund"))
    reason = forms.CharField(
        label=pgettext_lazy("finance", "reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RefundDecisionForm(StyledFormMixin, forms.Form):
    amount = money_field(_("amount to pay out"), required=False)
    note = forms.CharField(label=_("finance's note"), max_length=300, required=False)
    security_password = forms.CharField(
        label=_("Security password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


WINDOWS = {"week": 7, "month": 30}


class ContractSearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("Contract number or member"), required=False, max_length=40)
    status = forms.ChoiceField(
        label=_("status"), required=False, choices=[("", _("All"))] + ContractStatus.choices
    )
    store = forms.ModelChoiceField(label=_("store"), required=False, queryset=None)
    start = forms.DateField(
        label=_("entered from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("entered until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores


class PaymentSearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Member, contract number or reference"), required=False, max_length=60
    )
    window = forms.ChoiceField(
        label=_("period"),
        required=False,
        choices=[("", _("All")), ("week", _("This week")), ("month", _("This month"))],
    )
    start = forms.DateField(
        label=_("paid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("paid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        if data.get("window") == "week":
            data["start"], data["end"] = today - timedelta(days=today.weekday()), today
        elif data.get("window") == "month":
            data["start"], data["end"] = today.replace(day=1), today
        return data


class RefundSearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Member name, UID or ID number, refund or contract number"),
        required=False,
        max_length=40,
    )
    status = forms.ChoiceField(
        label=_("status"), required=False, choices=[("", _("All"))] + RefundStatus.choices
    )
    start = forms.DateField(
        label=_("requested from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("requested until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ReportForm(StyledFormMixin, forms.Form):
    window = forms.ChoiceField(
        label=_("period"),
        required=False,
        choices=[
            ("week", _("Last 7 days")),
            ("month", _("Last 30 days")),
            ("quarter", _("Last 3 months")),
            ("half", _("Last 6 months")),
            ("year", _("Last 12 months")),
            ("range", _("Chosen range")),
        ],
    )
    start = forms.DateField(
        label=pgettext_lazy("finance", "from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=pgettext_lazy("finance", "until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        if data.get("window") == "range":
            if not (data.get("start") and data.get("end")):
                self.add_error("start", _("Choose the first and the last day."))
            elif abs((data["end"] - data["start"]).days) > 366 * 5:
                self.add_error("end", _("Choose at most five years."))
        return data


ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


class AttachmentForm(StyledFormMixin, forms.Form):
    """A scanned contract or receipt: a PDF, JPEG or PNG, told by its content, at most 10 MB."""

    title = forms.CharField(label=_("title"), max_length=60)
    file = forms.FileField(label=_("file (PDF, JPEG or PNG, at most 10 MB)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        head = upload.read(8)
        upload.seek(0)
        if head.startswith(b"%PDF-"):
            self.kind = "pdf"
        elif head.startswith(b"\xff\xd8\xff"):
            self.kind = "jpg"
        elif head.startswith(b"\x89PNG\r\n\x1a\n"):
            self.kind = "png"
        else:
            raise forms.ValidationError(_("Only PDF, JPEG or PNG files are accepted."))
        if self.kind != "pdf":
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(upload) as img:
                    img.verify()
            except (UnidentifiedImageError, OSError, SyntaxError):
                raise forms.ValidationError(_("The image is damaged.")) from None
            upload.seek(0)
        return upload


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ComplaintForm(StyledFormMixin, forms.Form):
    member = forms.IntegerField(label=_("Member UID"), min_value=1)
    received_on = forms.DateField(label=_("received on"), widget=_date_input())
    summary = forms.CharField(
        label=_("what the member complains about"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ComplaintCloseForm(StyledFormMixin, forms.Form):
    resolution = forms.CharField(
        label=_("how it was handled"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ComplaintSearchForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[("", _("All"))] + ComplaintStatus.choices,
    )
    start = forms.DateField(label=_("received from"), required=False, widget=_date_input())
    end = forms.DateField(label=_("received until"), required=False, widget=_date_input())
