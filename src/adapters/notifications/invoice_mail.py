"""Invoices by email: the domain's message (domain/delivery/messages.py) as a stdlib
`EmailMessage` (text and HTML alternatives, the PDF attached), sent through the SMTP server
alerts use (adapters/notifications/email.py)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from adapters.notifications.email import SmtpSettings, send_result
from domain.alerting.webhooks import SendResult
from domain.delivery.messages import InvoiceEmail, check_address, header_text
from domain.delivery.ports import InvoiceMailer
from domain.errors import ValidationError


def build_message(email: InvoiceEmail, sender: str) -> EmailMessage:
    """Headers from checked values only: one plain address each, a subject without control
    characters (EmailMessage refuses CR/LF in a header value as well)."""
    message = EmailMessage()
    message["Subject"] = header_text(email.subject, 300)
    message["From"] = check_address(sender)
    message["To"] = check_address(email.recipient)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    key = "".join(c for c in email.message_key if c.isalnum())[:64] or None
    message["Message-ID"] = make_msgid(idstring=key)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    name = header_text(email.attachment_name, 100).replace('"', "")
    message.add_attachment(email.attachment, maintype="application", subtype="pdf", filename=name)
    return message


class SmtpInvoiceMailer(InvoiceMailer):
    def __init__(self, settings: SmtpSettings, *, timeout_seconds: float) -> None:
        self._settings = settings
        self._timeout = timeout_seconds

    async def send(self, email: InvoiceEmail) -> SendResult:
        try:
            message = build_message(email, self._settings.sender)
        except (ValidationError, ValueError):
            return SendResult(error="not a valid recipient or sender address")
        return await send_result(self._settings, message, self._timeout)
