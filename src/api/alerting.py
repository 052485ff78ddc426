"""Background loops of `bizgraph serve` for alerts: webhook delivery and the spike rule.

They run beside the request path and never block it: each cycle opens its own short units of
work, and a receiver's slowness only delays that receiver's deliveries."""

from __future__ import annotations

import asyncio
import logging

from api.container import Container
from api.settings import Settings

log = logging.getLogger("bizgraph.alerting")


async def deliver_webhooks(container: Container, settings: Settings) -> None:
    """Fan undispatched alerts out and POST due deliveries, every poll interval."""
    dispatcher = container.webhook_dispatcher()
    while True:
        try:
            await dispatcher.run_once()
        except Exception:
            log.exception("webhook delivery cycle failed; will retry")
        await asyncio.sleep(settings.webhooks.poll_seconds)


async def evaluate_spikes(container: Container, settings: Settings) -> None:
    """Raise spend-spike alerts, every spike interval."""
    evaluator = container.spike_evaluator()
    while True:
        try:
            if raised := await evaluator.evaluate():
                log.info("raised %d spend-spike alerts", raised)
        except Exception:
            log.exception("spike evaluation failed; will retry")
        await asyncio.sleep(settings.spikes.interval_seconds)


def start(container: Container, settings: Settings) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(deliver_webhooks(container, settings)),
        asyncio.create_task(evaluate_spikes(container, settings)),
    ]
