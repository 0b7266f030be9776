import io
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from hongniang.workbench.xlsx import SheetWriter


def written(rows, header=("姓名", "生日", "身高")):
    out = io.BytesIO()
    with SheetWriter(out, "会员", widths=[12, 12, 8]) as sheet:
        sheet.header(list(header))
        for row in rows:
            sheet.row(row)
    return load_workbook(io.BytesIO(out.getvalue()))


def test_a_sheet_reads_back_with_its_types_and_never_a_formula():
    wb = written([["=HYPERLINK(1)", date(1990, 5, 3), 175], ["李四", None, Decimal("1.5")]])
    ws = wb["会员"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "生日", "身高")
    assert rows[1][0] == "=HYPERLINK(1)" and ws["A2"].data_type == "s"
    assert rows[1][1].date() == date(1990, 5, 3) and ws["B2"].number_format == "yyyy-mm-dd"
    assert rows[1][2] == 175
    assert rows[2] == ("李四", None, 1.5)
    assert ws.freeze_panes == "A2"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_any_text_survives_except_what_xml_cannot_hold(texts):
    ws = written([texts], header=[f"c{i}" for i in range(len(texts))]).active
    got = next(ws.iter_rows(min_row=2, values_only=True)) if ws.max_row > 1 else ()
    illegal = {chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF]}
    expected = [
        "".join(ch for ch in t if ch not in illegal and not 0xD800 <= ord(ch) <= 0xDFFF)
        for t in texts
    ]
    assert [g or "" for g in got] + [""] * (len(texts) - len(got)) == expected
