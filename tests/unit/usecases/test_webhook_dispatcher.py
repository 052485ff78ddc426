"""The dispatcher on in-memory fakes: which webhooks get which alerts, what each POST carries,
and how outcomes move a delivery along (the SQL store is tested in integration/)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.alerting.alerts import Alert, AlertKind
from domain.alerting.webhooks import DeliveryStatus, RetryPolicy, SendResult
from domain.billing.plans import PercentageMargin
from domain.ids import new_id
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.webhooks import NewWebhook, WebhookDispatcher, WebhookUseCases
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock

NOW = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


@dataclass
class ScriptedSender:
    """Answers each POST with the next status of its script (then 200), keeping the POSTs."""

    script: list[int] = field(default_factory=list)
    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        self.posts.append((url, body, dict(headers)))
        return SendResult(status_code=self.script.pop(0) if self.script else 200)


class World:
    def __init__(self, script: list[int] | None = None) -> None:
        self.factory = FakeUnitOfWorkFactory()
        self.clock = FrozenClock(NOW)
        self.hasher = FakeKeyHasher()
        self.sender = ScriptedSender(script or [])
        self.webhooks = WebhookUseCases(self.factory, self.clock, self.hasher, allow_private=False)
        self.dispatcher = WebhookDispatcher(
            self.factory,
            self.clock,
            self.hasher,
            self.sender,
            RetryPolicy(max_attempts=3, base_seconds=10, jitter=0),
            lease=timedelta(minutes=1),
        )

    async def client(self, name: str) -> str:
        created, _ = await ClientUseCases(self.factory, self.clock).create(
            NewClient(name, PercentageMargin(Decimal(1)))
        )
        return created.id

    async def alert(self, client_id: str, kind: AlertKind, **details: str) -> str:
        alert = Alert(new_id(), kind, client_id, None, new_id(), "m", self.clock.now(), details)
        async with self.factory() as uow:
            await uow.alerts.raise_once(alert)
            await uow.commit()
        return alert.id


async def test_alerts_go_to_the_matching_active_webhooks_once_each() -> None:
    world = World()
    a, b = await world.client("A"), await world.client("B")
    agency = await world.webhooks.create(
        NewWebhook("https://hooks.example.com/agency", None, [AlertKind.HARD_LIMIT_REFUSED])
    )
    of_a = await world.webhooks.create(NewWebhook("https://hooks.example.com/a", a))
    gone = await world.webhooks.create(NewWebhook("https://hooks.example.com/gone", None))
    await world.webhooks.disable(gone.webhook.id)
    refused_a = await world.alert(a, AlertKind.HARD_LIMIT_REFUSED)
    spike_a = await world.alert(a, AlertKind.SPEND_SPIKE)
    refused_b = await world.alert(b, AlertKind.HARD_LIMIT_REFUSED)

    assert await world.dispatcher.fan_out() == 4
    assert await world.dispatcher.fan_out() == 0  # dispatched alerts are not fanned out again
    assert await world.dispatcher.deliver_due() == 4
    sent = {(url.rsplit("/", 1)[1], h["X-Bizgraph-Event-Id"]) for url, _, h in world.sender.posts}
    assert sent == {
        ("agency", refused_a),
        ("agency", refused_b),
        ("a", refused_a),
        ("a", spike_a),
    }
    secrets = {"agency": agency.secret, "a": of_a.secret}
    for url, body, headers in world.sender.posts:
        secret = secrets[url.rsplit("/", 1)[1]].encode()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        assert headers["X-Bizgraph-Signature"] == expected
        assert json.loads(body)["id"] == headers["X-Bizgraph-Event-Id"]
    assert agency.secret != of_a.secret


async def test_failures_back_off_then_fail_after_the_last_attempt() -> None:
    world = World(script=[500, 502, 503])
    a = await world.client("A")
    hook = await world.webhooks.create(NewWebhook("https://hooks.example.com/a", a))
    await world.alert(a, AlertKind.SPEND_SPIKE)

    assert await world.dispatcher.run_once() == 1
    assert await world.dispatcher.run_once() == 0
    world.clock.advance(seconds=10)
    assert await world.dispatcher.run_once() == 1
    world.clock.advance(seconds=19)
    assert await world.dispatcher.run_once() == 0  # 20 s after the second attempt
    world.clock.advance(seconds=1)
    assert await world.dispatcher.run_once() == 1
    world.clock.advance(hours=1)
    assert await world.dispatcher.run_once() == 0
    (failed,) = await world.webhooks.deliveries([hook.webhook.id], 10)
    assert (failed.status, failed.attempts, failed.last_status_code) == (
        DeliveryStatus.FAILED,
        3,
        503,
    )


async def test_the_secret_is_derived_again_never_stored() -> None:
    world = World()
    hook = await world.webhooks.create(NewWebhook("https://hooks.example.com/a"))
    async with world.factory() as uow:
        stored = await uow.webhooks.get(hook.webhook.id)
    assert stored is not None
    assert hook.secret not in repr(stored)
    assert hook.secret[len("whsec_") :] not in {stored.secret_salt, stored.url}
    assert len(hook.secret) == len("whsec_") + 64
