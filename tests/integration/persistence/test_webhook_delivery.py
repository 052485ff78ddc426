"""Delivery end to end on SQLite and PostgreSQL, against a real receiver over HTTP: signed,
retried with backoff until the receiver accepts, the same event id and body on every attempt,
resent after a crash between sending and recording, given up after the last attempt, and
never sent twice by two concurrent dispatchers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from adapters.notifications.email import ChannelSender, SmtpEmailSender, SmtpSettings
from adapters.notifications.webhooks import HttpxWebhookSender
from adapters.persistence.database import create_engine
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.alerting.alerts import AlertKind
from domain.alerting.ports import WebhookSender
from domain.alerting.webhooks import Delivery, DeliveryStatus, RetryPolicy, SendResult
from domain.ids import new_id
from domain.usecases.webhooks import NewWebhook, WebhookDispatcher, WebhookUseCases
from tests.fakes import FakeKeyHasher, FrozenClock
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0
from tests.integration.persistence.test_alerts import alert
from tests.support.servers import (
    SmtpCatcher,
    WebhookReceiver,
    serve_in_thread,
    serve_smtp_in_thread,
)

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
POLICY = RetryPolicy(max_attempts=4, base_seconds=10, cap_seconds=60, jitter=0.25)
LEASE = timedelta(minutes=1)


@dataclass
class Rig:
    uow: UowFactory
    clock: FrozenClock
    hasher: FakeKeyHasher
    sender: HttpxWebhookSender
    webhooks: WebhookUseCases

    def dispatcher(self, sender: WebhookSender | None = None, batch: int = 50) -> WebhookDispatcher:
        return WebhookDispatcher(
            self.uow,
            self.clock,
            self.hasher,
            sender or self.sender,
            POLICY,
            lease=LEASE,
            batch=batch,
            spread=lambda: 0.5,
        )

    async def client(self, name: str = "Acme") -> str:
        client = builders.client(name=name)
        async with self.uow() as tx:
            await tx.clients.add(client)
            await tx.commit()
        return client.id

    async def raise_alert(self, client_id: str, kind: AlertKind = AlertKind.SPEND_SPIKE) -> str:
        raised = alert(client_id, new_id(), kind=kind, created_at=self.clock.now())
        async with self.uow() as tx:
            assert await tx.alerts.raise_once(raised)
            await tx.commit()
        return raised.id

    async def deliveries(self, webhook_id: str) -> list[Delivery]:
        async with self.uow() as tx:
            return list(await tx.webhooks.deliveries([webhook_id], 100))


@pytest.fixture
async def rig(uow: UowFactory) -> AsyncIterator[Rig]:
    clock = FrozenClock(T0)
    hasher = FakeKeyHasher()
    sender = HttpxWebhookSender(timeout_seconds=2, allow_private=True)
    yield Rig(uow, clock, hasher, sender, WebhookUseCases(uow, clock, hasher, allow_private=True))
    await sender.aclose()


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver(fail_first=2)
    with serve_in_thread(hook.app) as url:
        yield hook, url + "/hook"


def verify(secret: str, body: bytes, header: str) -> bool:
    """What docs/webhooks.md tells receivers to do."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


async def test_retries_with_backoff_until_delivered_same_event_and_valid_signature(
    rig: Rig, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    client_id = await rig.client("Acme")
    issued = await rig.webhooks.create(NewWebhook(url, client_id, [AlertKind.SPEND_SPIKE]))
    alert_id = await rig.raise_alert(client_id)
    await rig.raise_alert(client_id, AlertKind.BUDGET_THRESHOLD)  # not a kind it wants
    dispatcher = rig.dispatcher()

    assert await dispatcher.run_once() == 1  # attempt 1: 503
    assert await dispatcher.run_once() == 0  # not due yet: backoff
    (pending,) = await rig.deliveries(issued.webhook.id)
    assert pending.status is DeliveryStatus.PENDING
    assert pending.last_status_code == 503
    assert pending.next_attempt_at == T0 + timedelta(seconds=11.25)

    rig.clock.advance(seconds=12)
    assert await dispatcher.run_once() == 1  # attempt 2: 503
    rig.clock.advance(seconds=23)  # 20 s x 1.125
    assert await dispatcher.run_once() == 1  # attempt 3: 200
    rig.clock.advance(hours=1)
    assert await dispatcher.run_once() == 0  # delivered: never again

    (done,) = await rig.deliveries(issued.webhook.id)
    assert done.status is DeliveryStatus.DELIVERED
    assert (done.attempts, done.last_status_code) == (3, 200)
    got = hook.requests()
    assert [r.answered for r in got] == [503, 503, 200]
    assert {r.event_id for r in got} == {alert_id}
    assert len({r.body for r in got}) == 1
    assert all(verify(issued.secret, r.body, r.signature) for r in got)
    assert not verify(issued.secret + "x", got[0].body, got[0].signature)
    body = json.loads(got[0].body)
    assert body["id"] == alert_id
    assert body["type"] == "spend_spike"
    assert body["client"] == {"id": client_id, "name": "Acme"}
    assert body["data"]["details"]["threshold"] == "80"


async def test_a_crash_between_sending_and_recording_resends_the_same_event(
    rig: Rig, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    hook.fail_first = 0
    client_id = await rig.client()
    await rig.webhooks.create(NewWebhook(url, None))
    alert_id = await rig.raise_alert(client_id)

    class CrashAfterSending:
        async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
            await rig.sender.send(url, body, headers)
            raise RuntimeError("the process died here")

    assert await rig.dispatcher(CrashAfterSending()).run_once() == 1  # logged, not recorded
    assert len(hook.delivered()) == 1
    dispatcher = rig.dispatcher()
    assert await dispatcher.run_once() == 0  # the dead process's lease still holds
    rig.clock.advance(LEASE)
    assert await dispatcher.run_once() == 1
    got = hook.delivered()
    assert [r.event_id for r in got] == [alert_id, alert_id]  # at-least-once: dedupe by id
    assert got[0].body == got[1].body


async def test_after_the_last_attempt_a_delivery_fails_and_stays_failed(
    rig: Rig, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    hook.fail_first = 100
    client_id = await rig.client()
    issued = await rig.webhooks.create(NewWebhook(url, client_id))
    await rig.raise_alert(client_id)
    dispatcher = rig.dispatcher()
    for _ in range(POLICY.max_attempts + 2):
        await dispatcher.run_once()
        rig.clock.advance(minutes=5)
    (failed,) = await rig.deliveries(issued.webhook.id)
    assert failed.status is DeliveryStatus.FAILED
    assert failed.attempts == POLICY.max_attempts
    assert len(hook.requests()) == POLICY.max_attempts


async def test_an_unreachable_receiver_is_an_error_and_a_retry(rig: Rig) -> None:
    client_id = await rig.client()
    issued = await rig.webhooks.create(NewWebhook("http://127.0.0.1:9/nothing", client_id))
    await rig.raise_alert(client_id)
    assert await rig.dispatcher().run_once() == 1
    (pending,) = await rig.deliveries(issued.webhook.id)
    assert pending.status is DeliveryStatus.PENDING
    assert pending.last_status_code is None
    assert "could not reach" in pending.last_error


async def test_two_dispatchers_at_once_send_each_alert_once(
    database_url: str, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    hook.fail_first = 0
    engines = [create_engine(database_url) for _ in range(2)]
    senders = [HttpxWebhookSender(timeout_seconds=5, allow_private=True) for _ in range(2)]
    try:
        clock, hasher = FrozenClock(T0), FakeKeyHasher()
        rigs = [
            Rig(
                unit_of_work_factory(e),
                clock,
                hasher,
                s,
                WebhookUseCases(unit_of_work_factory(e), clock, hasher, allow_private=True),
            )
            for e, s in zip(engines, senders, strict=True)
        ]
        client_id = await rigs[0].client()
        await rigs[0].webhooks.create(NewWebhook(url, client_id))
        alert_ids = {await rigs[0].raise_alert(client_id) for _ in range(25)}
        dispatchers = [r.dispatcher(batch=4) for r in rigs for _ in range(2)]
        for _ in range(8):
            await asyncio.gather(*(d.run_once() for d in dispatchers))
        got = hook.requests()
        assert sorted(r.event_id for r in got) == sorted(alert_ids)  # each exactly once
        assert all(r.answered == 200 for r in got)
    finally:
        for sender in senders:
            await sender.aclose()
        for engine in engines:
            await engine.dispose()


async def test_a_client_webhook_never_gets_figures_measured_in_provider_cost(
    rig: Rig, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    hook.fail_first = 0
    client_id = await rig.client()
    await rig.webhooks.create(NewWebhook(url + "?agency", None))
    await rig.webhooks.create(NewWebhook(url + "?client", client_id))
    raised = alert(
        client_id,
        new_id(),
        kind=AlertKind.SPEND_SPIKE,
        details={"basis": "cost", "last_hour": "25"},
        message="spent 25",
    )
    async with rig.uow() as tx:
        await tx.alerts.raise_once(raised)
        await tx.commit()
    assert await rig.dispatcher().run_once() == 2
    bodies = sorted((json.loads(r.body)["data"] for r in hook.delivered()), key=len)
    details = [b["details"] for b in bodies]
    assert {"basis": "cost", "last_hour": "25"} in details  # the agency's webhook
    assert {} in details  # the client's webhook
    assert sum("25" in b["message"] for b in bodies) == 1


async def test_a_mailto_webhook_is_emailed_with_the_same_retries_and_status(rig: Rig) -> None:
    catcher = SmtpCatcher(fail_first=1)
    with serve_smtp_in_thread(catcher) as port:
        smtp = SmtpSettings("127.0.0.1", port, sender="alerts@agency.test", starttls=False)
        channels = ChannelSender(rig.sender, SmtpEmailSender(smtp, timeout_seconds=5))
        webhooks = WebhookUseCases(
            rig.uow, rig.clock, rig.hasher, allow_private=False, allow_email=True
        )
        client_id = await rig.client("Mailed")
        issued = await webhooks.create(NewWebhook("mailto:ops@agency.test", client_id))
        alert_id = await rig.raise_alert(client_id)
        dispatcher = rig.dispatcher(channels)

        assert await dispatcher.run_once() == 1  # 451: try again later
        (pending,) = await rig.deliveries(issued.webhook.id)
        assert (pending.status, pending.last_status_code) == (DeliveryStatus.PENDING, 451)
        rig.clock.advance(minutes=1)
        assert await dispatcher.run_once() == 1
    (done,) = await rig.deliveries(issued.webhook.id)
    assert (done.status, done.attempts, done.last_status_code) == (DeliveryStatus.DELIVERED, 2, 250)
    (raw,) = catcher.received()
    assert f"event id: {alert_id}".encode() in raw


class Exploding(WebhookSender):
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        raise RuntimeError("a bug in a sender")


async def test_a_delivery_that_cannot_be_made_records_why_without_a_traceback(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A webhook stored before URLs were made canonical (octal 127.0.0.1 here) fails each
    attempt with its reason in lastError, and the log holds no traceback for it."""
    client_id = await rig.client()
    issued = await rig.webhooks.create(NewWebhook("https://hooks.example.com/x", client_id))
    legacy = replace(issued.webhook, id=new_id(), url="http://0177.0.0.1/x")
    async with rig.uow() as tx:
        await tx.webhooks.add(legacy)
        await tx.commit()
    checked = HttpxWebhookSender(timeout_seconds=1, allow_private=False)
    await rig.raise_alert(client_id)

    with caplog.at_level(logging.INFO, logger="bizgraph.webhooks"):
        await rig.dispatcher(checked).run_once()
    await checked.aclose()

    (attempted,) = await rig.deliveries(legacy.id)
    assert attempted.attempts == 1
    assert attempted.status is DeliveryStatus.PENDING
    assert attempted.last_error is not None
    assert "invalid URL" in attempted.last_error
    assert not [r for r in caplog.records if r.exc_info]
    assert "Traceback" not in caplog.text


async def test_a_sender_that_raises_still_records_a_failed_attempt(rig: Rig) -> None:
    client_id = await rig.client()
    issued = await rig.webhooks.create(NewWebhook("https://hooks.example.com/x", client_id))
    await rig.raise_alert(client_id)

    assert await rig.dispatcher(Exploding()).run_once() == 1

    (attempted,) = await rig.deliveries(issued.webhook.id)
    assert attempted.attempts == 1
    assert attempted.last_error == "unexpected error (RuntimeError)"
