"""Birthdays by the lunar calendar for members who keep them, and 29 February."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongniang.members.birthdays import lunar_month_day, lunar_today
from hongniang.members.models import Member
from hongniang.members.selectors import birthday_q
from hongniang.members.tests.helpers import add_member


def test_lunar_month_and_day_of_known_dates():
    assert lunar_month_day(date(1990, 5, 3)) == "04-09"
    assert lunar_month_day(date(2026, 2, 17)) == "01-01"  # Spring Festival 2026
    # 2023 had a leap second month: 2023-04-19 is 闰二月廿九, celebrated in the second month.
    assert lunar_month_day(date(2023, 4, 19)) == "02-29"


def test_today_keys_cover_a_short_month_and_skip_a_leap_month():
    assert lunar_today(date(2026, 2, 17)) == (["01-01"], "01")
    # 2023-04-19 is 闰二月廿九: a leap month, nobody's lunar birthday.
    assert lunar_today(date(2023, 4, 19)) == ([], None)
    # The last day of a 29-day lunar month also serves those born on the 30th.
    day = date(2026, 1, 1)
    while True:
        keys, _month = lunar_today(day)
        if len(keys) == 2:
            break
        day += timedelta(days=1)
    assert keys[0].endswith("-29") and keys[1].endswith("-30")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1930, 1, 1), max_value=date(2090, 12, 31)))
def test_every_day_celebrates_its_own_lunar_birthday(day):
    keys, month = lunar_today(day)
    if month is None:  # a leap month
        return
    assert lunar_month_day(day) in keys
    assert all(k.startswith(f"{month}-") for k in keys)


@pytest.mark.django_db
def test_lunar_members_are_found_on_their_lunar_day_only(org):
    solar = add_member(org["aa1"], name="阳历", birthday=date(1990, 5, 3))
    lunar = add_member(org["aa1"], name="农历", birthday=date(1990, 5, 3), lunar_birthday=True)
    assert Member.objects.get(pk=lunar.pk).lunar_birthday_md == "04-09"
    assert Member.objects.get(pk=solar.pk).lunar_birthday_md == ""

    def born_on(day, month=False):
        return set(
            Member.objects.filter(birthday_q(day, month=month)).values_list("name", flat=True)
        )

    assert born_on(date(2026, 5, 3)) == {"阳历"}
    lunar_day_2026 = next(
        date(2026, 1, 1) + timedelta(days=i)
        for i in range(366)
        if "04-09" in lunar_today(date(2026, 1, 1) + timedelta(days=i))[0]
    )
    assert born_on(lunar_day_2026) == {"农历"}
    assert "农历" in born_on(lunar_day_2026, month=True)


@pytest.mark.django_db
def test_the_lunar_key_follows_an_edit_of_the_birthday(org):
    member = add_member(org["aa1"], birthday=date(1990, 5, 3), lunar_birthday=True)
    member.birthday = date(1992, 2, 4)
    member.save(update_fields=["birthday"])
    assert Member.objects.get(pk=member.pk).lunar_birthday_md == lunar_month_day(date(1992, 2, 4))
    member.lunar_birthday = False
    member.save(update_fields=["lunar_birthday"])
    assert Member.objects.get(pk=member.pk).lunar_birthday_md == ""


@pytest.mark.django_db
def test_born_on_29_february_celebrates_on_28_february_of_a_common_year(org):
    add_member(org["aa1"], name="闰日", birthday=date(1992, 2, 29))
    names = set(Member.objects.filter(birthday_q(date(2027, 2, 28))).values_list("name", flat=True))
    assert names == {"闰日"}
    assert not Member.objects.filter(birthday_q(date(2028, 2, 28))).exists()
    assert Member.objects.filter(birthday_q(date(2028, 2, 29))).exists()
