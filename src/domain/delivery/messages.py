"""What an invoice email says: subject, a short text body and the same as HTML (every value
escaped), with the PDF attached by the adapter. Addresses are checked here, so no header can
be injected through a billing email or a name."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from domain.delivery.outbox import MailKind
from domain.errors import ValidationError
from domain.invoicing.invoices import Invoice

MAX_ADDRESS = 320
# One address, no display name, no comments or quoting: what a billing email field holds.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_address(address: str) -> str:
    """A single plain address (local@domain with a dot in the domain), or ValidationError."""
    value = address.strip()
    if len(value) > MAX_ADDRESS or not _ADDRESS.fullmatch(value) or "." not in value[1:]:
        raise ValidationError(f"not a single email address: {address!r}")
    if ".." in value.partition("@")[2]:
        raise ValidationError(f"not a single email address: {address!r}")
    return value


def header_text(value: str, limit: int = 200) -> str:
    """A value fit for a header: control characters (CR, LF among them) become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


@dataclass(frozen=True, slots=True)
class InvoiceEmail:
    recipient: str
    subject: str
    text: str
    html: str
    attachment_name: str
    attachment: bytes = field(repr=False)
    message_key: str = ""  # the outbox row's id, for the Message-ID


def compose(
    kind: MailKind,
    invoice: Invoice,
    agency: str,
    pay_link: str | None,
    days_overdue: int | None = None,
    suspend_on: str | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of the message."""
    who = header_text(agency) or "Bizgraph"
    number, total = invoice.number, f"{invoice.total.amount} {invoice.total.currency}"
    due = invoice.due_at.date().isoformat()
    if kind is MailKind.INVOICE:
        subject = f"{who}: invoice {number} ({total}, due {due})"
        lead = f"Please find attached invoice {number} for {invoice.period.label}."
    elif kind is MailKind.REMINDER:
        subject = f"{who}: reminder, invoice {number} is overdue"
        late = f"{days_overdue} days " if days_overdue is not None else ""
        lead = f"Invoice {number} for {invoice.period.label} is {late}past its due date."
    else:
        subject = f"{who}: invoice {number} is overdue, service suspension ahead"
        when = f" on {suspend_on}" if suspend_on else " soon"
        lead = (
            f"Invoice {number} for {invoice.period.label} is still unpaid. Unless it is paid, "
            f"API access will be suspended{when}."
        )
    facts = [("Invoice", number), ("Amount due", total), ("Due date", due)]
    lines = [lead, "", *(f"{name}: {value}" for name, value in facts)]
    if pay_link:
        lines += ["", f"Pay online: {pay_link}"]
    lines += ["", f"The invoice is attached as {number}.pdf.", "", who]
    text = "\n".join(lines) + "\n"
    rows = "".join(
        f"<tr><th align='left'>{html.escape(n)}</th><td>{html.escape(v)}</td></tr>"
        for n, v in facts
    )
    link = (
        f'<p><a href="{html.escape(pay_link, quote=True)}">Pay online</a></p>' if pay_link else ""
    )
    body = (
        "<!doctype html><html><body>"
        f"<p>{html.escape(lead)}</p><table>{rows}</table>{link}"
        f"<p>The invoice is attached as {html.escape(number)}.pdf.</p>"
        f"<p>{html.escape(who)}</p></body></html>"
    )
    return header_text(subject, 300), text, body
