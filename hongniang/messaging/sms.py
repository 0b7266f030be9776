"""Text messages (短信) through a small backend interface: ``send(mobile, text) -> SmsResult``.

``SMS_BACKEND`` (a dotted path) picks the backend, ``SMS_OPTIONS`` (a dict) configures it:

- ``LoggingSmsBackend`` (default): writes a masked line to the log and keeps the message in
  ``outbox`` (like Django's locmem mail backend), so development and tests send nothing.
- ``AliyunSmsBackend``: Alibaba Cloud SMS (阿里云短信服务, ``SendSms`` of API 2017-05-25) over
  HTTPS, signed as its RPC API requires (HMAC-SHA1 over the sorted, percent-encoded query).
  Chinese operators deliver only texts that fit an approved template, so the agency registers a
  template such as "${content}" and names it in ``SMS_OPTIONS["template_code"]``; the text goes
  in as that template's parameter.
"""

import base64
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsResult:
    ok: bool
    provider_ref: str = ""  # the provider's id of the message, to trace it with them
    error: str = ""


class LoggingSmsBackend:
    """Sends nothing: logs the masked number and the length, keeps the message in `outbox`."""

    outbox: list[tuple[str, str]] = []

    def __init__(self, **options):
        self.options = options

    def send(self, mobile: str, text: str) -> SmsResult:
        from hongniang.members.personal_data import mask_mobile

        LoggingSmsBackend.outbox.append((mobile, text))
        logger.info("SMS to %s (%s characters)", mask_mobile(mobile), len(text))
        return SmsResult(ok=True, provider_ref=f"log-{len(LoggingSmsBackend.outbox)}")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud's signature wants it: space %20, '*' %2A, '~' kept."""
    return urllib.parse.quote(str(value), safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """The ``Signature`` of an Alibaba Cloud RPC request (signature version 1.0)."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsBackend:
    """Alibaba Cloud SMS. Options: access_key_id, access_key_secret, sign_name, template_code,
    param_name (default "content"), endpoint, region (default cn-hangzhou), timeout (seconds)."""

    ENDPOINT = "https://dysmsapi.aliyuncs.com/"

    def __init__(self, *, opener=None, **options):
        self.options = options
        # The HTTP layer, replaceable in tests: opener(request, timeout) -> response.
        self._open = opener or urllib.request.urlopen

    def _params(self, mobile: str, text: str) -> dict[str, str]:
        o = self.options
        return {
            "AccessKeyId": o["access_key_id"],
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": mobile,
            "RegionId": o.get("region", "cn-hangzhou"),
            "SignName": o["sign_name"],
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": o["template_code"],
            "TemplateParam": json.dumps(
                {o.get("param_name", "content"): text}, ensure_ascii=False, separators=(",", ":")
            ),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    def send(self, mobile: str, text: str) -> SmsResult:
        params = self._params(mobile, text)
        params["Signature"] = aliyun_signature(
            params, self.options["access_key_secret"], method="POST"
        )
        request = urllib.request.Request(  # noqa: S310 - the endpoint is https from settings
            self.options.get("endpoint", self.ENDPOINT),
            data=urllib.parse.urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with self._open(request, timeout=self.options.get("timeout", 10)) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:  # the API answers errors with 4xx/5xx and JSON
            payload = exc.read()
            if not payload:
                return SmsResult(ok=False, error=f"HTTP {exc.code}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return SmsResult(ok=False, error=f"network: {exc}"[:300])
        try:
            answer = json.loads(payload)
        except ValueError:
            return SmsResult(ok=False, error="unreadable answer from the SMS provider")
        if answer.get("Code") == "OK":
            return SmsResult(ok=True, provider_ref=str(answer.get("BizId", "")))
        return SmsResult(
            ok=False,
            provider_ref=str(answer.get("RequestId", "")),
            error=f"{answer.get('Code', '?')}: {answer.get('Message', '')}"[:300],
        )


@cache
def _backend(path: str, options: tuple):
    return import_string(path)(**dict(options))


def get_sms_backend():
    options = tuple(sorted(getattr(settings, "SMS_OPTIONS", {}).items()))
    return _backend(settings.SMS_BACKEND, options)
