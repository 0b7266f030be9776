"""The fast paths of mobile and ID number normalisation (an import checks 100,000 of each)
decide exactly as the full parsers they shortcut."""

from datetime import date

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from hongniang.members import personal_data as pd


def _by_phonenumbers(text: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    ok = (
        parsed.country_code == 86
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    )
    return str(parsed.national_number) if ok else None


def _normalised(text: str) -> str | None:
    try:
        return pd.normalize_mobile(text)
    except ValidationError:
        return None


@given(st.from_regex(r"\A1[0-9]{10}\Z"))
@settings(max_examples=3000, deadline=None)  # no timing in tests: a loaded CI machine is slow
def test_an_eleven_digit_mobile_is_decided_as_phonenumbers_decides(text):
    assert _normalised(text) == _by_phonenumbers(text)


@pytest.mark.parametrize(
    "text", ["13800138000", "17400000000", "14512345678", "10012345678", "19912345678"]
)
def test_known_mobiles_and_prefixes(text):
    assert _normalised(text) == _by_phonenumbers(text)


def _by_stdnum(text: str) -> bool:
    """The rule as written before the fast path: stdnum's clean-up, check digit and birth date
    (not its table of places, see normalize_resident_id)."""
    number = ric.compact(text)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    try:
        return ric.calc_check_digit(number) == number[17] and (
            ric.get_birth_date(number) <= date.today()  # noqa: DTZ011
        )
    except StdnumError:
        return False


@given(
    st.builds(
        lambda area, y, m, d, seq: f"{area}{y:04d}{m:02d}{d:02d}{seq:03d}",
        st.sampled_from(["440106", "110101", "310115"]),
        st.integers(1900, 2020),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 999),
    ),
    st.sampled_from("0123456789X"),
)
@settings(max_examples=2000, deadline=None)
def test_a_resident_id_is_decided_as_stdnum_decides(body, last):
    number = body + last
    try:
        ours = pd.normalize_resident_id(number) == number
    except ValidationError:
        ours = False
    assert ours == _by_stdnum(number)
    if ours:
        assert pd.resident_id_facts(number)[0] == ric.get_birth_date(number)
