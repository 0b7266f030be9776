"""Error pages (DEBUG off): the site's look, the right status, and a way back."""

import pytest
from django.test import Client
from django.urls import reverse

from hongniang.staff.tests.factories import StaffFactory, role_with

HOME = f'href="{reverse("home:index")}"'


def _looks_like_the_site(html: str):
    assert "vendor/tabler/tabler.min.css" in html
    assert "css/workbench.css" in html
    assert HOME in html
    assert "data-history-back" in html


@pytest.fixture
def nobody(db):
    """A logged-in matchmaker without any module right."""
    return StaffFactory(username="nobody", role=role_with())


def test_404_for_staff_has_the_workbench_frame(client, nobody):
    client.force_login(nobody)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    _looks_like_the_site(html)
    assert 'class="navbar navbar-vertical' in html  # the workbench sidebar
    assert "页面不存在" in html


def test_404_for_visitors_is_a_plain_page_with_a_way_back(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    _looks_like_the_site(html)
    assert "navbar-vertical" not in html


def test_403_explains_and_leads_back(client, nobody):
    client.force_login(nobody)
    response = client.get(reverse("staff:roles"))
    assert response.status_code == 403
    html = response.content.decode()
    _looks_like_the_site(html)
    assert "没有权限" in html


def test_400_for_a_bad_host(client, db):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    _looks_like_the_site(response.content.decode())


def test_csrf_failure_page_says_what_to_do(nobody):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nobody)
    response = client.post(reverse("staff:logout"))
    assert response.status_code == 403
    html = response.content.decode()
    _looks_like_the_site(html)
    assert "请刷新页面后重试" in html
    assert 'class="navbar navbar-vertical' in html


def test_500_renders_without_request_or_database(
    client, nobody, monkeypatch, django_assert_num_queries
):
    from hongniang.home import selectors
    from hongniang.workbench import views

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "todo_list", boom)
    client.force_login(nobody)
    client.raise_request_exception = False
    response = client.get(reverse("home:index"))
    assert response.status_code == 500
    html = response.content.decode()
    _looks_like_the_site(html)
    assert "服务器出错" in html

    # The page itself needs no database (the error may be the database).
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = views.server_error(request)
    assert response.status_code == 500
    _looks_like_the_site(response.content.decode())


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_go_back_button_returns_to_the_previous_page(page, nobody):
    from hongniang.conftest import login, shot
    from hongniang.staff.tests.factories import PASSWORD

    base = page.base_url
    page.goto(f"{base}/no/such/page/")
    shot(page, "error-404-visitor")
    login(page, "nobody", PASSWORD)
    page.goto(f"{base}/no/such/page/")
    shot(page, "error-404-staff")
    page.click("button[data-history-back]")
    page.wait_for_url(f"{base}/workbench/")
    assert page.locator("h1").first.inner_text().startswith("您好")
