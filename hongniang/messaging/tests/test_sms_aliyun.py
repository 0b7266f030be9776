"""The Alibaba Cloud SMS adapter: request signing, answers and errors, over a mocked HTTP layer."""

import io
import json
import urllib.error
import urllib.parse

import pytest

from hongniang.messaging.sms import AliyunSmsBackend, aliyun_signature, percent_encode

OPTIONS = {
    "access_key_id": "testId",
    "access_key_secret": "testSecret",
    "sign_name": "红娘婚介",
    "template_code": "SMS_100001",
}


def test_signature_matches_the_providers_published_example():
    """The worked example of Alibaba Cloud's SMS signature documentation (GET)."""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_percent_encoding_follows_the_providers_rules():
    assert percent_encode("a b*~") == "a%20b%2A~"
    assert percent_encode("/=&+") == "%2F%3D%26%2B"


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Recorder:
    """Stands in for urllib's urlopen: keeps the request, answers what it was given."""

    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.requests = answer, error, []

    def __call__(self, request, timeout):
        self.requests.append(request)
        if self.error:
            raise self.error
        return FakeResponse(json.dumps(self.answer).encode())


def _sent_params(recorder) -> dict:
    (request,) = recorder.requests
    assert request.full_url == "https://dysmsapi.aliyuncs.com/" and request.method == "POST"
    return dict(urllib.parse.parse_qsl(request.data.decode()))


def test_a_successful_send_is_signed_and_returns_the_providers_id():
    http = Recorder(
        {"Code": "OK", "Message": "OK", "BizId": "9006197469364984400", "RequestId": "r"}
    )
    result = AliyunSmsBackend(opener=http, **OPTIONS).send("13912345678", "王女士，明天见")
    assert result.ok and result.provider_ref == "9006197469364984400"
    params = _sent_params(http)
    assert params["PhoneNumbers"] == "13912345678"
    assert params["SignName"] == "红娘婚介" and params["TemplateCode"] == "SMS_100001"
    assert json.loads(params["TemplateParam"]) == {"content": "王女士，明天见"}
    signature = params.pop("Signature")
    assert signature == aliyun_signature(params, "testSecret", method="POST")


def test_the_providers_error_answer_is_a_failure_with_its_reason():
    http = Recorder(
        {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控", "RequestId": "R1"}
    )
    result = AliyunSmsBackend(opener=http, **OPTIONS).send("13912345678", "hi")
    assert not result.ok
    assert result.error == "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控"


def test_an_http_error_with_a_json_body_is_read():
    body = json.dumps({"Code": "SignatureDoesNotMatch", "Message": "bad signature"}).encode()
    error = urllib.error.HTTPError("https://x/", 400, "Bad Request", {}, io.BytesIO(body))
    result = AliyunSmsBackend(opener=Recorder(error=error), **OPTIONS).send("13912345678", "hi")
    assert not result.ok and result.error.startswith("SignatureDoesNotMatch")


@pytest.mark.parametrize("error", [urllib.error.URLError("down"), TimeoutError("slow")])
def test_network_trouble_is_a_failure_not_a_crash(error):
    result = AliyunSmsBackend(opener=Recorder(error=error), **OPTIONS).send("13912345678", "hi")
    assert not result.ok and result.error.startswith("network")


@pytest.mark.django_db
def test_a_provider_refusal_is_recorded_on_the_delivery(org, settings, monkeypatch):
    from hongniang.members.tests.helpers import add_member
    from hongniang.messaging import services, sms
    from hongniang.messaging.models import DeliveryReason, DeliveryStatus

    http = Recorder({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "号码不合法"})
    monkeypatch.setattr(sms, "get_sms_backend", lambda: AliyunSmsBackend(opener=http, **OPTIONS))
    monkeypatch.setattr(services, "get_sms_backend", sms.get_sms_backend)
    member = add_member(org["aa1"], name="王小芳", mobile="13912345678")
    delivery = services.message_send(
        actor=org["aa1"], member=member, channel="sms", subject="", body="{name}您好"
    )
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.reason_code == DeliveryReason.SEND_ERROR
    assert "isv.MOBILE_NUMBER_ILLEGAL" in delivery.detail
    assert _sent_params(http)["PhoneNumbers"] == "13912345678"


def test_the_backend_is_chosen_by_settings(settings):
    from hongniang.messaging.sms import get_sms_backend

    settings.SMS_BACKEND = "hongniang.messaging.sms.AliyunSmsBackend"
    settings.SMS_OPTIONS = OPTIONS
    assert isinstance(get_sms_backend(), AliyunSmsBackend)
