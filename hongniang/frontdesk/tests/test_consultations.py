"""The public consultation form (spam limits, honeypot, CSRF) and its staff list."""

import pytest
from django.test import Client
from django.urls import reverse

from hongniang.frontdesk import throttle
from hongniang.frontdesk.models import Consultation, ConsultationStatus, FrontDeskSettings
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.selectors import pool_members
from hongniang.messaging.models import Notice

pytestmark = pytest.mark.django_db

URL = "/consult/"


def data(**extra):
    return {
        "name": "陈女士",
        "mobile": "139 1234 5678",
        "message": "想了解一对一服务",
        "heard_from": "friend",
        **extra,
    }


@pytest.fixture
def lead_store(org):
    settings = FrontDeskSettings.load()
    settings.default_store = org["store_a"]
    settings.save()
    return org["store_a"]


def test_a_visitor_leaves_a_consultation_and_is_thanked(client, lead_store):
    page = client.get(URL)
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    assert "script-src 'self'" in page["Content-Security-Policy"]
    response = client.post(URL, data())
    assert response.status_code == 302 and response["Location"] == "/consult/thanks/"
    assert client.get(response["Location"]).status_code == 200
    consultation = Consultation.objects.get()
    assert consultation.name == "陈女士" and consultation.heard_from == "friend"
    assert consultation.mobile_masked == "139****5678"
    assert "13912345678" not in consultation.mobile_encrypted
    assert consultation.status == ConsultationStatus.PENDING and consultation.store == lead_store


def test_bad_input_is_shown_in_chinese_and_kept(client, lead_store):
    response = client.post(URL, data(mobile="12345", message=""))
    text = response.content.decode()
    assert response.status_code == 200
    assert "请输入有效的中国大陆手机号码" in text or "手机号" in text
    assert "此项必填" in text
    assert 'value="陈女士"' in text and 'value="12345"' in text
    assert not Consultation.objects.exists()


def test_the_honeypot_thanks_robots_and_keeps_nothing(client, lead_store):
    response = client.post(URL, data(website="http://spam.example"))
    assert response.status_code == 302
    assert not Consultation.objects.exists()


def test_the_form_needs_its_csrf_token(lead_store):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, data()).status_code == 403
    assert not Consultation.objects.exists()


def test_one_address_may_submit_only_a_few_times(client, lead_store):
    limit = throttle.CONSULT_PER_ADDRESS.count
    for i in range(limit):
        assert client.post(URL, data(mobile=f"1391234{i:04d}")).status_code == 302
    refused = client.post(URL, data(mobile="13800009999"))
    assert refused.status_code == 429 and "太频繁" in refused.content.decode()
    assert Consultation.objects.count() == limit
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(URL, data(mobile="13800009999")).status_code == 302


def test_one_mobile_may_ask_only_a_few_times_from_any_address(lead_store):
    limit = throttle.CONSULT_PER_MOBILE.count
    for i in range(limit):
        assert Client(REMOTE_ADDR=f"10.0.1.{i}").post(URL, data()).status_code == 302
    assert Client(REMOTE_ADDR="10.0.2.1").post(URL, data()).status_code == 429
    assert Consultation.objects.count() == limit


@pytest.fixture
def consultation(client, lead_store):
    client.post(URL, data())
    return Consultation.objects.get()


def test_who_sees_which_consultation(client, org, consultation):
    list_url = reverse("frontdesk:consultations")
    detail = reverse("frontdesk:consultation", args=[consultation.pk])
    for who, sees in (("admin", True), ("mgr1", True), ("aa1", False), ("bb1", False)):
        user = org[who]
        user.role.grants = [*user.role.grants, "presales.view", "presales.edit"]
        user.role.save()
        client.force_login(user)
        assert ("陈女士" in client.get(list_url).content.decode()) is sees, who
        assert client.get(detail).status_code == (200 if sees else 404), who


def test_search_by_name_or_mobile(client, org, consultation):
    client.force_login(org["admin"])
    url = reverse("frontdesk:consultations")
    assert "陈女士" in client.get(url, {"q": "13912345678"}).content.decode()
    assert "陈女士" in client.get(url, {"q": "陈"}).content.decode()
    assert "陈女士" not in client.get(url, {"q": "13900000000"}).content.decode()
    assert "陈女士" not in client.get(url, {"status": "done"}).content.decode()


def test_a_manager_assigns_and_the_matchmaker_is_told_and_handles_it(client, org, consultation):
    org["mm_role"].grants = [*org["mm_role"].grants, "presales.edit"]
    org["mm_role"].save()
    client.force_login(org["mgr1"])
    assign = reverse("frontdesk:consultation_assign", args=[consultation.pk])
    client.post(assign, {"to": org["bb1"].pk})  # another team's matchmaker: refused
    consultation.refresh_from_db()
    assert consultation.assigned_to is None
    client.post(assign, {"to": org["aa1"].pk})
    consultation.refresh_from_db()
    assert consultation.assigned_to == org["aa1"]
    assert consultation.status == ConsultationStatus.IN_PROGRESS
    notice = Notice.objects.get(recipient=org["aa1"])
    assert "陈女士" in notice.text and str(consultation.pk) in notice.link
    client.force_login(org["aa1"])
    detail = reverse("frontdesk:consultation", args=[consultation.pk])
    assert "13912345678" in client.get(detail).content.decode()  # the handler may call
    client.post(detail, {"status": "done", "result": "已约到店面谈"})
    consultation.refresh_from_db()
    assert consultation.status == "done" and consultation.result == "已约到店面谈"
    client.force_login(org["mgr1"])
    assert "13912345678" not in client.get(detail).content.decode()


def test_convert_to_member_prefills_and_lands_in_the_pool(client, org, consultation, regions):
    client.force_login(org["mgr1"])
    url = reverse("frontdesk:consultation_convert", args=[consultation.pk])
    form = client.get(url).content.decode()
    assert 'value="陈女士"' in form and 'value="13912345678"' in form
    response = client.post(
        url,
        {
            "username": "chennvshi",
            "name": "陈女士",
            "mobile": "13912345678",
            "sex": c.Sex.FEMALE,
            "region_province": "440000",
            "region_city": "440100",
            "region_county": "440106",
            "marital_status": c.MaritalStatus.SINGLE,
            "education": c.Education.BACHELOR,
            "height": "162",
            "id_type": "resident_id",
            "pref-age_importance": "2",
            "pref-height_importance": "2",
            "pref-weight_importance": "2",
            "pref-children_importance": "2",
            "pref-education_importance": "2",
            "pref-income_importance": "2",
            "pref-car_importance": "2",
            "pref-house_importance": "2",
            "pref-marital_importance": "2",
            "pref-region_importance": "2",
        },
    )
    assert response.status_code == 302, (
        response.context["form"].errors,
        response.context["pref_form"].errors,
    )
    member = Member.objects.get(username="chennvshi")
    assert member.source == c.Source.CONSULTATION and member.presales_owner is None
    assert member in pool_members(viewer=org["mgr1"], pool="unsigned")
    consultation.refresh_from_db()
    assert consultation.member == member and consultation.status == "done"
    assert client.get(url).status_code == 302  # converted once only


@pytest.mark.parametrize("url", ["/consult/", "/consult/thanks/", "/join/", "/join/thanks/"])
def test_public_pages_carry_the_strict_policy_and_need_no_login(client, url, regions):
    from hongniang.workbench.tests.test_csp import EXPECTED, _policy

    response = client.get(url)
    assert response.status_code == 200
    assert _policy(response) | EXPECTED == _policy(response)
    assert 'class="navbar navbar-vertical' not in response.content.decode()  # not the workbench
