"""Alerts by email: the webhook body rendered as a plain-text message and sent through SMTP
(stdlib smtplib, in a worker thread, with a timeout). A webhook whose URL is `mailto:` uses
this channel, with the same outbox, retries and delivery status as HTTP webhooks."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from adapters.notifications.webhooks import HttpxWebhookSender
from domain.alerting.ports import WebhookSender
from domain.alerting.webhooks import EVENT_ID_HEADER, SendResult

SUBJECTS = {
    "budget_threshold": "budget threshold crossed",
    "hard_limit_refused": "a call was refused by the hard budget",
    "spend_spike": "spending spike",
    "invoice_overdue": "an invoice is overdue",
    "suspension_warning": "suspension ahead for an overdue invoice",
    "client_suspended": "suspended for an overdue invoice",
}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = "bizgraph@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True  # upgrade a plain connection (port 587)
    tls: bool = False  # TLS from the first byte (port 465)


def render(body: bytes, event_id: str, sender: str, recipient: str) -> EmailMessage:
    """A plain-text email of a webhook body (whose fields docs/webhooks.md describes)."""
    event: dict[str, Any] = json.loads(body)
    client = event.get("client") or {}
    data = event.get("data") or {}
    kind = str(event.get("type", "alert"))
    message = EmailMessage()
    message["Subject"] = f"[Bizgraph] {client.get('name', '')}: {SUBJECTS.get(kind, kind)}"
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = make_msgid(idstring=event_id.replace("-", ""))
    message[EVENT_ID_HEADER] = event_id
    lines = [str(data.get("message", "")), ""]
    lines += [f"{name}: {value}" for name, value in sorted((data.get("details") or {}).items())]
    lines += ["", f"client: {client.get('name', '')} ({client.get('id', '')})"]
    lines += [f"raised at: {event.get('created_at', '')}", f"event id: {event_id}"]
    message.set_content("\n".join(lines) + "\n")
    return message


class SmtpEmailSender(WebhookSender):
    def __init__(self, settings: SmtpSettings, *, timeout_seconds: float) -> None:
        self._settings = settings
        self._timeout = timeout_seconds

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        recipient = url.removeprefix("mailto:")
        event_id = headers.get(EVENT_ID_HEADER, "")
        try:
            message = render(body, event_id, self._settings.sender, recipient)
        except ValueError:
            return SendResult(error="not an alert body")
        return await send_result(self._settings, message, self._timeout)


def send_blocking(s: SmtpSettings, message: EmailMessage, timeout: float) -> int:
    """Blocking: one connection per message (alerts and invoices are rare)."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if s.tls:
        smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(s.host, s.port, timeout=timeout)
    with smtp:
        if s.starttls and not s.tls:
            smtp.starttls(context=context)
        if s.username:
            smtp.login(s.username, s.password or "")
        smtp.send_message(message)
    return 250  # send_message raises unless the server accepted the message


async def send_result(s: SmtpSettings, message: EmailMessage, seconds: float) -> SendResult:
    """Send in a worker thread; failures as a SendResult whose error names no secret."""
    try:
        code = await asyncio.to_thread(send_blocking, s, message, seconds)
    except smtplib.SMTPResponseException as exc:
        return SendResult(status_code=exc.smtp_code, error="the SMTP server refused it")
    except smtplib.SMTPRecipientsRefused:
        return SendResult(status_code=550, error="the SMTP server refused the recipient")
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(error=f"{type(exc).__name__}: could not reach the SMTP server")
    return SendResult(status_code=code)


class ChannelSender(WebhookSender):
    """HTTP(S) URLs to the webhook sender, `mailto:` to the email sender (when configured)."""

    def __init__(self, http: HttpxWebhookSender, email: WebhookSender | None) -> None:
        self._http = http
        self._email = email

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        if url.startswith("mailto:"):
            if self._email is None:
                return SendResult(error="email delivery is not configured (BIZGRAPH_SMTP_HOST)")
            return await self._email.send(url, body, headers)
        return await self._http.send(url, body, headers)

    async def aclose(self) -> None:
        await self._http.aclose()
