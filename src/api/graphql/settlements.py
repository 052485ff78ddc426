"""Settling calls billed on an estimate in the management API (docs/reconciliation.md): the
estimated calls of some days beside what the provider's hour implies each used (staff), and
the audited settlement at the provider's figures (owner or admin)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
    attempt,
    visible,
)
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate, IsStaff
from api.graphql.reconciliation import ReconciliationTokens, day_argument
from api.graphql.shared import Money
from domain.metering import estimate_settlements as domain
from domain.metering.tokens import TokenUsage
from domain.usecases.estimate_settlements import EstimatedCall

strawberry.enum(domain.SettlementOutcome, name="SettlementOutcome")
SettlementOutcome: TypeAlias = domain.SettlementOutcome


@strawberry.type
class EstimateSettlement:
    """An estimated call settled at the provider's figures: who, when, why, and what it did
    with the charge difference (`amount`, rounded once in the client's currency; negative: the
    client had paid too much)."""

    id: strawberry.ID
    outcome: SettlementOutcome
    actual: ReconciliationTokens
    cost_delta: Money = strawberry.field(description="Actual minus recorded provider cost.")
    charge_delta: Money = strawberry.field(description="Actual minus recorded charge, exact.")
    amount: Money
    reason: str
    settled_by: str
    settled_at: datetime
    reference: str | None = strawberry.field(
        description="The account credit's id or the wallet entry's reference it made."
    )
    invoice_id: strawberry.ID | None = strawberry.field(
        description="A billed settlement: the invoice that billed it (null: the next one)."
    )

    @classmethod
    def of(cls, settlement: domain.EstimateSettlement) -> EstimateSettlement:
        return cls(
            id=strawberry.ID(settlement.id),
            outcome=settlement.outcome,
            actual=ReconciliationTokens.counted(settlement.actual),
            cost_delta=Money.of(settlement.cost_delta),
            charge_delta=Money.of(settlement.charge_delta),
            amount=Money.of(settlement.amount),
            reason=settlement.reason,
            settled_by=settlement.actor,
            settled_at=settlement.settled_at,
            reference=settlement.reference,
            invoice_id=strawberry.ID(settlement.invoice_id) if settlement.invoice_id else None,
        )


@strawberry.type
class CallToSettle:
    """A call billed on an estimate (a crashed process, a cut stream), to settle at the
    provider's figure."""

    usage_record_id: strawberry.ID
    request_id: str
    client_id: strawberry.ID
    client_name: str
    provider: str
    model: str
    started_at: datetime
    estimated: ReconciliationTokens
    cost: Money
    charge: Money
    suggested: ReconciliationTokens | None = strawberry.field(
        description="What the provider's hour implies this call used: its reported tokens "
        "minus Bizgraph's other calls that hour (null: several estimated calls share the hour, "
        "the hour is not reported, or the difference is negative)."
    )
    settlement: EstimateSettlement | None

    @classmethod
    def of(cls, call: EstimatedCall) -> CallToSettle:
        record = call.record
        return cls(
            usage_record_id=strawberry.ID(record.id),
            request_id=record.request_id,
            client_id=strawberry.ID(record.client_id),
            client_name=call.client_name,
            provider=record.provider,
            model=record.model_id,
            started_at=record.started_at,
            estimated=ReconciliationTokens.counted(record.usage),
            cost=Money.of(record.cost),
            charge=Money.of(record.charge),
            suggested=ReconciliationTokens.of(call.suggested),
            settlement=EstimateSettlement.of(call.settlement) if call.settlement else None,
        )


@strawberry.input
class SettledTokensInput:
    """The call's actual tokens, as the provider reports them (input counts cached and
    cache-write tokens; output counts reasoning tokens)."""

    input: int
    output: int
    cached_input: int = 0
    cache_write: int = 0
    reasoning: int = 0

    def usage(self) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input,
            output_tokens=self.output,
            cached_input_tokens=self.cached_input,
            cache_write_tokens=self.cache_write,
            reasoning_tokens=self.reasoning,
        )


@strawberry.type
class SettleEstimatedCallSuccess:
    settlement: EstimateSettlement


SettleEstimatedCallResult = Annotated[
    SettleEstimatedCallSuccess | ValidationError | NotFoundError | ConflictError,
    strawberry.union("SettleEstimatedCallResult"),
]


@field(
    description="Calls billed on an estimate that started from `from` to `to` (UTC days, both "
    "included, YYYY-MM-DD), oldest first, at most `first` (1-1000), each with its settlement "
    "or the provider's implied figure; staff only.",
    permissions=[IsStaff],
)
async def calls_to_settle(
    info: Info,
    start: Annotated[str, strawberry.argument(name="from")],
    to: str,
    providers: list[str] | None = None,
    first: int = 200,
) -> list[CallToSettle]:
    first_day, last_day = day_argument(start, "from"), day_argument(to, "to")
    desk = info.context.management.settlements
    calls = await visible(
        desk.estimated_calls(first_day, last_day + timedelta(days=1), providers, first)
    )
    return [CallToSettle.of(call) for call in calls]


@mutation(
    permissions=[CanMutate],
    description="Settle a call billed on an estimate at the provider's actual tokens, once, "
    "with a reason: an over-estimate goes back to the client (an account credit, or its "
    "wallet); an under-estimate is absorbed unless billShortfall (a line on the next invoice, "
    "or drawn from the wallet). The reason is printed on that credit or invoice line.",
)
async def settle_estimated_call(
    info: Info,
    usage_record_id: strawberry.ID,
    tokens: SettledTokensInput,
    reason: str,
    bill_shortfall: bool = False,
) -> SettleEstimatedCallResult:
    async def run() -> SettleEstimatedCallSuccess:
        desk = info.context.management.settlements
        settled = await desk.settle(str(usage_record_id), tokens.usage(), reason, bill_shortfall)
        return SettleEstimatedCallSuccess(settlement=EstimateSettlement.of(settled))

    return await attempt(run, (ValidationError, NotFoundError, ConflictError))
