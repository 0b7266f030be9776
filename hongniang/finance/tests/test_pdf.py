"""The contract PDF: the amount in Chinese capitals (大写金额), as written on contracts, and
Chinese line breaking (no line starts with closing punctuation)."""

from decimal import Decimal
from pathlib import Path

import pytest
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st

from hongniang.finance.pdf import NO_LINE_END, NO_LINE_START, rmb_in_words, wrap


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("6800.00", "人民币陆仟捌佰元整"),
        ("19800", "人民币壹万玖仟捌佰元整"),
        ("10200.50", "人民币壹万零贰佰元伍角"),
        ("1005", "人民币壹仟零伍元整"),
        ("1010", "人民币壹仟零壹拾元整"),
        ("30500", "人民币叁万零伍佰元整"),
        ("100000", "人民币壹拾万元整"),
        ("100001", "人民币壹拾万零壹元整"),
        ("120000.07", "人民币壹拾贰万元零柒分"),
        ("1000000.10", "人民币壹佰万元壹角"),
        ("200000000", "人民币贰亿元整"),
        ("0.05", "人民币伍分"),
        ("12.34", "人民币壹拾贰元叁角肆分"),
    ],
)
def test_amounts_in_capitals(amount, words):
    assert rmb_in_words(Decimal(amount)) == words


# --- line breaking (禁则): no line of the PDF starts with closing punctuation ---

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
needs_font = pytest.mark.skipif(not FONT.exists(), reason="no Chinese font on this machine")


def _pdf():
    pdf = FPDF(format="A4")
    pdf.add_font("cjk", fname=str(FONT))
    pdf.add_page()
    pdf.set_font("cjk", size=11)
    return pdf


PDF = _pdf() if FONT.exists() else None


@needs_font
def test_a_long_value_never_starts_a_line_with_closing_punctuation():
    pdf = _pdf()
    width = pdf.get_string_width("一二三四五六七八九十")  # ten characters a line
    text = "一二三四五六七八九十：一二三四五六七八九十。一二三四五六七八（九十）、补充说明：无"
    # fpdf2 alone breaks between any two characters: here before "：".
    cell = width + 2 * pdf.c_margin
    plain = pdf.multi_cell(cell, 8, text, dry_run=True, output="LINES")
    assert plain[1].startswith("：")
    lines = wrap(pdf, text, width)
    assert "".join(lines) == text
    assert all(line and line[0] not in NO_LINE_START for line in lines), lines
    assert all(line[-1] not in NO_LINE_END for line in lines), lines
    assert all(pdf.get_string_width(line) <= width for line in lines)


@needs_font
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="红娘会员服务介绍约见合同abc1", min_size=1, max_size=6),
            st.sampled_from(["", "：", "，", "。", "、", "）", "》", "；", "！", "（", "“"]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(4, 30),
)
def test_no_line_starts_with_closing_or_ends_with_opening_punctuation(parts, chars):
    pdf = PDF
    width = pdf.get_string_width("红" * chars)
    text = "".join(word + mark for word, mark in parts)
    lines = wrap(pdf, text, width)
    assert "".join(lines) == text  # nothing lost, nothing added (no spaces in this text)
    for n, line in enumerate(lines):
        assert pdf.get_string_width(line) <= width or len(line) == 1
        if n:
            assert line[0] not in NO_LINE_START, lines
        if n < len(lines) - 1:
            assert line[-1] not in NO_LINE_END, lines


@needs_font
@pytest.mark.django_db
def test_the_contract_pdf_breaks_a_long_remark_by_the_rules(org, monkeypatch):
    from hongniang.finance import pdf as module
    from hongniang.finance.tests.helpers import draft, finance_crew
    from hongniang.members.tests.helpers import add_member
    from hongniang.siteconfig.models import SiteSettings

    crew = finance_crew(org)
    remark = "备注：" + "会员希望每月安排两次约见，" * 12 + "（以书面确认为准）。"
    contract = draft(crew["aa1"], add_member(crew["aa1"]), remark=remark)
    printed = []
    real = module.wrap
    monkeypatch.setattr(module, "wrap", lambda *a: printed.append(real(*a)) or printed[-1])
    body = module.contract_pdf(contract, viewer=crew["aa1"], site=SiteSettings.load())
    assert body.startswith(b"%PDF")
    (lines,) = [lines for lines in printed if "".join(lines) == remark]
    assert len(lines) > 3 and all(line[0] not in NO_LINE_START for line in lines[1:])
