"""The import in a real browser: upload, preview, update registered members with the security
password, the result page and its rows to fix."""

import pytest

from hongniang.conftest import login, shot
from hongniang.members.models import Member
from hongniang.members.regions import load_regions
from hongniang.members.tests.test_import_export import add_member, good_row, xlsx
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_clerk_previews_updates_with_security_password_and_downloads_rows_to_fix(
    page, org, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_regions()
    own = add_member(org["aa1"], "旧名字", "13912340001")
    file = xlsx(
        [good_row(1, name="新名字"), good_row(2), good_row(3, region="火星"), good_row(4, qq="0")]
    )
    path = tmp_path / "会员.xlsx"
    path.write_bytes(file.read())
    base = page.base_url
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/members/import/")
    page.set_input_files("#id_file", str(path))
    page.click("button[type=submit]:has-text('上传')")
    page.wait_for_selector("#import-counts")
    assert page.locator("[data-testid=count-new]").inner_text() == "2"
    assert page.locator("[data-testid=count-existing]").inner_text() == "1"
    assert page.locator("[data-testid=count-rejected]").inner_text() == "1"
    assert page.locator("[data-testid=count-warned]").inner_text() == "1"
    assert "火星" in page.locator("#import-rejected").inner_text()
    shot(page, "import-preview")

    page.click("button:has-text('并更新')")
    page.fill("#security-password-input", "Secure-999")
    page.click("#security-password-modal button[type=submit]")
    page.wait_for_selector("[data-testid=import-summary]")
    shot(page, "import-result")
    assert page.locator("[data-testid=count-created]").inner_text() == "2"
    assert page.locator("[data-testid=count-updated]").inner_text() == "1"
    own.refresh_from_db()
    assert own.name == "新名字"
    assert Member.objects.count() == 3
    with page.expect_download() as info:
        page.click("[data-testid=rows-to-fix]")
    assert info.value.suggested_filename.endswith(".xlsx")
