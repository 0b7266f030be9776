"""What a plausible member record looks like, checked in one place.

The validators sit on the model fields, so the member form (ModelForm validation), the Excel
import (which validates every row with the member form) and the services (``full_clean`` before
every save) all apply the same rules; nothing reaches the database, or the matching engine,
that these refuse.

Usernames: ASCII letters, digits and ``_ . -`` (3–30 characters), starting with a letter or a
digit. They are login names for the members' site and appear in URLs and exports, so no spaces,
no Chinese characters and nothing a shell, a spreadsheet or a URL would read differently.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The legal minimum age for registering with a marriage agency (adults only), and the oldest
# age taken as plausible: a birthday outside these is a typing error, not a member.
MIN_MEMBER_AGE = 18
MAX_MEMBER_AGE = 100
MAX_SIBLINGS = 20  # per sibling field (older brothers, ...)

validate_username = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,29}\Z",
    _(
        "Use 3–30 characters: letters, digits, underscore, dot or hyphen, "
        "starting with a letter or digit."
    ),
    code="invalid_username",
)
# QQ numbers are 5 to 12 digits and never start with 0.
validate_qq = RegexValidator(
    r"^[1-9][0-9]{4,11}\Z", _("A QQ number has 5 to 12 digits."), code="invalid_qq"
)


# Preference ranges whose lower bound must not exceed the upper one (``age_min`` ≤ ``age_max``).
PREFERENCE_RANGES = ("age", "height", "weight")
RANGE_INVERTED = _("The upper bound is below the lower bound.")


def inverted_ranges(values) -> list[str]:
    """The ``<range>_max`` keys of ``values`` (a mapping of preference fields) whose upper bound
    is below the lower bound; the preference form and the import both refuse these."""
    inverted = []
    for key in PREFERENCE_RANGES:
        lo, hi = values.get(f"{key}_min"), values.get(f"{key}_max")
        if lo is not None and hi is not None and lo > hi:
            inverted.append(f"{key}_max")
    return inverted


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def birthday_bounds(today: date | None = None) -> tuple[date, date]:
    """(earliest, latest) birthday of a member on ``today``: at most MAX_MEMBER_AGE years old
    (born after the day MAX_MEMBER_AGE + 1 years ago), at least MIN_MEMBER_AGE years old."""
    today = today or timezone.localdate()
    earliest = _years_before(today, MAX_MEMBER_AGE + 1)
    latest = _years_before(today, MIN_MEMBER_AGE)
    return earliest.fromordinal(earliest.toordinal() + 1), latest


def validate_birthday(value: date | None) -> None:
    if value is None:
        return
    today = timezone.localdate()
    earliest, latest = birthday_bounds(today)
    if value > today:
        raise ValidationError(_("The birthday is in the future."), code="future_birthday")
    if value > latest:
        raise ValidationError(
            _("Members must be at least %(age)s years old (born on or before %(date)s).")
            % {"age": MIN_MEMBER_AGE, "date": latest.isoformat()},
            code="too_young",
        )
    if value < earliest:
        raise ValidationError(
            _("A member cannot be older than %(age)s (born on or after %(date)s).")
            % {"age": MAX_MEMBER_AGE, "date": earliest.isoformat()},
            code="too_old",
        )
