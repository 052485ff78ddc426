"""Budgets and their counters: the conditional hold that keeps a hard limit across processes.

PostgreSQL: a hold is one conditional UPDATE (`... WHERE spent + reserved + :amount <= :limit`),
exact NUMERIC arithmetic under the row lock, so concurrent transactions in any process queue on
the counter row and never both pass a check only one of them fits. SQLite stores amounts as
text (no exact SQL arithmetic): the compare runs in Python, inside the write transaction every
SQLite writer takes up front (`BEGIN IMMEDIATE`), which serializes writers just as the row lock
does, so the read and the write cannot interleave with another writer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import RowMapping, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import (
    bump_config_revision,
    insert_unless_exists,
    upsert,
)
from adapters.persistence.tables import (
    budget_counters,
    budget_reservations,
    budgets,
    usage_records,
)
from domain.budgets import (
    Budget,
    BudgetBasis,
    BudgetMode,
    CounterMove,
    Hold,
    Refusal,
    Spend,
)
from domain.money import Money, exact_sum
from domain.periods import Period
from domain.ports import BudgetRepository

_COUNTER = budget_counters.c


def _to_row(budget: Budget) -> dict[str, Any]:
    return {
        "scope": budget.scope,
        "client_id": budget.client_id,
        "key_id": budget.key_id,
        "limit_amount": budget.limit.amount,
        "currency": budget.limit.currency,
        "mode": budget.mode.value,
        "basis": budget.basis.value if budget.basis is not None else None,
        "thresholds": orjson.dumps(list(budget.thresholds)).decode(),
        "updated_at": budget.updated_at,
    }


def _from_row(row: RowMapping) -> Budget:
    return Budget(
        client_id=row["client_id"],
        key_id=row["key_id"],
        limit=Money(row["limit_amount"], row["currency"]),
        mode=BudgetMode(row["mode"]),
        updated_at=row["updated_at"],
        basis=BudgetBasis(row["basis"]) if row["basis"] is not None else None,
        thresholds=tuple(orjson.loads(row["thresholds"])),
    )


class SqlAlchemyBudgetRepository(BudgetRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    async def put(self, budget: Budget) -> None:
        await upsert(self._conn, budgets, _to_row(budget), ["scope"])
        await bump_config_revision(self._conn)  # gateways cache budgets with the config

    async def remove(self, scope: str) -> bool:
        result = await self._conn.execute(delete(budgets).where(budgets.c.scope == scope))
        await bump_config_revision(self._conn)
        return bool(result.rowcount)

    async def all(self) -> Sequence[Budget]:
        rows = (await self._conn.execute(select(budgets))).mappings()
        return [_from_row(row) for row in rows]

    async def reserve(self, request_id: str, holds: Sequence[Hold], at: datetime) -> Refusal | None:
        taken: list[Hold] = []
        for hold in holds:
            await self._ensure_counter(hold.budget, hold.period, hold.basis)
            if not await self._hold(hold):
                for earlier in taken:  # all or nothing, in this transaction
                    await self._add(earlier.scope, earlier.period.start, reserved=-earlier.amount)
                found = await self._counter(hold.scope, hold.period.start)
                spent, reserved = found or (Decimal(0), Decimal(0))
                return Refusal(hold, spent, reserved)
            taken.append(hold)
            row = {
                "request_id": request_id,
                "scope": hold.scope,
                "period_start": hold.period.start,
                "amount": hold.amount,
                "created_at": at,
            }
            await insert_unless_exists(
                self._conn, budget_reservations, row, ["request_id", "scope"]
            )
        return None

    async def settle(self, request_id: str, spends: Sequence[Spend]) -> list[CounterMove]:
        released = (
            await self._conn.execute(
                delete(budget_reservations)
                .where(budget_reservations.c.request_id == request_id)
                .returning(
                    budget_reservations.c.scope,
                    budget_reservations.c.period_start,
                    budget_reservations.c.amount,
                )
            )
        ).all()
        for scope, period_start, amount in released:
            await self._add(scope, period_start, reserved=-Decimal(amount))
        moves = []
        for spend in spends:
            if spend.amount == 0:
                continue
            after = await self._add(spend.scope, spend.period_start, spent=spend.amount)
            if after is not None:
                moves.append(CounterMove(spend.scope, after - spend.amount, after))
        return moves

    async def status(
        self, budget: Budget, period: Period, basis: BudgetBasis
    ) -> tuple[Decimal, Decimal]:
        found = await self._counter(budget.scope, period.start)
        if found is not None:
            return found
        return await self._recorded(budget, period, basis), Decimal(0)

    async def _hold(self, hold: Hold) -> bool:
        limit = hold.budget.hard_limit()
        if limit is None:
            await self._add(hold.scope, hold.period.start, reserved=hold.amount)
            return True
        if self._postgres:
            statement = (
                update(budget_counters)
                .where(_COUNTER.scope == hold.scope, _COUNTER.period_start == hold.period.start)
                .where(_COUNTER.spent + _COUNTER.reserved + hold.amount <= limit)
                .values(reserved=_COUNTER.reserved + hold.amount)
            )
            return bool((await self._conn.execute(statement)).rowcount == 1)
        found = await self._counter(hold.scope, hold.period.start)
        spent, reserved = found or (Decimal(0), Decimal(0))
        if exact_sum(spent, reserved, hold.amount) > limit:
            return False
        await self._add(hold.scope, hold.period.start, reserved=hold.amount)
        return True

    async def _ensure_counter(self, budget: Budget, period: Period, basis: BudgetBasis) -> None:
        if await self._counter(budget.scope, period.start) is not None:
            return
        row = {
            "scope": budget.scope,
            "period_start": period.start,
            "spent": await self._recorded(budget, period, basis),
            "reserved": Decimal(0),
        }
        await insert_unless_exists(self._conn, budget_counters, row, ["scope", "period_start"])

    async def _counter(self, scope: str, period_start: datetime) -> tuple[Decimal, Decimal] | None:
        row = (
            await self._conn.execute(
                select(_COUNTER.spent, _COUNTER.reserved).where(
                    _COUNTER.scope == scope, _COUNTER.period_start == period_start
                )
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def _add(
        self,
        scope: str,
        period_start: datetime,
        *,
        spent: Decimal = Decimal(0),
        reserved: Decimal = Decimal(0),
    ) -> Decimal | None:
        """Move a counter by the amounts; its spend afterwards (None if there is no counter)."""
        where = (_COUNTER.scope == scope, _COUNTER.period_start == period_start)
        if self._postgres:
            statement = (
                update(budget_counters)
                .where(*where)
                .values(spent=_COUNTER.spent + spent, reserved=_COUNTER.reserved + reserved)
                .returning(_COUNTER.spent)
            )
            value = (await self._conn.execute(statement)).scalar()
            return value if value is not None else None
        current = await self._counter(scope, period_start)
        if current is None:
            return None
        new_spent = exact_sum(current[0], spent)
        new_reserved = exact_sum(current[1], reserved)
        await self._conn.execute(
            update(budget_counters).where(*where).values(spent=new_spent, reserved=new_reserved)
        )
        return new_spent

    async def _recorded(self, budget: Budget, period: Period, basis: BudgetBasis) -> Decimal:
        """The spend already recorded for the budget's scope in the period (a new counter)."""
        column = usage_records.c.cost if basis is BudgetBasis.COST else usage_records.c.charge
        where = [
            usage_records.c.started_at >= period.start,
            usage_records.c.started_at < period.end,
        ]
        if budget.key_id is not None:
            where.append(usage_records.c.api_key_id == budget.key_id)
        else:
            where.append(usage_records.c.client_id == budget.client_id)
        if self._postgres:
            total = (await self._conn.execute(select(func.sum(column)).where(*where))).scalar()
            return Decimal(total) if total is not None else Decimal(0)
        amounts = (await self._conn.execute(select(column).where(*where))).scalars()
        return exact_sum(*amounts)
