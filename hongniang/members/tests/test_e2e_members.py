"""Members as staff use them, in a real browser."""

import pytest

from hongniang.conftest import login, shot
from hongniang.members.models import Member
from hongniang.members.regions import load_regions
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_matchmaker_adds_member_manager_finds_by_mobile_and_reallocates(page, org):
    load_regions()
    base = page.base_url
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/members/new/")
    page.fill("#id_username", "xiaoli")
    page.fill("#id_name", "小丽")
    page.fill("#id_mobile", "13712345678")
    page.locator("#id_mobile").blur()
    page.wait_for_selector("#mobile-check .text-success")
    page.select_option("#id_sex", "F")
    page.fill("#id_birthday", "1994-06-15")
    # The location cascade loads cities and counties with htmx.
    page.select_option("select[name=region_province]", "440000")
    page.wait_for_selector("select[name=region_city] option[value='440100']", state="attached")
    page.select_option("select[name=region_city]", "440100")
    page.wait_for_selector("select[name=region_county] option[value='440106']", state="attached")
    page.select_option("select[name=region_county]", "440106")
    page.fill("#id_height", "163")
    page.select_option("#id_marital_status", "single")
    page.select_option("#id_education", "60")
    page.check("input[name=hobbies][value=travel]")
    page.fill("#id_pref-age_min", "28")
    page.fill("#id_pref-age_max", "36")
    shot(page, "member-form")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{base}/members/*/")
    member = Member.objects.get(username="xiaoli")
    assert member.presales_owner_id == org["aa1"].pk and member.region == "440106"
    assert member.mobile_masked == "137****5678"
    shot(page, "member-detail")
    assert page.locator("text=137****5678").count() >= 1
    page.context.clear_cookies()

    # The manager finds the member by the full mobile number and reallocates to aa2.
    login(page, "mgr1", PASSWORD)
    page.goto(f"{base}/members/reallocate/?group=not_followed&mobile=13712345678")
    shot(page, "reallocate")
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "小丽" in rows.first.inner_text()
    page.check(f"input[name=members][value='{member.pk}']")
    page.select_option("#id_to", str(org["aa2"].pk))
    page.fill("input[name=remark]", "客户希望换红娘")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('分配所选')")
    page.wait_for_selector(".alert-success")
    member.refresh_from_db()
    assert member.presales_owner_id == org["aa2"].pk
    page.goto(f"{base}/members/{member.pk}/")
    assert page.locator("td:has-text('客户希望换红娘')").count() == 1
    page.context.clear_cookies()

    # The peer manager cannot find or open the member.
    login(page, "mgr2", PASSWORD)
    page.goto(f"{base}/members/?mobile=13712345678")
    assert page.locator("tbody tr").count() == 0
    assert page.goto(f"{base}/members/{member.pk}/").status == 404
