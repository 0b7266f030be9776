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
