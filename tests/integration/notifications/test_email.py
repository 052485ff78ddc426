"""Alert emails through SMTP: the body rendered as text with the event id, a temporary refusal
is a failed attempt (retried by the dispatcher), an unreachable server an error."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.message import Message

from adapters.notifications.email import ChannelSender, SmtpEmailSender, SmtpSettings
from adapters.notifications.webhooks import HttpxWebhookSender
from domain.alerting.webhooks import EVENT_ID_HEADER
from tests.support.servers import SmtpCatcher, serve_smtp_in_thread

BODY = json.dumps(
    {
        "id": "evt-1",
        "type": "spend_spike",
        "created_at": "2026-11-30T05:00:00+00:00",
        "client": {"id": "c1", "name": "Acme"},
        "key_id": None,
        "data": {"message": "Acme spent 42 USD in the last hour", "details": {"last_hour": "42"}},
    }
).encode()


def sender(port: int) -> SmtpEmailSender:
    settings = SmtpSettings("127.0.0.1", port, sender="alerts@agency.test", starttls=False)
    return SmtpEmailSender(settings, timeout_seconds=5)


async def test_an_alert_email_carries_the_message_figures_and_event_id() -> None:
    catcher = SmtpCatcher()
    with serve_smtp_in_thread(catcher) as port:
        result = await sender(port).send("mailto:ops@agency.test", BODY, {EVENT_ID_HEADER: "evt-1"})
    assert result.delivered
    (raw,) = catcher.received()
    email: Message = message_from_bytes(raw)
    assert email["To"] == "ops@agency.test"
    assert email["From"] == "alerts@agency.test"
    assert email["Subject"] == "[Bizgraph] Acme: spending spike"
    assert email[EVENT_ID_HEADER] == "evt-1"
    text = email.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Acme spent 42 USD in the last hour" in text
    assert "last_hour: 42" in text
    assert "event id: evt-1" in text


async def test_a_temporary_refusal_is_a_failed_attempt_with_its_code() -> None:
    catcher = SmtpCatcher(fail_first=1)
    with serve_smtp_in_thread(catcher) as port:
        first = await sender(port).send("mailto:ops@agency.test", BODY, {EVENT_ID_HEADER: "e"})
        second = await sender(port).send("mailto:ops@agency.test", BODY, {EVENT_ID_HEADER: "e"})
    assert (first.delivered, first.status_code) == (False, 451)
    assert second.delivered
    assert len(catcher.received()) == 1


async def test_an_unreachable_server_is_an_error_and_mailto_needs_smtp() -> None:
    result = await sender(9).send("mailto:ops@agency.test", BODY, {})
    assert not result.delivered
    assert result.error is not None
    assert "could not reach the SMTP server" in result.error
    http = HttpxWebhookSender(timeout_seconds=1, allow_private=True)
    without_email = ChannelSender(http, None)
    refused = await without_email.send("mailto:ops@agency.test", BODY, {})
    await without_email.aclose()
    assert refused.error is not None
    assert "BIZGRAPH_SMTP_HOST" in refused.error
