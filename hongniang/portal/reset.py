"""A member resets a forgotten password with a code sent by SMS.

The answer to "send me a code" is the same whether or not the mobile or username belongs to an
account (no one learns who is a member); codes are kept hashed, expire, are used once and admit
a few wrong tries; sending is limited per address and per account, checking per address.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from hongniang.frontdesk import throttle
from hongniang.frontdesk.models import MemberAccount
from hongniang.members import personal_data as pd
from hongniang.members.models import EventKind, MemberEvent
from hongniang.messaging.sms import get_sms_backend
from hongniang.siteconfig.models import SiteSettings

from .models import ResetCode

CODE_MINUTES = 10
CODE_TRIES = 5
# Sending costs money and reaches a phone: tight limits. Checking: loose enough for typos.
SENDS_PER_ADDRESS = throttle.Limit("reset-send-ip", 5, 3600)
SENDS_PER_ACCOUNT = throttle.Limit("reset-send-account", 3, 3600)
CHECKS_PER_ADDRESS = throttle.Limit("reset-check-ip", 20, 3600)


class TooMany(Exception):
    """This address has asked too often: the page says to wait."""


@dataclass(frozen=True)
class Sent:
    """What the visitor is told: always the same words (`sent` is for tests and the log)."""

    sent: bool


def _hash(code: str) -> str:
    return salted_hmac("hongniang.portal.reset", code).hexdigest()


def _mobile(account: MemberAccount) -> str:
    member = account.member
    return pd.decrypt(member.mobile_encrypted) if member.mobile_encrypted else ""


def request_code(request, identifier: str) -> Sent:
    """Send a code to the account's mobile, if there is such an account that may log in and the
    limits allow; the caller answers the same either way."""
    from .services import find_account

    address = throttle.client_address(request)
    if throttle.hit(SENDS_PER_ADDRESS, address):
        raise TooMany
    account = find_account(identifier)
    if account is None or not account.is_active:
        return Sent(False)
    if throttle.hit(SENDS_PER_ACCOUNT, str(account.pk)):
        return Sent(False)  # quietly: the answer must not differ from an unknown mobile's
    mobile = _mobile(account)
    if not mobile:
        return Sent(False)
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        # A new code replaces the earlier ones.
        ResetCode.objects.filter(account=account, used_at__isnull=True).update(used_at=now)
        ResetCode.objects.create(
            account=account,
            code_hash=_hash(code),
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    agency = SiteSettings.load().crm_name
    text = _(
        "Your password reset code is %(code)s (valid %(minutes)s minutes). If you did not ask "
        "for it, ignore this message."
    ) % {"code": code, "minutes": CODE_MINUTES}
    get_sms_backend().send(mobile, f"【{agency}】{text}" if agency else text)
    return Sent(True)


def _refused() -> ValidationError:
    # One message for every wrong case: unknown account, wrong, used or expired code.
    return ValidationError({"code": _("The code is wrong or has expired: ask for a new one.")})


def reset_password(request, *, identifier: str, code: str, new: str) -> MemberAccount:
    """Set a new password with a valid code: the code is spent, the account's failed logins
    are forgotten, its other sessions end (the session hash follows the password)."""
    from .services import _lock_key, find_account

    if throttle.hit(CHECKS_PER_ADDRESS, throttle.client_address(request)):
        raise TooMany
    account = find_account(identifier)
    now = timezone.now()
    if account is None or not account.is_active:
        raise _refused()
    with transaction.atomic():
        row = (
            ResetCode.objects.select_for_update()
            .filter(account=account, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None:
            raise _refused()
        if not constant_time_compare(row.code_hash, _hash((code or "").strip())):
            row.attempts += 1
            if row.attempts >= CODE_TRIES:
                row.used_at = now  # spent: no guessing a six-digit code
            row.save(update_fields=["attempts", "used_at"])
            wrong = True
        else:
            wrong = False
    if wrong:
        raise _refused()
    try:
        validate_password(new)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    with transaction.atomic():
        ResetCode.objects.filter(pk=row.pk).update(used_at=now)
        account.set_password(new)
        account.must_change_password = False
        account.temporary_until = None
        account.save(update_fields=["password", "must_change_password", "temporary_until"])
        MemberEvent.objects.create(
            member=account.member,
            kind=EventKind.ACCOUNT,
            summary=_("The member reset their password with a code sent by SMS"),
            data={"step": "self_reset"},
        )
    AxesProxyHandler.reset_attempts(username=_lock_key(account, identifier))
    return account
