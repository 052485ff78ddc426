"""Reconciliation in the management API (staff who may read costs): the drift table of what
Bizgraph recorded against what the providers report, per UTC day, provider and model, and how
far each provider is reconciled. The same figures as `bizgraph reconcile --no-fetch`, read
from the stored reports (docs/reconciliation.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.errors import public, visible
from api.graphql.fields import field
from api.graphql.permissions import IsStaff
from domain import reconciliation as rec
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage


@strawberry.type
class ReconciliationTokens:
    """Tokens by class (input counts cached and cache-write tokens too)."""

    input: int
    cached_input: int
    cache_write: int
    output: int

    @classmethod
    def of(cls, tokens: TokenUsage | None) -> ReconciliationTokens | None:
        return None if tokens is None else cls.counted(tokens)

    @classmethod
    def counted(cls, tokens: TokenUsage) -> ReconciliationTokens:
        return cls(
            input=tokens.input_tokens,
            cached_input=tokens.cached_input_tokens,
            cache_write=tokens.cache_write_tokens,
            output=tokens.output_tokens,
        )


@strawberry.type
class ReconciliationFigures:
    """One side of a comparison; null: that side does not report the figure."""

    requests: int | None
    tokens: ReconciliationTokens | None
    cost: Decimal | None

    @classmethod
    def of(cls, figures: rec.Figures) -> ReconciliationFigures:
        return cls(
            requests=figures.requests,
            tokens=ReconciliationTokens.of(figures.tokens),
            cost=figures.cost,
        )


@strawberry.type
class ProviderReportLine:
    """A row of the provider's report behind a comparison (per API key or project)."""

    api_key_id: str | None
    project_id: str | None
    requests: int | None
    tokens: ReconciliationTokens | None
    cost: Decimal | None


@strawberry.type
class EstimatedHour:
    """An hour with calls billed on an estimate (a crashed process, a cut stream), beside
    what the provider saw that hour (null: not fetched)."""

    hour: datetime
    estimated_requests: int
    estimated_cost: Decimal
    recorded: ReconciliationFigures
    reported: ReconciliationFigures | None


@strawberry.type
class ReconciliationRow:
    day: date = strawberry.field(description="The UTC day.")
    provider: str
    model: str = strawberry.field(description="The upstream model name.")
    currency: str
    recorded: ReconciliationFigures
    reported: ReconciliationFigures
    cost_drift: Decimal | None = strawberry.field(
        description="Reported minus recorded cost (null: the provider reports no cost)."
    )
    drift_percent: Decimal | None = strawberry.field(
        description="The drift as a percent of the recorded cost (null: nothing recorded)."
    )
    drifting: bool = strawberry.field(description="Above the alert threshold.")
    not_through_bizgraph: bool = strawberry.field(
        description="The provider saw usage Bizgraph never recorded (the key used elsewhere)."
    )
    breakdown: list[ProviderReportLine]
    estimated: list[EstimatedHour]
    settled_requests: int = strawberry.field(
        description="Estimated calls settled since: `recorded` counts them at the provider's "
        "figures (docs/reconciliation.md)."
    )

    @classmethod
    def of(
        cls, row: rec.ReconciliationRow, percent: Decimal, minimum: Decimal
    ) -> ReconciliationRow:
        return cls(
            day=row.day,
            provider=row.provider,
            model=row.model,
            currency=row.currency,
            recorded=ReconciliationFigures.of(row.recorded),
            reported=ReconciliationFigures.of(row.reported),
            cost_drift=row.cost_drift,
            drift_percent=row.relative_drift,
            drifting=row.exceeds(percent, minimum),
            not_through_bizgraph=row.unrecorded,
            settled_requests=row.settled_requests,
            breakdown=[
                ProviderReportLine(
                    api_key_id=line.api_key_id,
                    project_id=line.project_id,
                    requests=line.requests,
                    tokens=ReconciliationTokens.of(line.tokens),
                    cost=line.cost,
                )
                for line in row.breakdown
            ],
            estimated=[
                EstimatedHour(
                    hour=hour.hour,
                    estimated_requests=hour.estimated_requests,
                    estimated_cost=hour.estimated_cost,
                    recorded=ReconciliationFigures.of(hour.recorded),
                    reported=None
                    if hour.reported is None
                    else ReconciliationFigures.of(hour.reported),
                )
                for hour in row.estimated
            ],
        )


@strawberry.type
class ReconciledThrough:
    provider: str
    day: date = strawberry.field(description="The last UTC day compared with its report.")


@strawberry.type
class Reconciliation:
    start: date
    end: date = strawberry.field(description="The last UTC day included.")
    drift_percent_threshold: Decimal
    rows: list[ReconciliationRow]
    reconciled_through: list[ReconciledThrough]


def day_argument(value: str, what: str) -> date:
    """A UTC day argument (YYYY-MM-DD); a visible error naming the argument otherwise."""
    try:
        return rec.parse_day(value, what)
    except ValidationError as exc:
        raise public(exc) from exc


@field(
    description="Bizgraph's records against the providers' reports per UTC day, provider "
    "and model, from `from` to `to` (both included, YYYY-MM-DD); staff only.",
    permissions=[IsStaff],
)
async def reconciliation(
    info: Info,
    start: Annotated[str, strawberry.argument(name="from")],
    to: str,
    providers: list[str] | None = None,
) -> Reconciliation:
    first = day_argument(start, "from")
    last = day_argument(to, "to")
    management = info.context.management
    table = await visible(management.reconciliation(first, last + timedelta(days=1), providers))
    percent, minimum = management.drift_rule()
    return Reconciliation(
        start=table.start,
        end=last,
        drift_percent_threshold=percent,
        rows=[ReconciliationRow.of(r, percent, minimum) for r in table.rows],
        reconciled_through=_marks(table.reconciled_through),
    )


@field(
    description="Per provider, the last UTC day reconciled with its report; staff only.",
    permissions=[IsStaff],
)
async def reconciled_through(info: Info) -> list[ReconciledThrough]:
    return _marks(await visible(info.context.management.reconciled_through()))


def _marks(marks: Mapping[str, date]) -> list[ReconciledThrough]:
    return [ReconciledThrough(provider=p, day=d) for p, d in sorted(marks.items())]
