"""Exchange rates in the management API (docs/currencies.md): the dated rates table, the ECB
reference file imported, and a client's billing currency. Staff read; owners and admins
change; a portal token sees only the rates its invoices state."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from api.graphql.clients import Client, ClientSuccess
from api.graphql.context import Info
from api.graphql.errors import ConflictError, NotFoundError, ValidationError, attempt, visible
from api.graphql.exchange_types import ExchangeRate
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate, IsStaff


@strawberry.type
class ExchangeRateSuccess:
    rate: ExchangeRate


@strawberry.type
class RemoveExchangeRateSuccess:
    removed: bool


@strawberry.type
class ImportExchangeRatesSuccess:
    written: int = strawberry.field(description="Rates added or replaced.")
    days: int
    first_day: date
    last_day: date


ExchangeRateResult = Annotated[
    ExchangeRateSuccess | ValidationError, strawberry.union("ExchangeRateResult")
]
RemoveExchangeRateResult = Annotated[
    RemoveExchangeRateSuccess | ValidationError, strawberry.union("RemoveExchangeRateResult")
]
ImportExchangeRatesResult = Annotated[
    ImportExchangeRatesSuccess | ValidationError, strawberry.union("ImportExchangeRatesResult")
]
ClientCurrencyResult = Annotated[
    ClientSuccess | ValidationError | NotFoundError | ConflictError,
    strawberry.union("ClientCurrencyResult"),
]


@field(
    permissions=[IsStaff],
    description="Exchange rates, newest first (of one base and/or quote currency).",
)
async def exchange_rates(
    info: Info, base: str | None = None, quote: str | None = None, limit: int = 100
) -> list[ExchangeRate]:
    found = await visible(info.context.management.rates.list(base, quote, limit))
    return [ExchangeRate.of(rate) for rate in found]


@mutation(
    permissions=[CanMutate],
    description="Add or replace the rate of (base, quote, effective day): 1 base = rate quote.",
)
async def set_exchange_rate(
    info: Info,
    base: str,
    quote: str,
    rate: Decimal,
    effective_on: date,
    # named apart in Python: strawberry's resolvers take a `source` of their own
    rate_source: Annotated[str, strawberry.argument(name="source")] = "manual",
) -> ExchangeRateResult:
    async def run() -> ExchangeRateSuccess:
        stored = await info.context.management.rates.set(
            base, quote, str(rate), effective_on, rate_source
        )
        return ExchangeRateSuccess(rate=ExchangeRate.of(stored))

    return await attempt(run, (ValidationError,))


@mutation(permissions=[CanMutate], description="Remove one rate of the table.")
async def remove_exchange_rate(
    info: Info, base: str, quote: str, effective_on: date
) -> RemoveExchangeRateResult:
    async def run() -> RemoveExchangeRateSuccess:
        removed = await info.context.management.rates.remove(base, quote, effective_on)
        return RemoveExchangeRateSuccess(removed=removed)

    return await attempt(run, (ValidationError,))


@mutation(
    permissions=[CanMutate],
    description="Import the ECB's reference rates (the text of eurofxref.csv or "
    "eurofxref-hist.csv): each base currency to every currency of each day.",
)
async def import_exchange_rates(
    info: Info,
    csv: str,
    bases: list[str] | None = None,
    # named apart in Python, as in setExchangeRate: strawberry takes a `source` of its own
    rate_source: Annotated[str, strawberry.argument(name="source")] = "ECB",
) -> ImportExchangeRatesResult:
    async def run() -> ImportExchangeRatesSuccess:
        rates = info.context.management.rates
        result = await rates.import_reference(csv, bases or ["USD"], rate_source)
        return ImportExchangeRatesSuccess(
            written=result.written, days=result.days, first_day=result.first, last_day=result.last
        )

    return await attempt(run, (ValidationError,))


@mutation(
    permissions=[CanMutate],
    description="A client's billing currency: only while it has no invoice, no usage or "
    "payment on its books, no budget and no wallet.",
)
async def set_client_currency(
    info: Info, client_id: strawberry.ID, currency: str
) -> ClientCurrencyResult:
    async def run() -> ClientSuccess:
        client = await info.context.management.rates.set_client_currency(str(client_id), currency)
        return ClientSuccess(client=Client.of(client))

    return await attempt(run, (ValidationError, NotFoundError, ConflictError))
