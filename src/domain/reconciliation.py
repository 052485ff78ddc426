"""Reconciliation: what Bizgraph recorded against what a provider says it billed.

Per UTC day (providers bucket their reports by UTC day), provider and model: requests, tokens by
class and cost on both sides, the absolute drift (reported minus recorded) and the relative one
(of the recorded cost), and the calls a provider saw that never went through Bizgraph (a model
with spend reported and nothing recorded: the agency's key used elsewhere).

A provider names a model by its dated snapshot ("gpt-4o-mini-2024-07-18") when Bizgraph sent
the alias ("gpt-4o-mini"): a reported name is matched to the recorded upstream name it equals,
or to the longest recorded upstream name it extends with a date suffix (see `same_model`).

A figure a report does not carry is None (Anthropic reports no request counts, a cost report no
tokens): it is shown as unknown, never as zero, and never counts as drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from domain.alerting.alerts import Alert, AlertKind
from domain.billing.money import EXACT, exact_sum
from domain.errors import ValidationError
from domain.ids import new_id
from domain.metering.tokens import TokenUsage
from domain.timeutil import require_aware

HUNDRED = Decimal(100)
# A date suffix a provider appends to an alias: -2024-07-18, -20241022, -0125, -001.
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|\d{3})$")
MAX_DAYS = 366  # one reconciliation covers at most a year


class ReportOrigin(StrEnum):
    API = "api"  # the provider's usage and cost reporting API
    BILLING_CSV = "billing_csv"  # a Cloud Billing CSV export (Gemini)
    INVOICE_CSV = "invoice_csv"  # an invoice typed into Bizgraph's own CSV columns


@dataclass(frozen=True, slots=True)
class ProviderFigures:
    """One row of a provider's report: a day (or an hour of it), a model, optionally one of its
    API keys or projects. Usage rows carry tokens and cost rows carry a cost: a figure the row
    does not report is None."""

    day: date
    provider: str
    model: str
    currency: str = "USD"
    requests: int | None = None
    tokens: TokenUsage | None = None
    cost: Decimal | None = None
    api_key_id: str | None = None
    project_id: str | None = None
    hour: datetime | None = None  # an hourly row (for crash-estimated calls); None: the day

    def __post_init__(self) -> None:
        if not self.provider:
            raise ValidationError("a provider report row needs its provider")
        if self.requests is not None and self.requests < 0:
            raise ValidationError("requests must not be negative")
        if self.cost is not None and not self.cost.is_finite():
            raise ValidationError(f"not a finite cost: {self.cost}")
        if self.hour is not None:
            require_aware(self.hour, "hour")


@dataclass(frozen=True, slots=True)
class RecordedFigures:
    """Bizgraph's usage records of one UTC hour, provider and upstream model, summed."""

    hour: datetime
    provider: str
    model: str  # the upstream name Bizgraph sent
    requests: int
    tokens: TokenUsage
    cost: Decimal
    currency: str = "USD"
    estimated_requests: int = 0  # of them, settled on an estimate (a crashed process, a cut stream)
    estimated_tokens: TokenUsage = field(default_factory=TokenUsage)
    estimated_cost: Decimal = Decimal(0)
    settled_requests: int = 0  # estimated calls settled since: counted at their actual figures

    def __post_init__(self) -> None:
        require_aware(self.hour, "hour")

    @property
    def day(self) -> date:
        return self.hour.date()

    def settled(
        self, estimate: TokenUsage, estimate_cost: Decimal, actual: TokenUsage, cost_delta: Decimal
    ) -> RecordedFigures:
        """These figures with one of their estimated calls settled: counted at its actual
        tokens and cost from now on, and no longer an estimate (docs/reconciliation.md)."""
        return replace(
            self,
            tokens=_swap(self.tokens, estimate, actual),
            cost=exact_sum(self.cost, cost_delta),
            estimated_requests=self.estimated_requests - 1,
            estimated_tokens=_swap(self.estimated_tokens, estimate, TokenUsage()),
            estimated_cost=exact_sum(self.estimated_cost, -estimate_cost),
            settled_requests=self.settled_requests + 1,
        )


def _swap(total: TokenUsage, out: TokenUsage, into: TokenUsage) -> TokenUsage:
    """`total` with `out` (a part of it) replaced by `into`, class by class."""
    names = (
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    )
    return TokenUsage(**{n: getattr(total, n) - getattr(out, n) + getattr(into, n) for n in names})


@dataclass(frozen=True, slots=True)
class Figures:
    """One side of a comparison; None: that side does not report this figure."""

    requests: int | None
    tokens: TokenUsage | None
    cost: Decimal | None


NOTHING = Figures(requests=0, tokens=TokenUsage(), cost=Decimal(0))


@dataclass(frozen=True, slots=True)
class EstimatedHour:
    """An hour with crash-estimated calls: Bizgraph's estimate and everything it recorded that
    hour, beside the provider's own figure for the hour (None: not fetched or not reported)."""

    hour: datetime
    estimated_requests: int
    estimated_cost: Decimal
    recorded: Figures
    reported: Figures | None


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    day: date
    provider: str
    model: str
    currency: str
    recorded: Figures
    reported: Figures
    # The provider's rows behind `reported`, per API key or project where it reports them.
    breakdown: tuple[ProviderFigures, ...] = ()
    estimated: tuple[EstimatedHour, ...] = ()
    settled_requests: int = 0  # estimated calls settled: in `recorded` at their actual figures

    @property
    def cost_drift(self) -> Decimal | None:
        """Reported minus recorded cost: positive when the provider billed more."""
        if self.reported.cost is None or self.recorded.cost is None:
            return None
        return EXACT.subtract(self.reported.cost, self.recorded.cost)

    @property
    def relative_drift(self) -> Decimal | None:
        """The drift as a percent of the recorded cost, to 2 decimals (half-even); None when
        Bizgraph recorded no cost (any reported cost is then all drift: see `unrecorded`)."""
        drift = self.cost_drift
        if drift is None or self.recorded.cost is None or self.recorded.cost == 0:
            return None
        percent = EXACT.divide(EXACT.multiply(drift, HUNDRED), self.recorded.cost)
        return percent.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)

    @property
    def requests_drift(self) -> int | None:
        if self.reported.requests is None or self.recorded.requests is None:
            return None
        return self.reported.requests - self.recorded.requests

    @property
    def unrecorded(self) -> bool:
        """The provider saw calls or spend for this model that day and Bizgraph recorded none:
        spend made with the agency's key outside Bizgraph."""
        if self.recorded.requests:
            return False
        return bool(
            self.reported.requests
            or (self.reported.tokens is not None and self.reported.tokens.total_tokens)
            or self.reported.cost
        )

    def exceeds(self, threshold_percent: Decimal, minimum: Decimal = Decimal(0)) -> bool:
        """Worth an alert: the absolute cost drift is above `minimum` and either it is a
        percentage above the threshold of the recorded cost, or nothing was recorded."""
        drift = self.cost_drift
        if drift is None or abs(drift) <= minimum or drift == 0:
            return False
        relative = self.relative_drift
        return relative is None or abs(relative) > threshold_percent


@dataclass(frozen=True, slots=True)
class ReconciliationTable:
    start: date
    end: date  # exclusive
    rows: tuple[ReconciliationRow, ...]
    reconciled_through: dict[str, date]  # per provider, the last day reconciled


def days_between(start: date, end: date) -> list[date]:
    """The days of [start, end); at most MAX_DAYS."""
    if end <= start:
        raise ValidationError(f"the range is empty: from {start} to {end}")
    count = (end - start).days
    if count > MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days at once, not {count}")
    return [start + timedelta(days=n) for n in range(count)]


def parse_day(value: str, what: str = "a date") -> date:
    """A UTC day typed as YYYY-MM-DD."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValidationError(f"{what} must be YYYY-MM-DD, not {value!r}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(f"{what}: {value!r} is not a real day") from exc


def same_model(upstream: str, reported: str) -> bool:
    """The provider's name is the upstream name, or the upstream name with a snapshot suffix."""
    if reported == upstream:
        return True
    if not reported.startswith(upstream):
        return False
    return _SNAPSHOT.fullmatch(reported[len(upstream) :]) is not None


def _resolve(reported: str, candidates: Iterable[str]) -> str:
    """The recorded upstream name a reported name belongs to; itself when none."""
    matches = [name for name in candidates if same_model(name, reported)]
    return max(matches, key=len) if matches else reported


def _add_tokens(values: Iterable[TokenUsage | None]) -> TokenUsage | None:
    total: TokenUsage | None = None
    for value in values:
        if value is not None:
            total = value if total is None else total + value
    return total


def _add_ints(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _add_costs(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return exact_sum(*present) if present else None


def summed(rows: Sequence[ProviderFigures]) -> Figures:
    """A provider's rows together: each figure summed over the rows that report it."""
    return Figures(
        requests=_add_ints(r.requests for r in rows),
        tokens=_add_tokens(r.tokens for r in rows),
        cost=_add_costs(r.cost for r in rows),
    )


def _recorded_sum(rows: Sequence[RecordedFigures]) -> Figures:
    if not rows:
        return NOTHING
    return Figures(
        requests=sum(r.requests for r in rows),
        tokens=_add_tokens(r.tokens for r in rows) or TokenUsage(),
        cost=exact_sum(*(r.cost for r in rows)),
    )


Key = tuple[date, str, str, str]  # day, provider, model, currency


def reconcile(
    recorded: Sequence[RecordedFigures], reported: Sequence[ProviderFigures]
) -> list[ReconciliationRow]:
    """One row per day, provider, model and currency either side knows, sorted. Daily provider
    rows make the comparison; hourly ones only settle the hours with crash-estimated calls."""
    upstream: dict[tuple[date, str], set[str]] = {}
    mine: dict[Key, list[RecordedFigures]] = {}
    for row in recorded:
        upstream.setdefault((row.day, row.provider), set()).add(row.model)
        mine.setdefault((row.day, row.provider, row.model, row.currency), []).append(row)
    theirs: dict[Key, list[ProviderFigures]] = {}
    hourly: dict[tuple[str, str, datetime], list[ProviderFigures]] = {}
    for line in reported:
        model = _resolve(line.model, upstream.get((line.day, line.provider), ()))
        if line.hour is not None:
            hourly.setdefault((line.provider, model, line.hour), []).append(line)
        else:
            theirs.setdefault((line.day, line.provider, model, line.currency), []).append(line)
    rows = []
    for key in sorted(mine.keys() | theirs.keys()):
        day, provider, model, currency = key
        ours = mine.get(key, [])
        given = theirs.get(key, [])
        estimated = tuple(
            EstimatedHour(
                hour=r.hour,
                estimated_requests=r.estimated_requests,
                estimated_cost=r.estimated_cost,
                recorded=_recorded_sum([r]),
                reported=(
                    summed(hourly[(provider, model, r.hour)])
                    if (provider, model, r.hour) in hourly
                    else None
                ),
            )
            for r in sorted(ours, key=lambda r: r.hour)
            if r.estimated_requests
        )
        rows.append(
            ReconciliationRow(
                day=day,
                provider=provider,
                model=model,
                currency=currency,
                recorded=_recorded_sum(ours),
                reported=summed(given) if given else Figures(None, None, None),
                breakdown=tuple(given),
                estimated=estimated,
                settled_requests=sum(r.settled_requests for r in ours),
            )
        )
    return rows


def estimated_hours(recorded: Sequence[RecordedFigures]) -> dict[str, set[date]]:
    """Per provider, the days with crash-estimated calls (their hourly reports are fetched)."""
    found: dict[str, set[date]] = {}
    for row in recorded:
        if row.estimated_requests:
            found.setdefault(row.provider, set()).add(row.day)
    return found


def drift_alert(row: ReconciliationRow, threshold_percent: Decimal, now: datetime) -> Alert:
    """The agency's alert for a drifting row, raised once per day, provider and model."""
    drift = row.cost_drift
    relative = row.relative_drift
    share = "nothing recorded" if relative is None else f"{relative}% of the recorded cost"
    return Alert(
        id=new_id(),
        kind=AlertKind.RECONCILIATION_DRIFT,
        client_id=None,
        key_id=None,
        dedupe_key=(
            f"{AlertKind.RECONCILIATION_DRIFT.value}:{row.provider}:{row.model}:"
            f"{row.currency}:{row.day.isoformat()}"
        ),
        message=(
            f"{row.provider} reports {row.reported.cost} {row.currency} for {row.model} on "
            f"{row.day.isoformat()}; Bizgraph recorded {row.recorded.cost} "
            f"(drift {drift}, {share})"
        ),
        created_at=now,
        details={
            "basis": "cost",
            "provider": row.provider,
            "model": row.model,
            "day": row.day.isoformat(),
            "currency": row.currency,
            "recorded_cost": str(row.recorded.cost),
            "reported_cost": str(row.reported.cost),
            "drift": str(drift),
            "drift_percent": "" if relative is None else str(relative),
            "threshold_percent": str(threshold_percent),
        },
    )
