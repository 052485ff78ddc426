"""Exchange rates (docs/currencies.md), and what finalizing froze onto an invoice: its rates
and its converted lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import bump_config_revision, translated_errors, upsert
from adapters.persistence.tables.accounts import clients
from adapters.persistence.tables.exchange import (
    exchange_rates,
    invoice_exchange_rates,
    invoice_line_conversions,
)
from domain.billing.exchange import ExchangeRate, RateBook
from domain.billing.exchange_ports import ExchangeRateRepository
from domain.billing.money import Money
from domain.invoicing.invoices import Invoice

MAX_LIST = 10_000


def rate_of(row: RowMapping) -> ExchangeRate:
    return ExchangeRate(row["base"], row["quote"], row["rate"], row["effective_on"], row["source"])


class SqlAlchemyExchangeRateRepository(ExchangeRateRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def book(self) -> RateBook:
        result = await self._conn.execute(select(exchange_rates))
        return RateBook(tuple(rate_of(row) for row in result.mappings()))

    async def list(
        self, base: str | None = None, quote: str | None = None, limit: int = 1000
    ) -> Sequence[ExchangeRate]:
        c = exchange_rates.c
        statement = select(exchange_rates)
        if base is not None:
            statement = statement.where(c.base == base)
        if quote is not None:
            statement = statement.where(c.quote == quote)
        statement = statement.order_by(c.effective_on.desc(), c.base, c.quote)
        result = await self._conn.execute(statement.limit(min(limit, MAX_LIST)))
        return [rate_of(row) for row in result.mappings()]

    async def set(self, rates: Sequence[ExchangeRate], at: datetime) -> int:
        for rate in rates:
            values = {
                "base": rate.base,
                "quote": rate.quote,
                "effective_on": rate.effective_on,
                "rate": rate.rate,
                "source": rate.source,
                "set_at": at,
            }
            await upsert(self._conn, exchange_rates, values, ("base", "quote", "effective_on"))
        if rates:
            await bump_config_revision(self._conn)
        return len(rates)

    async def remove(self, base: str, quote: str, effective_on: date) -> bool:
        c = exchange_rates.c
        result = await self._conn.execute(
            delete(exchange_rates).where(
                c.base == base, c.quote == quote, c.effective_on == effective_on
            )
        )
        if result.rowcount:
            await bump_config_revision(self._conn)
        return bool(result.rowcount)

    async def set_client_currency(self, client_id: str, currency: str) -> None:
        statement = update(clients).where(clients.c.id == client_id).values(currency=currency)
        async with translated_errors("clients"):
            await self._conn.execute(statement)
        await bump_config_revision(self._conn)


async def save_conversions(conn: AsyncConnection, invoice: Invoice) -> None:
    """The invoice's rates and converted lines, in its finalizing transaction."""
    if invoice.rates:
        rows = [
            {
                "invoice_id": invoice.id,
                "base": r.base,
                "quote": r.quote,
                "effective_on": r.effective_on,
                "rate": r.rate,
                "source": r.source,
            }
            for r in invoice.rates
        ]
        async with translated_errors("invoice_exchange_rates"):
            await conn.execute(invoice_exchange_rates.insert(), rows)
    converted = [
        {
            "invoice_id": invoice.id,
            "position": line.position,
            "source_amount": line.source.amount,
            "source_currency": line.source.currency,
            "exact_amount": line.exact_amount,
        }
        for line in invoice.lines
        if line.source is not None
    ]
    if converted:
        async with translated_errors("invoice_line_conversions"):
            await conn.execute(invoice_line_conversions.insert(), converted)


def stored_exact(invoice: Invoice) -> Invoice:
    """What invoice_lines.exact_amount holds (18 decimals at most): a converted line's exact
    amount lives in invoice_line_conversions, so the line row keeps its rounded amount."""
    lines = tuple(
        replace(line, exact_amount=line.amount.amount) if line.source is not None else line
        for line in invoice.lines
    )
    return replace(invoice, lines=lines)


async def load_conversions(conn: AsyncConnection, invoices: Sequence[Invoice]) -> list[Invoice]:
    """The invoices with their rates and converted lines put back."""
    ids = [invoice.id for invoice in invoices]
    if not ids:
        return []
    rates: Mapping[str, list[ExchangeRate]] = defaultdict(list)
    found = await conn.execute(
        select(invoice_exchange_rates)
        .where(invoice_exchange_rates.c.invoice_id.in_(ids))
        .order_by(invoice_exchange_rates.c.base, invoice_exchange_rates.c.quote)
    )
    for row in found.mappings():
        rates[row["invoice_id"]].append(rate_of(row))
    if not rates:
        return list(invoices)
    lines: dict[tuple[str, int], RowMapping] = {}
    found = await conn.execute(
        select(invoice_line_conversions).where(invoice_line_conversions.c.invoice_id.in_(ids))
    )
    for row in found.mappings():
        lines[(row["invoice_id"], row["position"])] = row
    result = []
    for invoice in invoices:
        mine = rates.get(invoice.id)
        if not mine:
            result.append(invoice)
            continue
        restored = []
        for line in invoice.lines:
            stored = lines.get((invoice.id, line.position))
            if stored is not None:
                source = Money(stored["source_amount"], stored["source_currency"])
                line = replace(line, exact_amount=stored["exact_amount"], source=source)
            restored.append(line)
        result.append(replace(invoice, rates=tuple(mine), lines=tuple(restored)))
    return result
