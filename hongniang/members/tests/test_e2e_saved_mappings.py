"""The saved column mappings' screen in a real browser: the upload page says what it accepts and
links to it; a mapping is renamed, then deleted after the confirmation page."""

import pytest

from hongniang.conftest import login, shot
from hongniang.members.importing import mapping as m
from hongniang.members.models import ImportMapping
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_saved_mappings_are_listed_renamed_and_deleted(page, org):
    headers = ["客户姓名", "性别", "联系电话", "出生日期", "所在省", "所在市", "所在区县"]
    keys = ["name", "sex", "mobile", "birthday", "region_province", "region_city", "region_county"]
    m.save_mapping(org["aa1"], "老系统导出", headers, keys)
    m.save_mapping(org["aa1"], "短表", headers[:3], keys[:3])
    m.save_mapping(org["aa2"], "同事的模板", headers[:3], keys[:3])
    login(page, "aa1", PASSWORD)
    page.goto(f"{page.base_url}/members/import/")
    accepts = page.get_by_test_id("import-accepts")
    assert "GBK" in accepts.inner_text() and "标题行" in accepts.inner_text()
    shot(page, "import-upload-page")
    page.get_by_role("link", name="已保存的列对应关系").first.click()
    table = page.get_by_test_id("saved-mappings")
    assert "老系统导出" in table.inner_text() and "同事的模板" in table.inner_text()
    shot(page, "saved-mappings")

    row = page.locator("tr", has_text="老系统导出")
    row.get_by_role("link", name="重命名").click()
    page.fill("#id_name", "旧CRM导出")
    page.get_by_role("button", name="保存").click()
    assert "旧CRM导出" in page.get_by_test_id("saved-mappings").inner_text()

    # A colleague's mapping is listed (and offered on the mapping screen) but not theirs to change.
    assert page.locator("tr", has_text="同事的模板").get_by_role("link", name="删除").count() == 0
    page.locator("tr", has_text="短表").get_by_role("link", name="删除").click()
    assert "短表" in page.get_by_test_id("delete-mapping").inner_text()
    shot(page, "saved-mapping-delete")
    page.get_by_test_id("delete-mapping").get_by_role("button", name="删除").click()
    page.wait_for_url(f"{page.base_url}/members/import/mappings/")
    names = sorted(ImportMapping.objects.values_list("name", flat=True))
    assert names == sorted(["旧CRM导出", "同事的模板"])
