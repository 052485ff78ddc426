"""Settings turned into the alerting parts' parameters (used by the container)."""

from __future__ import annotations

from datetime import timedelta

from api.settings import Settings
from domain.alerting.spikes import SpikeRule
from domain.alerting.webhooks import RetryPolicy

DISPATCH_BATCH = 50  # deliveries claimed at once by one process
DISPATCH_CONCURRENCY = 10  # POSTs in flight at once per process


def retry_policy(settings: Settings) -> RetryPolicy:
    webhooks = settings.webhooks
    return RetryPolicy(
        max_attempts=webhooks.max_attempts,
        base_seconds=webhooks.retry_base_seconds,
        cap_seconds=webhooks.retry_cap_seconds,
    )


def delivery_lease(settings: Settings) -> timedelta:
    """How long a claimed delivery is its sender's: longer than a whole batch can take (every
    POST timing out), so a live sender never loses its lease to another process."""
    rounds = -(-DISPATCH_BATCH // DISPATCH_CONCURRENCY) + 2
    return timedelta(seconds=max(60.0, rounds * settings.webhooks.timeout_seconds))


def email_enabled(settings: Settings) -> bool:
    return settings.email is not None


def spike_rule(settings: Settings) -> SpikeRule:
    spikes = settings.spikes
    return SpikeRule(spikes.factor, spikes.floor, spikes.baseline_days)
