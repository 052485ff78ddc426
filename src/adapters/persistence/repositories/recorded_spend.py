"""The spend already recorded for a budget's scope in a period, which a new counter starts from
(docs/budgets.md), in the budget's currency: calls priced in another one converted at their
day's rate (docs/currencies.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories.exchange import SqlAlchemyExchangeRateRepository
from adapters.persistence.tables.calls import usage_records
from domain.billing.money import exact_sum
from domain.billing.periods import Period
from domain.budgets.conversion import recorded_in
from domain.budgets.limits import Budget, BudgetBasis


async def recorded_spend(
    conn: AsyncConnection, budget: Budget, period: Period, basis: BudgetBasis
) -> Decimal:
    """The spend already recorded for the budget's scope in the period (a new counter), in
    the budget's currency: calls priced in another converted at their day's rate."""
    by_cost = basis is BudgetBasis.COST
    column = usage_records.c.cost if by_cost else usage_records.c.charge
    currency = usage_records.c.cost_currency if by_cost else usage_records.c.charge_currency
    where = [
        usage_records.c.started_at >= period.start,
        usage_records.c.started_at < period.end,
    ]
    if budget.key_id is not None:
        where.append(usage_records.c.api_key_id == budget.key_id)
    else:
        where.append(usage_records.c.client_id == budget.client_id)
    mine = budget.limit.currency
    if conn.dialect.name == "postgresql":
        statement = select(func.sum(column)).where(*where, currency == mine)
        total = (await conn.execute(statement)).scalar()
        same = Decimal(total) if total is not None else Decimal(0)
    else:
        amounts = await conn.execute(select(column).where(*where, currency == mine))
        same = exact_sum(*amounts.scalars())
    listed = select(usage_records.c.started_at, column, currency)
    foreign = (await conn.execute(listed.where(*where, currency != mine))).all()
    if not foreign:
        return same  # every deployment billing in its prices' currency
    book = await SqlAlchemyExchangeRateRepository(conn).book()
    rows: list[tuple[datetime, Decimal, str]] = [
        (row[0], Decimal(row[1]), str(row[2])) for row in foreign
    ]
    zone = period.start.tzinfo or UTC
    return exact_sum(same, recorded_in(rows, book, mine, zone))
