"""Date inputs render the one format <input type=date> reads, whatever the active language."""

import datetime

from django.utils import translation

from hongniang.members.forms import MemberForm
from hongniang.siteconfig.forms import PersonalDataFilterForm


def test_filter_dates_render_iso_in_chinese():
    form = PersonalDataFilterForm(
        initial={"date_from": datetime.date(2026, 3, 5), "date_to": datetime.date(2026, 4, 1)}
    )
    with translation.override("zh-hans"):
        html = str(form["date_from"]) + str(form["date_to"])
    assert 'value="2026-03-05"' in html
    assert 'value="2026-04-01"' in html


def test_member_birthday_widget_is_iso():
    widget = MemberForm.Meta.widgets["birthday"]
    with translation.override("zh-hans"):
        assert widget.format_value(datetime.date(1990, 5, 3)) == "1990-05-03"


def _project_forms():
    """Every form class of the project (each app's forms modules imported first)."""
    import importlib
    import pkgutil

    from django import forms

    import hongniang

    for info in pkgutil.walk_packages(hongniang.__path__, "hongniang."):
        if info.name.rsplit(".", 1)[-1].endswith("forms"):
            importlib.import_module(info.name)
    seen, todo = set(), [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return [f for f in seen if f.__module__.startswith("hongniang.")]


def test_every_date_input_of_every_form_renders_iso_in_chinese():
    from django import forms

    wrong = []
    with translation.override("zh-hans"):
        for form in _project_forms():
            for name, field in getattr(form, "base_fields", {}).items():
                widget = field.widget
                if (
                    isinstance(widget, forms.DateInput)
                    and widget.input_type == "date"
                    and widget.format_value(datetime.date(1990, 5, 3)) != "1990-05-03"
                ):
                    wrong.append(f"{form.__module__}.{form.__name__}.{name}")
    assert not wrong, wrong
