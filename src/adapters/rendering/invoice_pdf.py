"""The invoice as a PDF with fpdf2 (core fonts: text outside Latin-1 is shown as '?')."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from adapters.rendering.text import (
    STATUS_NOTE,
    buyer_lines,
    day,
    line_detail,
    money,
    payment_lines,
    rate_lines,
    seller_lines,
    tax_label,
    tax_note,
)
from domain.invoicing.ports import InvoiceDocument

WIDTH = 180  # usable width in mm on A4 with 15 mm margins
AMOUNT = 40


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _row(pdf: FPDF, left: str, right: str, *, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 10)
    pdf.cell(WIDTH - AMOUNT, 7, _latin1(left))
    pdf.cell(AMOUNT, 7, _latin1(right), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def invoice_pdf(document: InvoiceDocument) -> bytes:
    invoice = document.invoice
    cur = invoice.currency
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(_latin1(f"Invoice {invoice.number}"))
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(WIDTH, 10, _latin1(f"Invoice {invoice.number}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    buyer = buyer_lines(invoice)
    header = [
        *seller_lines(document),
        "",
        f"Period {invoice.period.label}",
        f"Issued {day(invoice, 'issued')}, due {day(invoice, 'due')}",
        STATUS_NOTE[invoice.status.value],
        "",
        "Bill to: " + buyer[0],
        *buyer[1:],
    ]
    for text in header:
        pdf.cell(WIDTH, 5, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if invoice.void_reason:
        pdf.cell(
            WIDTH, 5, _latin1(f"Void: {invoice.void_reason}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    pdf.ln(4)
    _row(pdf, "Description", "Amount", bold=True)
    for line in invoice.lines:
        _row(pdf, line.description, money(line.amount.amount, cur))
        detail = line_detail(line)
        if detail:
            pdf.set_font("Helvetica", "", 8)
            pdf.multi_cell(WIDTH - AMOUNT, 4, _latin1(detail), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    _row(pdf, "Subtotal", money(invoice.subtotal.amount, cur))
    _row(pdf, tax_label(invoice), money(invoice.tax.amount, cur))
    _row(pdf, "Total", money(invoice.total.amount, cur), bold=True)
    legal_note = tax_note(invoice)
    if legal_note:
        pdf.ln(2)
        _row(pdf, legal_note, "", bold=True)
    rates = rate_lines(invoice)
    if rates:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(WIDTH, 5, "Exchange rates", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 9)
        for text in rates:
            pdf.cell(WIDTH, 5, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    payment = payment_lines(document)
    if payment:
        pdf.ln(2)
        pdf.set_font("Helvetica", "", 9)
        for text in payment:
            pdf.cell(WIDTH, 5, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for note in document.credit_notes:
        _row(pdf, f"Credit note {note.number}: {note.reason}", money(-note.amount.amount, cur))
    if document.pay_url and document.pay_url.lower().startswith("https://"):
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(40, 6, "Pay online:")
        pdf.set_text_color(0, 0, 200)
        url = _latin1(document.pay_url)
        pdf.multi_cell(WIDTH - 40, 6, url, link=url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
