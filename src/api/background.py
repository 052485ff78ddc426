"""The background loops of `bizgraph serve`: the lease heartbeat, the configuration revision
check, journal recovery, webhook delivery, the spike rule, closing ended periods, invoice
emails and dunning, and the daily reconciliation against the providers' own reports. Each cycle
runs at start and then every interval, opens its own short units of work and never touches the
request path; a failing cycle is logged and tried again next time. Every process runs them: the
database makes each one safe to run twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine

from api.container import Container
from api.container.observability import sample_metrics
from api.container.terms import longest_call
from api.settings import Settings
from domain.telemetry import NO_TELEMETRY, Telemetry

log = logging.getLogger("bizgraph.background")

CLOSE_INTERVAL_SECONDS = 300
METRICS_SAMPLE_SECONDS = 5.0

Cycle = Callable[[], Awaitable[None]]


async def every(
    seconds: float, name: str, cycle: Cycle, telemetry: Telemetry = NO_TELEMETRY
) -> None:
    loop = name.replace(" ", "_")  # the metrics label: bizgraph_background_last_success_...
    while True:
        try:
            await cycle()
        except Exception:
            log.exception("%s failed; will retry", name)
        else:
            telemetry.loop_succeeded(loop)
        await asyncio.sleep(seconds)


async def register(container: Container, settings: Settings) -> asyncio.Task[None]:
    """Take this process's lease before it serves a call (its journal rows name it), and keep
    it renewed until `unregister`: past the other loops, through the drain of the relays at
    shutdown, or their calls would look orphaned to the other processes."""
    await container.process_leases().renew()
    telemetry = container.telemetry()
    return asyncio.create_task(
        every(settings.heartbeat_seconds, "lease heartbeat", _heartbeat(container), telemetry)
    )


async def unregister(container: Container, heartbeat: asyncio.Task[None]) -> None:
    """Clean shutdown, after the relays settled: stop renewing and drop the lease, so whatever
    is still open is settled by another process at once."""
    await stop([heartbeat])
    try:
        await container.process_leases().release()
    except Exception:  # the lease then simply expires
        log.exception("could not release this process's lease")


def start(container: Container, settings: Settings) -> list[asyncio.Task[None]]:
    t = container.telemetry()
    loops: list[Coroutine[object, object, None]] = [
        every(settings.heartbeat_seconds, "journal recovery", _recovery(container, settings), t),
        every(settings.webhooks.poll_seconds, "webhook delivery", _delivery(container), t),
        every(settings.spikes.interval_seconds, "spike evaluation", _spikes(container), t),
        every(settings.budget_lease_idle_seconds / 2, "budget leases", _idle_leases(container), t),
        every(settings.wallet_check_seconds, "prepaid wallets", _wallets(container), t),
    ]
    if settings.invoices.auto_close:
        loops.append(every(CLOSE_INTERVAL_SECONDS, "closing periods", _closing(container), t))
    if settings.email is not None:  # invoices by email: the outbox (docs/delivery.md)
        poll = settings.webhooks.poll_seconds
        loops.append(every(poll, "invoice email", _invoice_mail(container), t))
    interval = settings.delivery.dunning_interval_seconds
    loops.append(every(interval, "dunning", _dunning(container), t))
    if settings.reconcile.enabled and container.reconciliation().configured:
        interval = settings.reconcile.interval_seconds
        loops.append(every(interval, "reconciliation", _reconciliation(container), t))
    if settings.metrics.enabled:
        loops.append(every(METRICS_SAMPLE_SECONDS, "metrics sample", _sample(container)))
    if settings.config_check_seconds:  # else every call reads the revision itself
        loops.append(container.config_revision().run(settings.config_check_seconds))
    return [asyncio.create_task(loop) for loop in loops]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _sample(container: Container) -> Cycle:
    async def cycle() -> None:
        await sample_metrics(container)

    return cycle


def _heartbeat(container: Container) -> Cycle:
    leases = container.process_leases()

    async def cycle() -> None:
        await leases.renew()

    return cycle


def _recovery(container: Container, settings: Settings) -> Cycle:
    """Settle the calls of processes whose lease expired (and, as a safety net, any call older
    than the longest possible one), releasing their holds; forget long-expired leases."""
    metering, leases, clock = container.metering(), container.process_leases(), container.clock()

    async def cycle() -> None:
        now = clock.now()
        if recovered := await metering.recover(now - longest_call(settings), live_at=now):
            log.warning("settled %d calls left open by a process that died", recovered)
        await leases.purge()

    return cycle


def _idle_leases(container: Container) -> Cycle:
    """Give back the free part of budget leases this process has not used for a moment."""
    metering = container.metering()

    async def cycle() -> None:
        await metering.return_idle_leases()

    return cycle


def _delivery(container: Container) -> Cycle:
    """Fan undispatched alerts out to webhooks and POST the due deliveries."""
    dispatcher = container.webhook_dispatcher()

    async def cycle() -> None:
        await dispatcher.run_once()

    return cycle


def _wallets(container: Container) -> Cycle:
    """Prepaid wallets: fixed amounts drawn, low balances alerted, auto top-ups."""
    keeper = container.wallet_keeper()

    async def cycle() -> None:
        await keeper.tend()

    return cycle


def _spikes(container: Container) -> Cycle:
    evaluator = container.spike_evaluator()

    async def cycle() -> None:
        if raised := await evaluator.evaluate():
            log.info("raised %d spend-spike alerts", raised)

    return cycle


def _closing(container: Container) -> Cycle:
    """Close each period that ended more than the grace time ago; the database lets exactly
    one invoice per client through."""
    invoicing = container.invoicing()

    async def cycle() -> None:
        for result in await invoicing.close_due():
            log.info("closed %s: %d invoices", result.period.label, len(result.created))

    return cycle


def _invoice_mail(container: Container) -> Cycle:
    """Send the due invoice emails of the outbox (retries with backoff)."""
    mailing = container.invoice_mail()

    async def cycle() -> None:
        await mailing.deliver_due()

    return cycle


def _dunning(container: Container) -> Cycle:
    """Overdue invoices: alerts, reminders, warnings and suspensions, each once."""
    dunning = container.dunning()

    async def cycle() -> None:
        report = await dunning.run()
        if report.alerts or report.reminders or report.suspended:
            log.info(
                "dunning: %d overdue, %d alerts, %d emails queued, %d clients suspended",
                report.overdue,
                report.alerts,
                report.reminders,
                len(report.suspended),
            )

    return cycle


def _reconciliation(container: Container) -> Cycle:
    """Once a day is over (UTC), fetch the providers' reports of the days not yet reconciled
    (and the last few again: reports settle late), compare, alert on drift, move the mark."""
    reconciliation = container.reconciliation()

    async def cycle() -> None:
        if (run := await reconciliation.daily()) is not None:
            table = run.table
            log.info(
                "reconciled %s from %s to %s: %d rows, %d alerts",
                ", ".join(run.fetched),
                table.start,
                table.end,
                len(table.rows),
                run.alerts_raised,
            )

    return cycle
