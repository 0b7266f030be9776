"""The import of a file as an agency has it, in a real browser: a GBK CSV with two title rows and
the agency's own headers is uploaded, its columns matched, previewed and imported; the rejected
rows are downloaded, one is fixed and imported."""

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from hongniang.conftest import login, shot
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.regions import load_regions
from hongniang.members.tests.test_import_export import resident_id
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADERS = ["客户姓名", "性别", "联系电话", "身份证号", "出生日期", "所在省", "所在市", "所在区县"]
HEADERS += ["身高", "体重", "婚姻状况", "学历", "月收入", "客户来源", "家庭住址"]


def member_row(n, born, *, sex="女", **over):
    cells = {
        "客户姓名": f"会员{n}",
        "性别": sex,
        "联系电话": f"1391234{n:04d}",
        "身份证号": resident_id(born, female=sex == "女", seq=n),
        "出生日期": born.strftime("%Y%m%d"),
        "所在省": "广东省",
        "所在市": "深圳市",
        "所在区县": "南山区",
        "身高": "165cm",
        "体重": "100斤",
        "婚姻状况": "未婚",
        "学历": "大学本科",
        "月收入": "1万-2万元",
        "客户来源": "转介绍",
        "家庭住址": "广东省深圳市南山区科技园路1号",
    }
    cells.update(over)
    return [cells[h] for h in HEADERS]


def gbk_csv(rows) -> bytes:
    lines = ["阳光婚介会员名单", "导出时间：2026-11-20,,,操作员：王红"]
    lines += [",".join(HEADERS)] + [",".join(r) for r in rows]
    return "\r\n".join(lines).encode("gbk")


def test_agency_csv_is_mapped_previewed_imported_and_a_fixed_row_imported_again(
    page, org, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_regions()
    rows = [
        member_row(1, date(1990, 5, 3)),
        member_row(2, date(1988, 11, 12), sex="男", 出生日期="1988年11月12日", 婚姻状况="离异带孩"),
        member_row(
            3,
            date(1992, 2, 29),
            所在省="北京市",
            所在市="北京市",
            所在区县="东城区",
            家庭住址="北京市东城区东直门南大街5号",
        ),
        member_row(4, date(1991, 7, 1), 学历="学前班"),  # rejected: education is required
        member_row(5, date(1993, 3, 8), 月收入="面议"),  # warned: an optional cell
    ]
    path = tmp_path / "会员名单.csv"
    path.write_bytes(gbk_csv(rows))
    base = page.base_url
    login(page, "aa1", PASSWORD)

    # Upload → the mapping screen, with a guess for every column and sample values.
    page.goto(f"{base}/members/import/")
    page.set_input_files("#id_file", str(path))
    page.click("button[type=submit]:has-text('上传')")
    page.wait_for_selector("#import-mapping")
    assert "第 3 行" in page.locator("[data-testid=mapping-where]").inner_text()
    assert page.locator("#id_col_2").input_value() == "mobile"
    assert page.locator("#id_col_7").input_value() == "region_county"
    assert page.locator("#id_col_13").input_value() == ""  # 客户来源: nothing to map to
    assert page.locator("#id_col_14").input_value() == "address_full"
    assert "13912340001" in page.locator("#import-mapping").inner_text()
    assert "1万-2万元" in page.locator("#import-mapping").inner_text()
    # The clerk keeps the guesses, names the source column "about" and saves the mapping.
    page.select_option("#id_col_13", "about")
    page.fill("#id_save_as", "阳光导出")
    shot(page, "import-mapping")
    page.click("[data-testid=mapping-continue]")

    # Preview: four new (one with a warning), one rejected.
    page.wait_for_selector("#import-counts")
    assert page.locator("[data-testid=count-new]").inner_text() == "4"
    assert page.locator("[data-testid=count-rejected]").inner_text() == "1"
    assert page.locator("[data-testid=count-warned]").inner_text() == "1"
    assert "学前班" in page.locator("#import-rejected").inner_text()
    shot(page, "import-mapping-preview")

    page.click("button:has-text('导入 4')")
    page.wait_for_selector("[data-testid=import-summary]")
    assert page.locator("[data-testid=count-created]").inner_text() == "4"
    divorced = Member.objects.get(name="会员2")
    assert divorced.marital_status == c.MaritalStatus.DIVORCED
    assert divorced.children == c.ChildrenStatus.LIVES_WITH_ME
    assert divorced.birthday == date(1988, 11, 12)
    assert Member.objects.get(name="会员3").region == "110101"
    first = Member.objects.get(name="会员1")
    assert (first.region, first.height, first.weight) == ("440305", 165, 50)
    assert first.monthly_income == c.MonthlyIncome.FROM_10K_TO_20K
    assert first.about == "转介绍"
    assert first.address == "科技园路1号"  # the region came from its own columns

    # The rows to fix: the original cells and a column of reasons.
    with page.expect_download() as info:
        page.click("[data-testid=rows-to-fix]")
    assert info.value.suggested_filename.endswith(".xlsx")
    with open(info.value.path(), "rb") as f:
        wb = load_workbook(io.BytesIO(f.read()), read_only=True)
    fix = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    assert fix[0][: len(HEADERS)] == HEADERS
    by_name = {r[0]: r for r in fix[1:]}
    assert set(by_name) == {"会员4", "会员5"}
    assert "学前班" in by_name["会员4"][-1]

    # The clerk fixes the rejected row and uploads it alone.
    fixed = Workbook()
    ws = fixed.active
    ws.append(fix[0])
    row = list(by_name["会员4"])
    row[HEADERS.index("学历")] = "本科"
    ws.append(row)
    buffer = io.BytesIO()
    fixed.save(buffer)
    again = tmp_path / "会员名单-改.xlsx"
    again.write_bytes(buffer.getvalue())
    page.goto(f"{base}/members/import/")
    page.set_input_files("#id_file", str(again))
    page.click("button[type=submit]:has-text('上传')")
    page.wait_for_selector("#import-mapping")
    page.click("[data-testid=mapping-continue]")
    page.wait_for_selector("#import-counts")
    assert page.locator("[data-testid=count-new]").inner_text() == "1"
    assert page.locator("[data-testid=count-rejected]").inner_text() == "0"
    page.click("button:has-text('导入 1')")
    page.wait_for_selector("[data-testid=import-summary]")
    assert page.locator("[data-testid=count-created]").inner_text() == "1"
    fourth = Member.objects.get(name="会员4")
    assert fourth.education == c.Education.BACHELOR
    assert Member.objects.count() == 5
