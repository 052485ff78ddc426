"""The spend-spike rule: the last hour's spend far above the client's recent hourly average.

Pure: the evaluator (domain.usecases.spikes) reads the figures and raises the alert; this
decides. Spend is what the client is charged, or provider cost for a fixed-price client
(whose usage charge is zero), as budgets measure it (product.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from domain.alerting.alerts import Alert, AlertKind
from domain.billing.money import Money
from domain.errors import ValidationError
from domain.ids import new_id

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SpikeRule:
    """A spike: last hour > factor x trailing hourly average, and last hour > floor (in the
    client's currency, so a quiet client's first few cents are not a spike)."""

    factor: Decimal = Decimal(5)
    floor: Decimal = Decimal(10)
    baseline_days: int = 7

    def __post_init__(self) -> None:
        if self.factor <= 0 or self.floor < 0 or self.baseline_days < 1:
            raise ValidationError("a spike rule needs factor > 0, floor >= 0, baseline days >= 1")

    @property
    def baseline_hours(self) -> int:
        return self.baseline_days * 24

    def windows(self, now: datetime) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
        """(last hour, the baseline before it), each half-open [start, end)."""
        last_start = now - HOUR
        return (last_start, now), (last_start - timedelta(days=self.baseline_days), last_start)

    def hourly_average(self, baseline_total: Decimal) -> Decimal:
        return baseline_total / self.baseline_hours

    def is_spike(self, last_hour: Decimal, baseline_total: Decimal) -> bool:
        # Compared without dividing (exact): last_hour > factor x total / hours.
        above_average = last_hour * self.baseline_hours > self.factor * baseline_total
        return last_hour > self.floor and above_average


def hour_bucket(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def spike_alert(
    rule: SpikeRule,
    client_id: str,
    client_name: str,
    basis: str,
    last_hour: Money,
    baseline_total: Money,
    now: datetime,
) -> Alert:
    """The alert for a spike, deduplicated per client per UTC hour bucket."""
    average = rule.hourly_average(baseline_total.amount).quantize(
        Decimal("0.000001"), rounding=ROUND_HALF_EVEN
    )
    bucket = hour_bucket(now)
    return Alert(
        id=new_id(),
        kind=AlertKind.SPEND_SPIKE,
        client_id=client_id,
        key_id=None,
        dedupe_key=f"{AlertKind.SPEND_SPIKE.value}:{client_id}:{bucket.isoformat()}",
        message=(
            f"{client_name} spent {last_hour.amount} {last_hour.currency} in the last hour, "
            f"above {rule.factor}x its hourly average of the previous {rule.baseline_days} days"
        ),
        created_at=now,
        details={
            "basis": basis,
            "currency": last_hour.currency,
            "last_hour": str(last_hour.amount),
            "hourly_average": str(average),
            "factor": str(rule.factor),
            "floor": str(rule.floor),
            "baseline_days": str(rule.baseline_days),
            "hour": bucket.isoformat(),
        },
    )
