"""The spend-spike rule: factor over the trailing hourly average, above a floor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.alerting.spikes import SpikeRule, hour_bucket, spike_alert
from domain.billing.money import Money
from domain.errors import ValidationError

NOW = datetime(2026, 11, 30, 5, 42, 7, tzinfo=UTC)
RULE = SpikeRule(factor=Decimal(5), floor=Decimal(10), baseline_days=7)


def test_the_windows_are_the_last_hour_and_the_days_before_it() -> None:
    (start, end), (base_start, base_end) = RULE.windows(NOW)
    assert (start, end) == (NOW - timedelta(hours=1), NOW)
    assert (base_start, base_end) == (start - timedelta(days=7), start)


@pytest.mark.parametrize(
    ("last_hour", "baseline_total", "spike"),
    [
        ("50", "168", True),  # average 1/h: 50 > 5 and > floor
        ("5.000000000000000001", "168", False),  # above 5x average, but under the floor
        ("10", "0", False),  # at the floor is not above it
        ("10.01", "0", True),  # no history: any spend above the floor
        ("840", "168", True),
        ("840", "28224", False),  # average 168/h: 5x is 840, not exceeded
        ("840.000000000000000001", "28224", True),  # exact, no division
    ],
)
def test_a_spike_is_above_factor_times_the_average_and_above_the_floor(
    last_hour: str, baseline_total: str, spike: bool
) -> None:
    assert RULE.is_spike(Decimal(last_hour), Decimal(baseline_total)) is spike


def test_a_rule_refuses_nonsense_settings() -> None:
    for bad in (
        {"factor": Decimal(0)},
        {"floor": Decimal(-1)},
        {"baseline_days": 0},
    ):
        with pytest.raises(ValidationError):
            SpikeRule(**bad)  # type: ignore[arg-type]


def test_the_alert_is_deduplicated_per_client_per_utc_hour() -> None:
    def alert_at(instant: datetime) -> str:
        alert = spike_alert(
            RULE, "c1", "Acme", "charge", Money(Decimal(50)), Money(Decimal(168)), instant
        )
        return alert.dedupe_key

    assert alert_at(NOW) == alert_at(NOW.replace(minute=1)) == alert_at(NOW.replace(minute=59))
    assert alert_at(NOW) != alert_at(NOW + timedelta(hours=1))
    assert hour_bucket(NOW) == datetime(2026, 11, 30, 5, tzinfo=UTC)
    alert = spike_alert(RULE, "c1", "Acme", "charge", Money(Decimal(50)), Money(Decimal(168)), NOW)
    assert alert.details["last_hour"] == "50"
    assert alert.details["hourly_average"] == "1.000000"
    assert alert.details["basis"] == "charge"
    assert "Acme" in alert.message
