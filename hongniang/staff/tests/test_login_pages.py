"""The login and lock-out pages name the agency, its hotline, and how long a lock lasts."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.tests.factories import PASSWORD


@pytest.fixture
def agency(db):
    site = SiteSettings.load()
    site.crm_name = "喜鹊婚恋中心"
    site.hotline = "400-800-1234"
    site.save()
    return site


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


@pytest.mark.django_db
def test_login_page_names_the_agency_and_its_hotline(client, agency):
    html = client.get(reverse("staff:login")).content.decode()
    assert title(html) == "登录 · 喜鹊婚恋中心"
    assert "400-800-1234" in html
    assert html.count("喜鹊婚恋中心") >= 2  # the title and the page heading


@pytest.mark.django_db
def test_lockout_page_says_until_when_and_for_how_long(org, agency, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=20)
    anonymous = Client()
    for _ in range(3):
        anonymous.post(reverse("staff:login"), {"username": "aa1", "password": "bad"})
    response = anonymous.post(reverse("staff:login"), {"username": "aa1", "password": PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "20 分钟" in html
    assert re.search(r"\d{2}:\d{2}", html)  # the time the lock ends
    assert "喜鹊婚恋中心" in title(html)
    assert "400-800-1234" in html
