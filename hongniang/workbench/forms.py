"""Form styling shared by every workbench form, so templates stay free of per-field classes."""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The only formats <input type=date> / <input type=datetime-local> read (HTML spec). Django would
# render the active language's first input format (zh-hans: 1999/08/22), which the browser shows
# as an empty field, so saving the form unchanged erased the date.
HTML_INPUT_FORMATS = {"date": "%Y-%m-%d", "datetime-local": "%Y-%m-%dT%H:%M"}


# Dates the agency can mean. Years at the ends of the calendar (0001, 9999) overflow when
# turned into a midnight in the time zone or into UTC on the way to the database.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)


def within_calendar(value) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )


class StyledFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            dated = isinstance(field, forms.DateField | forms.DateTimeField)
            if dated and within_calendar not in field.validators:
                field.validators.append(within_calendar)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple) and not isinstance(
                widget, forms.CheckboxSelectMultiple | forms.RadioSelect
            ):
                css = "form-select"
            elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = "form-check-input"
            else:
                css = "form-control"
            existing = widget.attrs.get("class", "")
            if css not in existing.split():
                widget.attrs["class"] = f"{existing} {css}".strip()
            if isinstance(widget, forms.DateInput):
                widget.attrs.setdefault("data-datepicker", "1")
            html_format = HTML_INPUT_FORMATS.get(getattr(widget, "input_type", ""))
            if html_format and isinstance(widget, forms.DateInput | forms.DateTimeInput):
                widget.format = html_format


def add_service_errors(forms_, exc) -> None:
    """Show a service's ValidationError on the form that has the field it names (or the first
    form's top), so a rule checked in a service reads like a form error."""
    forms_ = forms_ if isinstance(forms_, list | tuple) else [forms_]
    first = forms_[0]
    if not hasattr(exc, "error_dict"):
        first.add_error(None, exc.messages)
        return
    for field, errors in exc.error_dict.items():
        owner = next((f for f in forms_ if field in f.fields), first)
        owner.add_error(field if field in owner.fields else None, errors)
