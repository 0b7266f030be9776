"""Lunar birthdays (农历生日, whitepaper 2.5.6): many members celebrate the day of the Chinese
calendar they were born on, which moves against the Gregorian calendar every year.

A member who keeps one has their lunar month and day of birth stored as "MM-DD"
(`Member.lunar_birthday_md`), the others their Gregorian one (`Member.birthday_md`), so "whose
birthday is today" and "this month" are index look-ups, not a date function over every row.
"""

from datetime import date

from lunar_python import LunarMonth, Solar


def birthday_keys(birthday: date | None, lunar: bool) -> tuple[str, str]:
    """(`birthday_md`, `lunar_birthday_md`) of a member: the "MM-DD" of the calendar they
    celebrate in its column, the other column empty."""
    if birthday is None:
        return "", ""
    if lunar:
        return "", lunar_month_day(birthday)
    return f"{birthday:%m-%d}", ""


def lunar_month_day(birthday: date) -> str:
    """The lunar "MM-DD" of a Gregorian date; a leap month counts as the month it repeats, as
    people born in one celebrate in the ordinary month of that number."""
    lunar = Solar.fromYmd(birthday.year, birthday.month, birthday.day).getLunar()
    return f"{abs(lunar.getMonth()):02d}-{lunar.getDay():02d}"


def lunar_today(today: date) -> tuple[list[str], str | None]:
    """The lunar "MM-DD" keys celebrated on `today`, and the lunar month ("MM") it falls in.

    Born on the 30th of a month that has only 29 days this year: celebrated on the 29th. In a
    leap month nobody celebrates: they did in the ordinary month before it.
    """
    lunar = Solar.fromYmd(today.year, today.month, today.day).getLunar()
    month = lunar.getMonth()
    if month < 0:
        return [], None
    days = [f"{month:02d}-{lunar.getDay():02d}"]
    if lunar.getDay() == 29 and LunarMonth.fromYm(lunar.getYear(), month).getDayCount() == 29:
        days.append(f"{month:02d}-30")
    return days, f"{month:02d}"
