"""Public registration: configurable required fields, errors that keep what was typed, the
member in the pool with a hashed login, live checks, and credit to the matchmaker's link."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.frontdesk import throttle
from hongniang.frontdesk.forms import (
    ALWAYS_REQUIRED,
    PREF_PREFIX,
    RegistrationForm,
    RegistrationPreferenceForm,
    configurable_fields,
)
from hongniang.frontdesk.models import FrontDeskSettings, MemberAccount, Registration
from hongniang.members import choices as c
from hongniang.members.models import EventKind, Member
from hongniang.members.selectors import pool_members
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.messaging.models import Notice

pytestmark = pytest.mark.django_db

PASSWORD = "Hn-visitor-2026"


def valid(**extra):
    return {
        "username": "xiaofang88",
        "password": PASSWORD,
        "mobile": "13912345678",
        "name": "王小芳",
        "sex": c.Sex.FEMALE,
        "birthday": "1995-03-04",
        "region_province": "440000",
        "region_city": "440100",
        "region_county": "440106",
        "marital_status": c.MaritalStatus.SINGLE,
        "education": str(c.Education.BACHELOR),
        "height": "163",
        "id_type": "resident_id",
        "pref-age_min": "26",
        "pref-age_max": "35",
        **extra,
    }


@pytest.fixture
def lead_store(org):
    settings = FrontDeskSettings.load()
    settings.default_store = org["store_a"]
    settings.save()
    return org["store_a"]


def test_the_form_has_the_whitepapers_sections_and_a_csrf_token(client, lead_store, regions):
    page = client.get("/join/").content.decode()
    for title in ("账号资料", "基本资料", "择偶要求", "csrfmiddlewaretoken"):
        assert title in page
    assert 'hx-get="/join/check/username/"' in page and 'hx-get="/join/check/mobile/"' in page


def test_a_visitor_registers_into_the_pool_with_a_hashed_login(client, org, lead_store, regions):
    response = client.post("/join/", valid(id_number=resident_id(date(1995, 3, 4), c.Sex.FEMALE)))
    assert response.status_code == 302 and response["Location"] == "/join/thanks/"
    member = Member.objects.get(username="xiaofang88")
    assert member.source == c.Source.REGISTRATION and member.presales_owner is None
    assert member.store == lead_store and member.mobile_masked == "139****5678"
    assert member in pool_members(viewer=org["mgr1"], pool="unsigned")
    assert member.preference.age_min == 26
    account = MemberAccount.objects.get(member=member)
    assert account.password != PASSWORD and account.check_password(PASSWORD)
    assert Registration.objects.get(member=member).referrer is None
    assert member.events.get(kind=EventKind.CREATED).actor is None


def test_bad_input_shows_every_error_in_chinese_and_keeps_the_rest(
    client, org, lead_store, regions
):
    add_member(org["aa1"], username="taken1", mobile="13812340000")
    data = valid(
        username="taken1",
        mobile="12345",
        password="123",
        id_number="440106199503040000",
        height="300",
        **{"pref-age_min": "40", "pref-age_max": "30"},
    )
    data.pop("marital_status")
    response = client.post("/join/", data)
    text = response.content.decode()
    assert response.status_code == 200
    assert not Member.objects.filter(name="王小芳").exists()
    for message in ("已存在", "手机号", "密码", "身份证", "230", "此项必填", "上限不能小于下限"):
        assert message in text, message
    for kept in ('value="taken1"', 'value="王小芳"', 'value="12345"', 'value="300"', "1995-03-04"):
        assert kept in text, kept
    assert 'value="123"' not in text  # never the password


def test_a_mobile_already_registered_keeps_nothing_and_says_nothing(
    client, org, lead_store, regions
):
    # Told apart from a new registration it would tell outsiders who is a member (see
    # test_public_oracle.py): the visitor is thanked, the member's matchmaker is told.
    add_member(org["aa1"], mobile="13912345678")
    response = client.post("/join/", valid())
    assert response.status_code == 302 and Member.objects.count() == 1


def test_the_honeypot_keeps_nothing(client, lead_store, regions):
    assert client.post("/join/", valid(website="x")).status_code == 302
    assert not Member.objects.exists()


def test_registrations_are_limited_per_address(client, lead_store, regions):
    limit = throttle.REGISTER_PER_ADDRESS.count
    for i in range(limit):
        data = valid(username=f"visitor{i}", mobile=f"1391234000{i}")
        assert client.post("/join/", data).status_code == 302
    refused = client.post("/join/", valid())
    assert refused.status_code == 429 and "太频繁" in refused.content.decode()
    assert Member.objects.count() == limit


def test_a_visitor_fixing_typos_is_not_locked_out_but_a_robot_is(client, lead_store, regions):
    for _ in range(throttle.REGISTER_PER_ADDRESS.count + 1):
        assert client.post("/join/", {"username": ""}).status_code == 200
    assert client.post("/join/", valid()).status_code == 302
    for _ in range(throttle.ATTEMPTS_PER_ADDRESS.count):
        client.post("/join/", {"username": ""})
    assert client.post("/join/", valid(username="late1", mobile="13912340001")).status_code == 429


CONFIGURABLE = [key for _title, keys in configurable_fields() for key, _label in keys]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(required=st.sets(st.sampled_from(CONFIGURABLE)))
def test_exactly_the_configured_fields_are_required(regions, required):
    """Only the account is filled in: the errors name exactly the fields the agency requires."""
    data = {
        "username": "someone1",
        "password": PASSWORD,
        "mobile": "13912345678",
        "name": "张三",
        "sex": c.Sex.MALE,
    }
    form = RegistrationForm(data, required=required)
    pref = RegistrationPreferenceForm(data, required=required)
    form.is_valid()
    pref.is_valid()
    member_keys = {k for k in required if not k.startswith(PREF_PREFIX)}
    pref_keys = {k.removeprefix(PREF_PREFIX) for k in required if k.startswith(PREF_PREFIX)}
    assert set(form.errors) == member_keys
    assert set(pref.errors) == pref_keys
    assert {n for n, f in form.fields.items() if f.required} >= ALWAYS_REQUIRED


def test_the_setting_decides_what_the_public_form_requires(client, org, lead_store, regions):
    client.force_login(org["aa1"])
    assert client.get(reverse("frontdesk:settings")).status_code == 403
    client.force_login(org["admin"])
    response = client.post(
        reverse("frontdesk:settings"),
        {"required_fields": ["occupation", "pref.height_min"], "default_store": org["store_b"].pk},
    )
    assert response.status_code == 302
    settings_row = FrontDeskSettings.load()
    assert settings_row.required_fields == ["occupation", "pref.height_min"]
    anonymous = Client()
    data = valid()
    response = anonymous.post("/join/", data)
    errors = response.context["form"].errors | response.context["pref_form"].errors
    assert set(errors) == {"occupation", "height_min"}
    data |= {"occupation": c.Occupation.choices[0][0], "pref-height_min": "170"}
    assert anonymous.post("/join/", data).status_code == 302
    assert Member.objects.get(username="xiaofang88").store == org["store_b"]


def test_live_checks_answer_without_login_and_slowly(client, org, regions):
    add_member(org["bb1"], username="takenname", name="秘密会员", mobile="13812347996")
    taken = client.get("/join/check/username/", {"username": "takenname"}).content.decode()
    assert "text-danger" in taken and "秘密会员" not in taken
    assert (
        "text-success"
        in client.get("/join/check/username/", {"username": "freename"}).content.decode()
    )
    mobile = client.get("/join/check/mobile/", {"mobile": "13812347996"}).content.decode()
    assert "text-success" in mobile and "秘密会员" not in mobile and org["bb1"].name not in mobile
    number = resident_id(date(1990, 1, 1), c.Sex.MALE)
    assert (
        "text-success"
        in client.get("/join/check/id-number/", {"id_number": number}).content.decode()
    )
    for _ in range(throttle.CHECKS_PER_ADDRESS.count):
        client.get("/join/check/mobile/", {"mobile": "13812347996"})
    assert client.get("/join/check/mobile/", {"mobile": "13812347996"}).status_code == 429
    assert client.get("/join/regions/", {"parent": "440000"}).status_code == 200


# --- lead attribution ----------------------------------------------------------------------


def test_a_registration_through_a_matchmakers_link_is_credited_to_them(
    client, org, lead_store, regions
):
    staff = Client()
    staff.force_login(org["aa1"])
    page = staff.get(reverse("frontdesk:my_link")).content.decode()
    code = org["aa1"].referral_code.code
    assert f"/join/r/{code}/" in page
    svg = staff.get(reverse("frontdesk:qr", args=[code]))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content and b"http" not in svg.content.split(b">", 1)[0][:5]
    assert staff.get(reverse("frontdesk:poster")).status_code == 200
    landing = client.get(f"/join/r/{code}/")
    assert landing.status_code == 302 and landing["Location"] == f"/join/?ref={code}"
    form_page = client.get(landing["Location"]).content.decode()
    assert org["aa1"].name in form_page and f'value="{code}"' in form_page
    assert client.post("/join/", valid(ref=code)).status_code == 302
    member = Member.objects.get(username="xiaofang88")
    assert member.presales_owner == org["aa1"] and member.store == org["aa1"].store
    assert member.source == c.Source.REGISTRATION
    assert member not in pool_members(viewer=org["mgr1"], pool="unsigned")
    assert Registration.objects.get(member=member).referrer == org["aa1"]
    assert Notice.objects.filter(recipient=org["aa1"], text__contains="王小芳").exists()
    page = staff.get(reverse("frontdesk:my_link")).content.decode()
    assert "data-count-total>1<" in page
    staff.force_login(org["mgr1"])
    counts = staff.get(reverse("frontdesk:referrals")).content.decode()
    assert 'data-registrations="aa1">1<' in counts


def test_links_and_qr_codes_of_other_teams_stay_hidden(client, org):
    client.force_login(org["bb1"])
    client.get(reverse("frontdesk:my_link"))
    code = org["bb1"].referral_code.code
    client.force_login(org["aa1"])
    assert client.get(reverse("frontdesk:staff_link", args=[org["bb1"].pk])).status_code == 404
    assert client.get(reverse("frontdesk:staff_poster", args=[org["bb1"].pk])).status_code == 404
    assert client.get(reverse("frontdesk:qr", args=[code])).status_code == 404


def test_a_code_of_a_locked_account_credits_nobody(client, org, lead_store, regions):
    Client().force_login(org["aa1"])
    from hongniang.frontdesk.services import referral_code_for

    code = referral_code_for(org["aa1"]).code
    org["aa1"].status = "locked"
    org["aa1"].save()
    client.post("/join/", valid(ref=code))
    member = Member.objects.get(username="xiaofang88")
    assert member.presales_owner is None and member.store == lead_store
