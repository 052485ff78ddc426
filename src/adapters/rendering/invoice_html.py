"""A printable HTML invoice. Every value is escaped; the logo must be an http(s) URL."""

from __future__ import annotations

from html import escape

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

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #111; }
header { display: flex; justify-content: space-between; align-items: flex-start; }
table { width: 100%; border-collapse: collapse; margin-top: 1.5rem; }
th, td { padding: .4rem .5rem; border-bottom: 1px solid #ddd; text-align: left; }
td.amount, th.amount { text-align: right; white-space: nowrap; }
.detail { color: #555; font-size: .85rem; }
.stamp { font-size: 1.5rem; font-weight: bold; color: #b00; }
img.logo { max-height: 4rem; }
@media print { body { margin: 0; } }
"""


def _logo(url: str | None) -> str:
    if not url or not url.lower().startswith(("https://", "http://")):
        return ""
    return f'<img class="logo" src="{escape(url, quote=True)}" alt="">'


def _pay(url: str | None) -> str:
    if not url or not url.lower().startswith("https://"):
        return ""
    link = escape(url, quote=True)
    return f'<p class="pay">Pay online: <a href="{link}" rel="noopener noreferrer">{link}</a></p>'


def invoice_html(document: InvoiceDocument) -> str:
    invoice, agency = document.invoice, document.agency
    cur = invoice.currency
    seller = seller_lines(document)
    address = "<br>".join(escape(line) for line in seller[1:])
    bill_to = "<br>".join(escape(line) for line in buyer_lines(invoice))
    note = tax_note(invoice)
    note_html = f'<p class="tax-note">{escape(note)}</p>' if note else ""
    payment = "<br>".join(escape(line) for line in payment_lines(document))
    payment_html = f"<h3>Payment</h3><p>{payment}</p>" if payment else ""
    rates = "".join(f"<li>{escape(text)}</li>" for text in rate_lines(invoice))
    rates_html = (
        "<h3>Exchange rates</h3><p>Usage converted at the rate in force on the day each call "
        f"started; fixed amounts at the period's first day.</p><ul>{rates}</ul>"
        if rates
        else ""
    )
    rows = "".join(
        f"<tr><td>{escape(line.description)}"
        f'<div class="detail">{escape(line_detail(line))}</div></td>'
        f'<td class="amount">{escape(money(line.amount.amount, cur))}</td></tr>'
        for line in invoice.lines
    )
    notes = "".join(
        f"<li>{escape(n.number)}: {escape(money(n.amount.amount, cur))}, {escape(n.reason)}</li>"
        for n in document.credit_notes
    )
    stamp = STATUS_NOTE[invoice.status.value]
    void = f"<p>Void: {escape(invoice.void_reason or '')}</p>" if invoice.void_reason else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Invoice {escape(invoice.number)}</title><style>{STYLE}</style></head>
<body>
<header><div>{_logo(agency.logo_url)}<h2>{escape(seller[0])}</h2><p>{address}</p></div>
<div><h1>Invoice {escape(invoice.number)}</h1>
<p>Period {escape(invoice.period.label)}<br>Issued {day(invoice, "issued")}<br>
Due {day(invoice, "due")}</p><p class="stamp">{escape(stamp)}</p></div></header>
{void}
<h3>Bill to</h3><p>{bill_to}</p>
<table><thead><tr><th>Description</th><th class="amount">Amount</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot>
<tr><td>Subtotal</td><td class="amount">{escape(money(invoice.subtotal.amount, cur))}</td></tr>
<tr><td>{escape(tax_label(invoice))}</td>
<td class="amount">{escape(money(invoice.tax.amount, cur))}</td></tr>
<tr><th>Total</th><th class="amount">{escape(money(invoice.total.amount, cur))}</th></tr>
</tfoot></table>
{note_html}
{rates_html}
{payment_html}
{f"<h3>Credit notes</h3><ul>{notes}</ul>" if notes else ""}
{_pay(document.pay_url)}
</body></html>
"""
