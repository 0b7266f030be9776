"""A contract as a PDF, generated here (fpdf2) with a Chinese font found on the machine: no
network, no browser. The agency's header comes from the site settings."""

from pathlib import Path

from django.conf import settings
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


def contract_pdf(contract: Contract, *, viewer, site) -> bytes:
    font = _font()
    member = present(viewer, contract.member)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("cjk", fname=str(font))
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
        0, 7, f"{_('Contract number')}: {contract.number}", align="R", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(2)

    def row(label, value):
        pdf.set_font("cjk", size=11)
        pdf.cell(40, 8, str(label), border=1)
        pdf.multi_cell(0, 8, str(value), border=1, new_x="LMARGIN", new_y="NEXT")

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
    row(_("Agreed amount"), f"¥{contract.amount}")
    row(_("Payment type"), contract.get_payment_type_display())
    parts = list(contract.instalments.all())
    if parts:
        row(_("Instalments"), "；".join(f"{p.due_on:%Y-%m-%d} ¥{p.amount}" for p in parts))
    row(_("Received"), f"¥{contract.paid_total}")
    if contract.remark:
        row(_("Remark"), contract.remark)
    pdf.ln(14)
    pdf.set_font("cjk", size=11)
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.cell(half, 8, _("Member (signature):"))
    pdf.cell(half, 8, _("Agency (seal):"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.cell(half, 8, _("Date:"))
    pdf.cell(half, 8, _("Date:"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
