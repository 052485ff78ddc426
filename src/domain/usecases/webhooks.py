"""Webhooks: managing them, and delivering alerts to them from the outbox.

Delivery is two steps, each its own short transaction, so the request path never waits on a
receiver: `fan_out` turns undispatched alerts into one delivery row per matching webhook and
marks the alerts dispatched (together); `deliver_due` claims due deliveries under a lease,
POSTs them outside any transaction, then records each outcome. A process that dies between
sending and recording leaves its lease to expire, and the delivery is sent again with the
same body and event id: at-least-once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from domain.access.ports import KeyHasher
from domain.alerting.alerts import AlertKind
from domain.alerting.ports import WebhookSender
from domain.alerting.visibility import client_view
from domain.alerting.webhooks import (
    EVENT_ID_HEADER,
    SECRET_PREFIX,
    SIGNATURE_HEADER,
    Delivery,
    IssuedWebhook,
    RetryPolicy,
    SendResult,
    Webhook,
    after_attempt,
    event_kinds,
    new_salt,
    payload,
    secret_material,
    signature,
    validate_url,
)
from domain.errors import NotFound
from domain.ids import new_id
from domain.ports import Clock, UnitOfWorkFactory

log = logging.getLogger("bizgraph.webhooks")


@dataclass(frozen=True, slots=True)
class NewWebhook:
    url: str
    client_id: str | None = None
    events: Sequence[AlertKind] = ()


def signing_secret(hasher: KeyHasher, webhook: Webhook) -> str:
    return SECRET_PREFIX + hasher.digest(secret_material(webhook.secret_salt))


class WebhookUseCases:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        hasher: KeyHasher,
        *,
        allow_private: bool,
        allow_email: bool = False,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._allow_private = allow_private
        self._allow_email = allow_email

    async def create(self, new: NewWebhook) -> IssuedWebhook:
        """A webhook and its signing secret, returned once (only a salt is stored)."""
        url = validate_url(
            new.url, allow_private=self._allow_private, allow_email=self._allow_email
        )
        webhook = Webhook(
            id=new_id(),
            url=url,
            client_id=new.client_id,
            events=event_kinds(new.events, for_client=new.client_id is not None),
            secret_salt=new_salt(),
            created_at=self._clock.now(),
        )
        async with self._uow() as uow:
            if new.client_id is not None and await uow.clients.get(new.client_id) is None:
                raise NotFound(f"no client {new.client_id}")
            await uow.webhooks.add(webhook)
            await uow.commit()
        return IssuedWebhook(secret=signing_secret(self._hasher, webhook), webhook=webhook)

    async def webhooks(self, client_id: str | None = None) -> list[Webhook]:
        async with self._uow() as uow:
            return await uow.webhooks.find(client_id=client_id)

    async def disable(self, webhook_id: str) -> Webhook:
        async with self._uow() as uow:
            webhook = await uow.webhooks.disable(webhook_id, self._clock.now())
            if webhook is None:
                raise NotFound(f"no webhook {webhook_id}")
            await uow.commit()
        return webhook

    async def deliveries(self, webhook_ids: Sequence[str], limit: int) -> list[Delivery]:
        async with self._uow() as uow:
            return await uow.webhooks.deliveries(webhook_ids, limit)


class WebhookDispatcher:
    """Runs in every `bizgraph serve` process; several may run at once on one database."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        hasher: KeyHasher,
        sender: WebhookSender,
        policy: RetryPolicy,
        *,
        lease: timedelta,
        reads: UnitOfWorkFactory | None = None,
        batch: int = 50,
        concurrency: int = 10,
        spread: Callable[[], float] = random.random,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._hasher = hasher
        self._sender = sender
        self._policy = policy
        self._lease = lease
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._spread = spread

    async def run_once(self) -> int:
        """Fan out, then deliver what is due; the number of attempts made."""
        await self.fan_out()
        return await self.deliver_due()

    async def fan_out(self) -> int:
        """One delivery per (undispatched alert, matching webhook), and the alerts marked
        dispatched, in one transaction. Two processes doing it at once create each delivery
        once (unique per alert and webhook)."""
        async with self._reads() as peek:  # most cycles find nothing: no write lock for that
            if not await peek.alerts.undispatched(1):
                return 0
        created = 0
        async with self._uow() as uow:
            alerts = await uow.alerts.undispatched(self._batch)
            if not alerts:
                return 0
            webhooks = await uow.webhooks.find()
            names: dict[str | None, str] = {None: ""}  # None: the agency's own alert
            now = self._clock.now()
            for alert in alerts:
                targets = [w for w in webhooks if w.wants(alert)]
                if targets and alert.client_id is not None and alert.client_id not in names:
                    client = await uow.clients.get(alert.client_id)
                    names[alert.client_id] = client.name if client else ""
                for webhook in targets:
                    # A client's webhook may be the client's own system: no provider cost.
                    shown = alert if webhook.client_id is None else client_view(alert)
                    delivery = Delivery(
                        id=new_id(),
                        alert_id=alert.id,
                        webhook_id=webhook.id,
                        payload=payload(shown, names[alert.client_id]),
                        created_at=now,
                        next_attempt_at=now,
                    )
                    created += await uow.webhooks.add_delivery(delivery)
            await uow.alerts.mark_dispatched([a.id for a in alerts], now)
            await uow.commit()
        return created

    async def deliver_due(self) -> int:
        claim = new_id()
        now = self._clock.now()
        async with self._reads() as peek:
            if not await peek.webhooks.any_due(now):
                return 0
        async with self._uow() as uow:
            claimed = await uow.webhooks.claim_due(now, now + self._lease, claim, self._batch)
            webhooks = {w.id: w for w in await uow.webhooks.find(include_disabled=True)}
            await uow.commit()
        outcomes = await asyncio.gather(
            *(self._attempt(d, webhooks[d.webhook_id], claim) for d in claimed),
            return_exceptions=True,
        )
        for delivery, outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, Exception):
                # Left claimed: the lease expires and the delivery is attempted again.
                log.error("delivery %s failed unexpectedly", delivery.id, exc_info=outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        return len(claimed)

    async def _attempt(self, delivery: Delivery, webhook: Webhook, claim: str) -> None:
        body = delivery.payload.encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: signature(signing_secret(self._hasher, webhook), body),
            EVENT_ID_HEADER: delivery.alert_id,
            "user-agent": "Bizgraph-Webhooks",
        }
        async with self._slots:
            try:
                result = await self._sender.send(webhook.url, body, headers)
            except Exception as exc:  # a sender's bug: still an attempt, recorded as failed
                log.error("delivery %s: the sender failed unexpectedly", delivery.id, exc_info=exc)
                result = SendResult(error=f"unexpected error ({type(exc).__name__})")
        outcome = after_attempt(delivery, result, self._clock.now(), self._policy, self._spread())
        async with self._uow() as uow:
            recorded = await uow.webhooks.record(outcome, claim)
            await uow.commit()
        if not recorded:
            log.warning("delivery %s: lease lost before recording; it will be resent", delivery.id)
        elif not result.delivered:
            log.info(
                "delivery %s attempt %d failed (%s): %s",
                delivery.id,
                outcome.attempts,
                result.error or result.status_code,
                outcome.status.value,
            )
