"""A forgotten password is reset with a code sent by SMS: the same answer whether or not the
account exists, codes expire and are used once, wrong codes spend the code, and sending and
checking are rate-limited (per account and per address)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from hongniang.frontdesk.models import MemberAccount
from hongniang.members.models import EventKind, MemberEvent
from hongniang.messaging.sms import LoggingSmsBackend
from hongniang.portal import reset
from hongniang.portal.models import ResetCode

from .conftest import MEMBER_PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Brand-new-pass-77"


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.SMS_BACKEND = "hongniang.messaging.sms.LoggingSmsBackend"
    LoggingSmsBackend.outbox.clear()
    yield LoggingSmsBackend.outbox
    LoggingSmsBackend.outbox.clear()


def ask(client, identifier, **extra):
    return client.post(reverse("portal:reset_request"), {"identifier": identifier}, **extra)


def use(client, identifier, code, password=NEW, **extra):
    return client.post(
        reverse("portal:reset_code"),
        {
            "identifier": identifier,
            "code": code,
            "new_password1": password,
            "new_password2": password,
        },
        **extra,
    )


def code_in(outbox) -> str:
    return re.search(r"\d{6}", outbox[-1][1]).group(0)


def test_a_code_by_sms_resets_the_password_once(client, member, outbox):
    response = ask(client, "13912345678")
    assert response.status_code == 302 and response.url == reverse("portal:reset_code")
    assert outbox[-1][0] == "13912345678"
    code = code_in(outbox)
    assert not ResetCode.objects.filter(code_hash__contains=code).exists()  # kept hashed
    response = use(client, "xiaofang", code)  # mobile or username, as at login
    assert response.status_code == 302 and response.url == reverse("portal:login")
    account = MemberAccount.objects.get(member=member)
    assert account.check_password(NEW) and not account.must_change_password
    assert MemberEvent.objects.filter(member=member, kind=EventKind.ACCOUNT).exists()
    logged = client.post(reverse("portal:login"), {"identifier": "xiaofang", "password": NEW})
    assert logged.status_code == 302
    # Used once: the same code again is refused and changes nothing.
    response = use(Client(), "xiaofang", code, password="Another-pass-88")
    assert zh("The code is wrong or has expired: ask for a new one.") in response.content.decode()
    assert MemberAccount.objects.get(member=member).check_password(NEW)


def test_unknown_and_known_mobiles_read_the_same(client, member, outbox):
    known = ask(Client(), "13912345678", follow=True).content.decode()
    unknown = ask(Client(), "13800000000", follow=True).content.decode()
    words = zh(
        "If an account has this mobile or username, a code was sent to its mobile. "
        "It is valid for %(minutes)s minutes."
    ) % {"minutes": reset.CODE_MINUTES}
    assert words in known and words in unknown
    assert len(outbox) == 1  # only the member's mobile got a text
    response = use(Client(), "13800000000", "123456")
    assert zh("The code is wrong or has expired: ask for a new one.") in response.content.decode()


def test_an_expired_code_is_refused(client, member, outbox):
    ask(client, "xiaofang")
    code = code_in(outbox)
    ResetCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    use(client, "xiaofang", code)
    assert MemberAccount.objects.get(member=member).check_password(MEMBER_PASSWORD)


def test_wrong_codes_spend_the_code(client, member, outbox):
    ask(client, "xiaofang")
    code = code_in(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(reset.CODE_TRIES):
        use(client, "xiaofang", wrong)
    use(client, "xiaofang", code)  # the right one, too late
    assert MemberAccount.objects.get(member=member).check_password(MEMBER_PASSWORD)


def test_a_new_code_replaces_the_old_one(client, member, outbox):
    ask(client, "xiaofang")
    first = code_in(outbox)
    ask(client, "xiaofang")
    second = code_in(outbox)
    if first != second:
        use(client, "xiaofang", first)
        assert MemberAccount.objects.get(member=member).check_password(MEMBER_PASSWORD)
    use(client, "xiaofang", second)
    assert MemberAccount.objects.get(member=member).check_password(NEW)


def test_sending_is_limited_per_account_quietly(member, outbox):
    for n in range(reset.SENDS_PER_ACCOUNT.count + 2):
        # Different addresses: the account's own limit counts.
        response = ask(Client(), "xiaofang", REMOTE_ADDR=f"10.0.0.{n + 1}")
        assert response.status_code == 302  # the same answer, sent or not
    assert len(outbox) == reset.SENDS_PER_ACCOUNT.count


def test_sending_is_limited_per_address(member, outbox):
    client = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(reset.SENDS_PER_ADDRESS.count):
        assert ask(client, "13800000001").status_code == 302
    response = ask(client, "xiaofang")
    assert response.status_code == 429
    assert outbox == []


def test_checking_is_limited_per_address(member, outbox):
    ask(Client(), "xiaofang")
    code = code_in(outbox)
    client = Client(REMOTE_ADDR="10.8.8.8")
    for _ in range(reset.CHECKS_PER_ADDRESS.count):
        use(client, "13800000002", "123456")
    assert use(client, "xiaofang", code).status_code == 429
    assert MemberAccount.objects.get(member=member).check_password(MEMBER_PASSWORD)


def test_a_closed_account_gets_no_code(member, outbox):
    MemberAccount.objects.filter(member=member).update(is_active=False)
    assert ask(Client(), "xiaofang").status_code == 302
    assert outbox == []


def test_a_weak_new_password_is_refused_and_the_code_stays_usable(client, member, outbox):
    ask(client, "xiaofang")
    code = code_in(outbox)
    response = use(client, "xiaofang", code, password="123")
    assert response.status_code == 200
    assert MemberAccount.objects.get(member=member).check_password(MEMBER_PASSWORD)
    use(client, "xiaofang", code)
    assert MemberAccount.objects.get(member=member).check_password(NEW)


def test_staff_credentials_never_open_the_member_centre(client, org):
    # A staff user's username and password at the member login: refused like a wrong password.
    response = client.post(
        reverse("portal:login"), {"identifier": "aa1", "password": "Pass-1234-word"}
    )
    assert response.status_code == 200
    assert zh("The mobile or username and the password do not match.") in response.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302
