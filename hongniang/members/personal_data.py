"""Personal information (PIPL): resident ID numbers and mobiles.

Stored three ways: encrypted (Fernet, to show in full to whoever may reveal it), a keyed hash
(HMAC-SHA256, for uniqueness and exact look-up without decrypting anything) and a mask (for lists).
Both keys derive from FIELD_ENCRYPTION_KEY, which production must take from the environment.
"""

import base64
import hashlib
import hmac
import re
from datetime import date
from functools import cache

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from hongniang.members.choices import Sex


@cache
def _keys(secret: str) -> tuple[Fernet, bytes]:
    enc = hashlib.sha256(b"hongniang-encrypt:" + secret.encode()).digest()
    mac = hashlib.sha256(b"hongniang-lookup:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(enc)), mac


def encrypt(value: str) -> str:
    return _keys(settings.FIELD_ENCRYPTION_KEY)[0].encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _keys(settings.FIELD_ENCRYPTION_KEY)[0].decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def decrypt_many(tokens: list[str]) -> list[str]:
    """:func:`decrypt` of many values (an export's column), the key fetched once."""
    fernet = _keys(settings.FIELD_ENCRYPTION_KEY)[0]
    plain = []
    for token in tokens:
        try:
            plain.append(fernet.decrypt(token.encode()).decode() if token else "")
        except InvalidToken:
            plain.append("")
    return plain


def lookup_hash(value: str) -> str:
    """A keyed hash: equal values give equal hashes, and nobody without the key can test guesses."""
    if not value:
        return ""
    mac = _keys(settings.FIELD_ENCRYPTION_KEY)[1]
    return hmac.new(mac, value.encode(), hashlib.sha256).hexdigest()


def hash_match(field: str, value: str) -> Q:
    """Rows whose keyed hash ``field`` (``mobile_hash``, ``id_number_hash``, or a path ending in
    one) equals ``value``. The hashes are indexed only by unique partial indexes that leave out
    empty hashes, and SQLite and PostgreSQL use a partial index only when the query states its
    condition: so it is stated here (an empty value then matches nobody, as it should)."""
    return Q(**{field: value}) & ~Q(**{field: ""})


def lookup_hashes(values: list[str]) -> list[str]:
    """:func:`lookup_hash` of many values (an import's column), the key fetched once."""
    mac = _keys(settings.FIELD_ENCRYPTION_KEY)[1]
    return [hmac.digest(mac, v.encode(), "sha256").hex() if v else "" for v in values]


def encrypt_many(values: list[str]) -> list[str]:
    """:func:`encrypt` of many values, the key fetched once."""
    fernet = _keys(settings.FIELD_ENCRYPTION_KEY)[0]
    return [fernet.encrypt(v.encode()).decode() if v else "" for v in values]


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else "****"


def mask_id_number(number: str) -> str:
    return f"{number[:4]}**********{number[-4:]}" if len(number) >= 8 else "****"


def _pattern(desc) -> "re.Pattern":
    return re.compile(f"(?:{desc.national_number_pattern})")


@cache
def _cn_patterns() -> tuple:
    """phonenumbers' own patterns for China: the valid numbers, mobiles and fixed lines."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return _pattern(meta.general_desc), _pattern(meta.mobile), _pattern(meta.fixed_line)


def _plain_mobile(text: str) -> bool:
    """An 11-digit national number that phonenumbers would take as a Chinese mobile, decided
    with its own patterns without parsing (an import checks 100,000 of them)."""
    general, mobile, fixed = _cn_patterns()
    return (
        bool(mobile.fullmatch(text))
        and bool(general.fullmatch(text))
        and not fixed.fullmatch(text)  # both would be "fixed line or mobile": refused
    )


def normalize_mobile(raw: str) -> str:
    """A Chinese mobile as 11 digits, or ValidationError."""
    text = (raw or "").strip().replace(" ", "").replace("-", "")
    if len(text) == 11 and text.isascii() and text.isdigit() and _plain_mobile(text):
        return text
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid Chinese mobile number."), code="mobile") from exc
    national = str(parsed.national_number)
    valid = (
        parsed.country_code == 86
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    )
    if not valid:
        raise ValidationError(_("Enter a valid Chinese mobile number."), code="mobile")
    return national


_PLAIN_ID = re.compile(r"[0-9]{17}[0-9X]")


def _birth_date(number: str) -> date:
    """The birth date of a resident ID of 18 plain characters (as stdnum reads it)."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def normalize_resident_id(raw: str) -> str:
    """An 18-character resident ID with a valid check digit and birth date, or ValidationError.

    The first six digits are not checked against stdnum's table of places: that table dates each
    county (天河区 "[1985-]"), but an ID carries the code of where it was issued, so people born
    before a district existed hold IDs with its code.
    """
    text = (raw or "").strip().upper()
    if not _PLAIN_ID.fullmatch(text):  # spaces, full-width digits, …: stdnum's clean-up
        text = ric.compact(raw or "")
    if len(text) != 18:
        raise ValidationError(_("A resident ID number has 18 characters."), code="id_length")
    try:
        if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
            raise StdnumError
        if ric.calc_check_digit(text) != text[17]:
            raise StdnumError
        birth = _birth_date(text)
    except (StdnumError, ValueError) as exc:
        raise ValidationError(
            _("This resident ID number is not valid (check digit or birth date)."), code="id"
        ) from exc
    if birth > date.today():  # noqa: DTZ011 - a calendar date, not an instant
        raise ValidationError(
            _("This resident ID number is not valid (check digit or birth date)."), code="id"
        )
    return text


def resident_id_facts(number: str) -> tuple[date, str]:
    """(birth date, sex) encoded in a valid resident ID: the 17th digit is odd for men."""
    birth = _birth_date(number)
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return birth, sex
