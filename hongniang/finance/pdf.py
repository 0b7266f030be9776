"""A contract as a PDF, generated here (fpdf2) with a Chinese font found on the machine: no
network, no browser. The agency's header comes from the site settings."""

import re
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from hongniang.finance.models import Contract
from hongniang.members.presenter import present


class FontMissing(Exception):
    pass


def _font() -> Path:
    for candidate in settings.CONTRACT_PDF_FONTS:
        path = Path(candidate)
        if path.exists():
            return path
    raise FontMissing


DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
GROUP_UNITS = ("", "万", "亿", "万亿")


def _group_words(n: int) -> str:
    """A group of four digits (0 < n < 10000) in capitals, zeros inside read once."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        digit = n // 10**pos % 10
        if digit:
            if zero and out:
                out += "零"
            out += DIGITS[digit] + SMALL_UNITS[pos]
            zero = False
        else:
            zero = True
    return out


def rmb_in_words(amount: Decimal) -> str:
    """An amount of yuan as written on Chinese contracts and receipts (大写金额), e.g.
    6800.00 → 人民币陆仟捌佰元整, 10200.50 → 人民币壹万零贰佰元伍角."""
    cents = int((amount * 100).to_integral_value())
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    words, groups, pos = "", [], 0
    while yuan:
        groups.append((yuan % 10000, pos))
        yuan //= 10000
        pos += 1
    gap = False
    for n, pos in reversed(groups):
        if n:
            if words and (gap or n < 1000):
                words += "零"
            words += _group_words(n) + GROUP_UNITS[pos]
            gap = False
        else:
            gap = True
    if words:
        words += "元"
    if not jiao and not fen:
        return f"人民币{words or '零元'}整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += DIGITS[fen] + "分"
    return f"人民币{words}"


# Chinese line-breaking rules (禁则): closing punctuation never starts a line, opening
# punctuation never ends one. fpdf2 breaks CJK text between any two characters, so the PDF's
# lines are broken here and handed to it whole.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉〗”’…·%‰,.;:?!)]}")
NO_LINE_END = frozenset("（《「『【〔〈〖“‘([{¥￥")
_TOKEN = re.compile(r"[!-~¥]+|\s|.", re.S)  # a run of ASCII stays whole (words, amounts)


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """The lines `text` takes in the current font within `width` (mm), broken by the rules
    above; a run of ASCII wider than the line is cut where it must."""
    lines = []
    for paragraph in str(text).split("\n"):
        line = ""
        for token in _TOKEN.findall(paragraph):
            pieces = [token] if pdf.get_string_width(token) <= width else list(token)
            for piece in pieces:
                if not line or pdf.get_string_width(line + piece) <= width:
                    line += piece
                    continue
                carry = piece.lstrip()
                # Take characters down from the line until the break is allowed (the line keeps
                # at least one).
                while len(line) > 1 and (
                    (carry and carry[0] in NO_LINE_START) or line[-1] in NO_LINE_END
                ):
                    line, carry = line[:-1], line[-1] + carry
                lines.append(line.rstrip())
                line = carry
        lines.append(line.rstrip())
    return lines


def contract_pdf(contract: Contract, *, viewer, site) -> bytes:
    font = _font()
    member = present(viewer, contract.member)
    pdf = FPDF(format="A4")
    pdf.add_font("cjk", fname=str(font))
    pdf.alias_nb_pages()

    def footer():
        pdf.set_y(-14)
        pdf.set_font("cjk", size=8)
        pdf.set_text_color(110)
        pdf.cell(
            0,
            6,
            _("Contract %(number)s · page %(page)s of %(pages)s")
            % {"number": contract.number, "page": pdf.page_no(), "pages": "{nb}"},
            align="C",
        )
        pdf.set_text_color(0)

    pdf.footer = footer
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, site.crm_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    contact = "  ".join(
        part
        for part in (
            site.address,
            _("Hotline %(n)s") % {"n": site.hotline} if site.hotline else "",
            site.email,
        )
        if part
    )
    if contact:
        pdf.cell(0, 6, contact, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 12, _("Matchmaking service contract"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        7,
        _("Contract number: %(number)s") % {"number": contract.number},
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)

    def row(label, value):
        # The label's cell as tall as the value's lines, so that the table stays closed.
        pdf.set_font("cjk", size=11)
        width = pdf.w - pdf.l_margin - pdf.r_margin - 40
        lines = wrap(pdf, value, width - 2 * pdf.c_margin)
        height = 8 * max(len(lines), 1)
        if pdf.will_page_break(height):
            pdf.add_page()
        pdf.cell(40, height, str(label), border=1)
        pdf.multi_cell(width, 8, "\n".join(lines), border=1, new_x="LMARGIN", new_y="NEXT")

    row(_("Member"), member.label)
    row(_("Store"), contract.store.name)
    row(_("Signing matchmaker"), contract.signed_by.name)
    row(
        _("Service plans"),
        "、".join(p.name for p in contract.plans.all()),
    )
    row(
        _("Promised per month"),
        _("%(i)s introductions · %(d)s dates")
        % {"i": contract.introductions_per_month, "d": contract.dates_per_month},
    )
    row(
        _("Service period"),
        f"{contract.service_start:%Y-%m-%d} ~ {contract.service_end:%Y-%m-%d}",
    )
    row(_("Agreed amount"), f"¥{contract.amount:,}（{rmb_in_words(contract.amount)}）")
    row(_("Payment type"), contract.get_payment_type_display())
    parts = list(contract.instalments.all())
    if parts:
        row(_("Instalments"), "；".join(f"{p.due_on:%Y-%m-%d} ¥{p.amount:,}" for p in parts))
    row(_("Received"), f"¥{contract.paid_total:,}")
    if contract.approved_at:
        row(_("In effect since"), f"{timezone.localtime(contract.approved_at):%Y-%m-%d}")
    if contract.remark:
        row(_("Remark"), contract.remark)
    described = [p for p in contract.plans.all() if p.description]
    if described:
        pdf.ln(4)
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 8, _("What the plans include"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        full = pdf.w - pdf.l_margin - pdf.r_margin
        for plan in described:
            lines = wrap(pdf, f"{plan.name}：{plan.description}", full - 2 * pdf.c_margin)
            pdf.multi_cell(full, 6, "\n".join(lines), new_x="LMARGIN", new_y="NEXT")
    # Signatures stay together: a new page rather than a block cut in two.
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(14)
    pdf.set_font("cjk", size=11)
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    for left, right in (
        (_("Member (signature):"), _("Agency (seal):")),
        (_("Date:"), _("Date:")),
    ):
        y = pdf.get_y()
        for n, label in enumerate((left, right)):
            x = pdf.l_margin + n * half
            pdf.set_xy(x, y)
            pdf.cell(half, 8, label)
            start = x + pdf.get_string_width(label) + 2
            pdf.line(start, y + 7, x + half - 8, y + 7)  # a line to sign on
        pdf.ln(16)
    return bytes(pdf.output())
