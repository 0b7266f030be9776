"""Reading uploaded member files: formats, encodings, header rows below titles, sheets, the
template's example row, limits."""

# Excel cells hold naive date-times; so do these tests.
# ruff: noqa: DTZ001

import types
from datetime import date, datetime

import pytest
import xlwt
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from hongniang.members import excel
from hongniang.members.importing import sources
from hongniang.members.importing.sources import detect_encoding, open_source

TITLE_ROWS = [["阳光婚恋会员名单"], ["导出时间：2026-11-01", None, "共2人"]]
HEADERS = ["姓名", "性别", "联系电话", "生日", "所在省", "所在市", "所在区县", "学历"]
ROWS = [
    ["张三", "男", "13800001111", "19900503", "广东省", "深圳市", "南山区", "大学本科"],
    ["李四", "女", "13800002222", "1990.5.3", "北京市", "北京市", "东城区", "研究生"],
]


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    text = "\r\n".join(delimiter.join("" if v is None else str(v) for v in row) for row in rows)
    return (text + "\r\n").encode(encoding)


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def xlsx_file(tmp_path, sheets: dict, name="members.xlsx"):
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-8", "utf-8"),
        ("utf-16", "utf-16"),
    ],
)
def test_csv_in_every_encoding_with_title_rows_above_the_header(tmp_path, encoding, expected):
    path = write(tmp_path, "会员.csv", csv_bytes(TITLE_ROWS + [HEADERS] + ROWS, encoding))
    source = open_source(path)
    assert source.encoding == expected
    assert source.header_row == 3
    assert source.headers == HEADERS
    assert list(source.iter_rows()) == [(4, ROWS[0]), (5, ROWS[1])]
    assert source.sheet_names == [] and source.file_name == "会员.csv"


def test_big5_text_is_not_taken_for_gbk():
    traditional = (
        "姓名,性別,聯絡電話,學歷\n張三,男,13800001111,大學本科\n王小明,男,13800003333,碩士\n"
    )
    assert detect_encoding(traditional.encode("big5")) == "big5"


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_csv_delimiter_is_detected(tmp_path, delimiter):
    rows = [["姓名", "手机", "自我介绍"], ["张三", "13800001111", "喜欢旅行 读书"]]
    source = open_source(write(tmp_path, "m.csv", csv_bytes(rows, delimiter=delimiter)))
    assert source.delimiter == delimiter
    assert list(source.iter_rows()) == [(2, rows[1])]


def test_quoted_csv_cells_keep_commas_line_breaks_and_formula_like_text(tmp_path):
    content = (
        '姓名,手机,自我介绍\n"张,三",13800001111,"第一行\n第二行"\n=1+2,+8613800001111,@SUM(A1)\n'
    )
    source = open_source(write(tmp_path, "m.csv", content.encode("gbk")))
    rows = [values for _n, values in source.iter_rows()]
    assert rows == [
        ["张,三", "13800001111", "第一行\n第二行"],
        ["=1+2", "+8613800001111", "@SUM(A1)"],
    ]


def test_xlsx_with_title_rows_blank_rows_and_typed_cells(tmp_path):
    path = xlsx_file(
        tmp_path,
        {
            "会员": [
                *TITLE_ROWS,
                [],
                ["姓名", "手机", "出生日期", "身高"],
                ["张三", 13800001111, date(1990, 5, 3), 175],
                [],
                ["李四", "13800002222", datetime(1991, 2, 3, 0, 0), "1.65米"],
            ]
        },
    )
    source = open_source(path)
    assert (source.sheet_name, source.header_row) == ("会员", 4)
    assert source.headers == ["姓名", "手机", "出生日期", "身高"]
    rows = list(source.iter_rows())
    assert [n for n, _v in rows] == [5, 7]  # sheet row numbers; the blank row is skipped
    assert rows[0][1] == ["张三", 13800001111, date(1990, 5, 3), 175]
    assert rows[1][1][2] in (date(1991, 2, 3), datetime(1991, 2, 3))  # calamine: a date


def test_the_first_sheet_with_member_rows_is_read_and_another_can_be_chosen(tmp_path):
    path = xlsx_file(
        tmp_path,
        {
            "说明": [["本表由某某系统导出"], ["请勿修改表头"]],
            "会员": [HEADERS, ROWS[0]],
            "已签约": [HEADERS, ROWS[1], ROWS[0]],
        },
    )
    source = open_source(path)
    assert source.sheet_names == ["说明", "会员", "已签约"]
    assert source.sheet_name == "会员"
    assert [v[0] for _n, v in source.iter_rows()] == ["张三"]

    other = open_source(path, sheet="已签约")
    assert other.sheet_name == "已签约"
    assert [v[0] for _n, v in other.iter_rows()] == ["李四", "张三"]

    with pytest.raises(ValidationError) as exc:
        open_source(path, sheet="不存在")
    assert "不存在" in exc.value.messages[0]


def test_old_xls_workbook(tmp_path):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("会员资料")
    ws.write(0, 0, "会员信息表")
    for col, header in enumerate(HEADERS):
        ws.write(1, col, header)
    for col, value in enumerate(ROWS[0]):
        if col == 3:
            ws.write(2, col, date(1990, 5, 3), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
        else:
            ws.write(2, col, value)
    path = tmp_path / "old.xls"
    wb.save(str(path))
    source = open_source(path)
    assert (source.header_row, source.headers) == (2, HEADERS)
    ((number, values),) = source.iter_rows()
    assert number == 3 and values[0] == "张三" and values[3] == date(1990, 5, 3)


def test_an_xls_that_is_really_tab_separated_text_is_read_as_text(tmp_path):
    path = write(tmp_path, "export.xls", csv_bytes([HEADERS, ROWS[0]], "gbk", "\t"))
    source = open_source(path)
    assert source.encoding == "gb18030" and source.delimiter == "\t"
    assert [v for _n, v in source.iter_rows()] == [ROWS[0]]


@pytest.mark.django_db
def test_the_templates_example_row_is_recognised_and_never_read(tmp_path):
    path = write(tmp_path, "template.xlsx", excel.template_workbook())
    source = open_source(path)
    assert source.sheet_name == str(excel._sheet_title_rows())
    assert source.header_row == 1 and source.example_row_numbers == [2]
    assert list(source.iter_rows()) == []


def test_header_row_found_by_synonyms_not_by_position(tmp_path):
    # A wide title row of notes must not win over the real headers.
    rows = [
        ["说明：", "带*为必填", "手机号请填11位", "日期格式任意"],
        ["*姓名", "手机号", "出生年月日", "婚姻状况"],
    ]
    rows.append(["张三", "13800001111", "1990-05-03", "未婚"])
    source = open_source(write(tmp_path, "m.csv", csv_bytes(rows)))
    assert source.header_row == 2


def test_unknown_headers_fall_back_to_the_first_wide_row(tmp_path):
    rows = [["名单"], ["列一", "列二", "列三"], ["张三", "13800001111", "未婚"]]
    source = open_source(write(tmp_path, "m.csv", csv_bytes(rows)))
    assert source.header_row == 2 and source.headers == ["列一", "列二", "列三"]


def test_rows_are_streamed(tmp_path):
    source = open_source(write(tmp_path, "m.csv", csv_bytes([HEADERS, *ROWS])))
    assert isinstance(source.iter_rows(), types.GeneratorType)
    assert source.sample_rows(1) == [ROWS[0]]


def test_short_and_long_rows_are_aligned_with_the_headers(tmp_path):
    rows = [["姓名", "手机", "学历"], ["张三"], ["李四", "13800002222", "本科", "多余", "列"]]
    source = open_source(write(tmp_path, "m.csv", csv_bytes(rows)))
    assert [v for _n, v in source.iter_rows()] == [
        ["张三", None, None],
        ["李四", "13800002222", "本科"],
    ]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("members.pdf", b"%PDF-1.4", "file_type"),
        ("members.xlsx", b"PK\x03\x04 this is not a real zip", "unreadable"),
        ("members.xls", b"\xd0\xcf\x11\xe0 broken", "unreadable"),
        ("members.csv", b"", "empty"),
        ("members.csv", "姓名,手机\n".encode(), "empty"),
        ("members.csv", b"\x00\x01\x02\x03binary\x00", "unreadable"),
    ],
)
def test_files_that_cannot_be_imported_are_refused_with_a_reason(tmp_path, name, content, code):
    with pytest.raises(ValidationError) as exc:
        open_source(write(tmp_path, name, content))
    assert exc.value.code == code
    assert exc.value.messages[0]


def test_limits_are_generous_and_clear(tmp_path, monkeypatch):
    assert sources.MAX_FILE_MB >= 100 and sources.MAX_ROWS >= 100_000
    path = write(tmp_path, "m.csv", csv_bytes([HEADERS, *ROWS * 30]))
    monkeypatch.setattr(sources, "MAX_ROWS", 10)
    with pytest.raises(ValidationError) as exc:
        open_source(path)
    assert exc.value.code == "too_many_rows" and "10" in exc.value.messages[0]
    xlsx = xlsx_file(tmp_path, {"会员": [HEADERS, *ROWS * 30]})
    with pytest.raises(ValidationError) as exc:
        open_source(xlsx)
    assert exc.value.code == "too_many_rows"
    monkeypatch.setattr(sources, "MAX_FILE_MB", 0)
    with pytest.raises(ValidationError) as exc:
        sources.check_upload("m.csv", 10)
    assert exc.value.code == "too_large"
