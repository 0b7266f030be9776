"""The foundation, as people use it, in a real browser."""

import pytest

from hongniang.conftest import login, shot
from hongniang.staff.models import Role, Staff
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def logout(page):
    page.context.clear_cookies()


def test_admin_creates_role_and_matchmaker_then_visibility_holds(page, org):
    base = page.base_url
    login(page, "admin", PASSWORD)
    shot(page, "dashboard-admin")
    assert page.locator("[data-figure=members]").inner_text().strip().isdigit()

    # A new role with two module actions.
    page.goto(f"{base}/staff/roles/new/")
    page.fill("#id_name", "见习红娘")
    page.select_option("#id_data_scope", "subtree")
    page.check("input[name=grant__staff__view]")
    page.check("input[name=grant__members__view]")
    shot(page, "role-form")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{base}/staff/roles/")
    assert page.locator("td a:has-text('见习红娘')").count() == 1
    role = Role.objects.get(name="见习红娘")
    assert sorted(role.grants) == ["members.view", "staff.view"]

    # A matchmaker under manager mgr1 with that role.
    page.goto(f"{base}/staff/new/")
    page.fill("#id_username", "xinren")
    page.fill("#id_password", "Xinren-2026-pw")
    page.fill("#id_name", "新人红娘")
    page.fill("#id_mobile", "13912345678")
    page.select_option("#id_role", str(role.pk))
    page.select_option("#id_store", str(org["store_a"].pk))
    page.locator("#id_supervisor").evaluate(
        "(el, v) => el.tomselect.setValue(v)", str(org["mgr1"].pk)
    )
    shot(page, "staff-form")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{base}/staff/*/")
    newbie = Staff.objects.get(username="xinren")
    assert newbie.supervisor_id == org["mgr1"].pk
    shot(page, "staff-detail")
    logout(page)

    # The manager sees and edits the new matchmaker.
    login(page, "mgr1", PASSWORD)
    page.goto(f"{base}/staff/")
    shot(page, "staff-list-manager")
    assert page.locator("a:has-text('新人红娘')").count() == 1
    page.goto(f"{base}/staff/{newbie.pk}/edit/")
    assert page.locator("#id_username").is_disabled()
    page.fill("#id_motto", "用心牵线")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{base}/staff/{newbie.pk}/")
    newbie.refresh_from_db()
    assert newbie.motto == "用心牵线"
    logout(page)

    # The peer manager neither sees them nor reaches their page.
    login(page, "mgr2", PASSWORD)
    page.goto(f"{base}/staff/")
    assert page.locator("a:has-text('新人红娘')").count() == 0
    response = page.goto(f"{base}/staff/{newbie.pk}/")
    assert response.status == 404
    logout(page)

    # The matchmaker cannot open role management, and the menu does not offer it.
    login(page, "xinren", "Xinren-2026-pw")
    assert page.locator("a.dropdown-item:has-text('角色管理')").count() == 0
    response = page.goto(f"{base}/staff/roles/")
    assert response.status == 403
