"""The store of exchange rates (docs/currencies.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from domain.billing.exchange import ExchangeRate, RateBook


class ExchangeRateRepository(Protocol):
    async def book(self) -> RateBook:
        """Every stored rate (a small table: one row per pair and day set)."""
        ...

    async def list(
        self, base: str | None = None, quote: str | None = None, limit: int = 1000
    ) -> Sequence[ExchangeRate]:
        """Newest first."""
        ...

    async def set(self, rates: Sequence[ExchangeRate], at: datetime) -> int:
        """Insert or replace each (pair, day); bumps the configuration revision. Returns how
        many rows were written."""
        ...

    async def remove(self, base: str, quote: str, effective_on: date) -> bool: ...

    async def set_client_currency(self, client_id: str, currency: str) -> None:
        """A client's billing currency (the use case checks nothing was billed in the old
        one); bumps the configuration revision."""
        ...
