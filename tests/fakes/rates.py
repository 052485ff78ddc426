"""Exchange rates in memory (docs/currencies.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from domain.billing.exchange import ExchangeRate, RateBook
from tests.fakes.store import Working


class FakeExchangeRateRepository:
    def __init__(self, uow: Working) -> None:
        self._uow = uow

    async def book(self) -> RateBook:
        return RateBook(tuple(self._uow.working.exchange_rates.values()))

    async def list(
        self, base: str | None = None, quote: str | None = None, limit: int = 1000
    ) -> Sequence[ExchangeRate]:
        found = [
            r
            for r in self._uow.working.exchange_rates.values()
            if (base is None or r.base == base) and (quote is None or r.quote == quote)
        ]
        found.sort(key=lambda r: (r.effective_on, r.base, r.quote), reverse=True)
        return found[:limit]

    async def set(self, rates: Sequence[ExchangeRate], at: datetime) -> int:
        for rate in rates:
            self._uow.working.exchange_rates[(rate.base, rate.quote, rate.effective_on)] = rate
        return len(rates)

    async def remove(self, base: str, quote: str, effective_on: date) -> bool:
        return self._uow.working.exchange_rates.pop((base, quote, effective_on), None) is not None

    async def set_client_currency(self, client_id: str, currency: str) -> None:
        client = self._uow.working.clients[client_id]
        self._uow.working.clients[client_id] = replace(client, currency=currency)
