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
from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import (
    bump_config_revision,
    insert_unless_exists,
    upsert,
)
from adapters.persistence.repositories.recorded_spend import recorded_spend
from adapters.persistence.repositories.wallets import entry_row
from adapters.persistence.tables.budgets import (
    budget_counters,
    budget_leases,
    budget_reservations,
    budgets,
)
from adapters.persistence.tables.calls import process_leases
from adapters.persistence.tables.wallets import wallet_entries
from domain.billing.money import Money, exact_sum
from domain.billing.periods import Period
from domain.budgets.limits import (
    Budget,
    BudgetBasis,
    BudgetMode,
    CounterMove,
    Hold,
    LeaseTaken,
    Refusal,
    Reservation,
    Spend,
)
from domain.budgets.ports import BudgetRepository
from domain.wallets.statement import usage_draw

_COUNTER = budget_counters.c
_LEASE = budget_leases.c


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
        # SQLite only: counters as this transaction last read or wrote them. A SQLite write
        # transaction holds the database's write lock from its BEGIN IMMEDIATE to its end, so
        # no one else can change them meanwhile, and the calls sharing a group commit need
        # one read of their counter between them instead of one each.
        self._known: dict[tuple[str, datetime], tuple[Decimal, Decimal]] = {}
        self._opened: list[CounterMove] = []  # counters the current reserve() created

    async def put(self, budget: Budget) -> None:
        stored = (
            await self._conn.execute(select(budgets.c.basis).where(budgets.c.scope == budget.scope))
        ).first()
        if stored is not None and stored[0] != _to_row(budget)["basis"]:
            await self._forget_counters(budget.scope)  # measured on another basis
        await upsert(self._conn, budgets, _to_row(budget), ["scope"])
        await bump_config_revision(self._conn)  # gateways cache budgets with the config

    async def remove(self, scope: str) -> bool:
        result = await self._conn.execute(delete(budgets).where(budgets.c.scope == scope))
        await self._forget_counters(scope)
        await bump_config_revision(self._conn)
        return bool(result.rowcount)

    async def _forget_counters(self, scope: str) -> None:
        """Counters (and holds) of a scope start again from the recorded spend when next
        needed: spend settled while a budget was absent, or measured on another basis, is
        then counted right. Calls in flight settle their spend on the new counter and have
        no hold left to release."""
        await self._conn.execute(delete(budget_counters).where(_COUNTER.scope == scope))
        await self._conn.execute(
            delete(budget_reservations).where(budget_reservations.c.scope == scope)
        )
        await self._conn.execute(delete(budget_leases).where(_LEASE.scope == scope))
        self._known = {k: v for k, v in self._known.items() if k[0] != scope}

    async def all(self) -> Sequence[Budget]:
        rows = (await self._conn.execute(select(budgets))).mappings()
        return [_from_row(row) for row in rows]

    async def reserve(self, request_id: str, holds: Sequence[Hold], at: datetime) -> Reservation:
        taken: list[Hold] = []
        self._opened = []
        for hold in holds:
            refusal = await self._hold(hold)
            if refusal is not None:
                for earlier in taken:  # all or nothing, in this transaction
                    await self._move(
                        earlier.scope, earlier.period.start, reserved=earlier.amount.copy_negate()
                    )
                return Reservation(refusal, tuple(self._opened))
            taken.append(hold)
        if taken:
            rows = [
                {
                    "request_id": request_id,
                    "scope": hold.scope,
                    "period_start": hold.period.start,
                    "amount": hold.amount,
                    "created_at": at,
                }
                for hold in taken
            ]
            await self._conn.execute(budget_reservations.insert(), rows)
        return Reservation(None, tuple(self._opened))

    async def settle(
        self, request_id: str, spends: Sequence[Spend], lease_owner: str | None = None
    ) -> list[CounterMove]:
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
        # One counter update per (scope, period): the release and the spend together.
        spent_by: dict[tuple[str, datetime], Decimal] = {}
        released_by: dict[tuple[str, datetime], Decimal] = {}
        for scope, period_start, amount in released:
            key = (scope, period_start)
            released_by[key] = exact_sum(released_by.get(key, Decimal(0)), amount)
        for spend in spends:
            key = (spend.scope, spend.period_start)
            spent_by[key] = exact_sum(spent_by.get(key, Decimal(0)), spend.amount)
        if lease_owner is not None:  # the spend leaves the lease it was held from
            for key, amount in spent_by.items():
                taken = await self._shrink_lease(lease_owner, *key, amount)
                released_by[key] = exact_sum(released_by.get(key, Decimal(0)), taken)
        moves = []
        for key in {**released_by, **spent_by}:
            spent, freed = spent_by.get(key, Decimal(0)), released_by.get(key, Decimal(0))
            if spent == 0 and freed == 0:
                continue
            after = await self._move(*key, spent=spent, reserved=freed.copy_negate())
            if after is not None and spent != 0:
                moves.append(CounterMove(key[0], exact_sum(after, spent.copy_negate()), after))
        moved = {move.scope for move in moves}
        for spend in spends:  # a wallet's draw is on its statement too
            if spend.scope in moved and (entry := usage_draw(spend)) is not None:
                await insert_unless_exists(
                    self._conn, wallet_entries, entry_row(entry), ["reference"]
                )
        return moves

    async def take_lease(self, process_id: str, hold: Hold, extra: Decimal) -> LeaseTaken:
        self._opened = []
        added = exact_sum(hold.amount, extra)
        refusal = await self._hold(Hold(hold.budget, hold.period, added, hold.basis))
        if refusal is not None and extra > 0:
            added = hold.amount
            refusal = await self._hold(hold)
        key = (process_id, hold.scope, hold.period.start)
        current = await self._lease(*key)
        if refusal is not None:
            return LeaseTaken(current, refusal, tuple(self._opened))
        amount = exact_sum(current, added)
        await upsert(
            self._conn,
            budget_leases,
            {
                "process_id": process_id,
                "scope": hold.scope,
                "period_start": hold.period.start,
                "amount": amount,
            },
            ["process_id", "scope", "period_start"],
        )
        return LeaseTaken(amount, None, tuple(self._opened))

    async def return_lease(
        self, process_id: str, scope: str, period_start: datetime, amount: Decimal
    ) -> Decimal:
        given = await self._shrink_lease(process_id, scope, period_start, amount)
        if given:
            await self._move(scope, period_start, reserved=given.copy_negate())
        return await self._lease(process_id, scope, period_start)

    async def reclaim_leases(self, live_at: datetime) -> int:
        lease = process_leases.c
        live = select(lease.process_id).where(lease.expires_at > live_at)
        rows = (
            await self._conn.execute(
                select(_LEASE.process_id, _LEASE.scope, _LEASE.period_start, _LEASE.amount)
                .where(_LEASE.process_id.not_in(live))
                .order_by(_LEASE.scope, _LEASE.period_start)  # one lock order for counters
            )
        ).all()
        for process_id, scope, period_start, amount in rows:
            await self.return_lease(process_id, scope, period_start, amount)
        return len(rows)

    async def _lease(
        self, process_id: str, scope: str, period_start: datetime, *, lock: bool = False
    ) -> Decimal:
        statement = select(_LEASE.amount).where(
            _LEASE.process_id == process_id,
            _LEASE.scope == scope,
            _LEASE.period_start == period_start,
        )
        if lock and self._postgres:  # recovery may shrink a lease its owner is settling into
            statement = statement.with_for_update()
        found = (await self._conn.execute(statement)).scalar()
        return found if found is not None else Decimal(0)

    async def _shrink_lease(
        self, process_id: str, scope: str, period_start: datetime, amount: Decimal
    ) -> Decimal:
        """Take up to `amount` out of a lease (the row goes when empty); what was taken."""
        where = (
            _LEASE.process_id == process_id,
            _LEASE.scope == scope,
            _LEASE.period_start == period_start,
        )
        current = await self._lease(process_id, scope, period_start, lock=True)
        taken = min(current, amount)
        if taken <= 0:
            return Decimal(0)
        left = exact_sum(current, taken.copy_negate())
        if left == 0:
            await self._conn.execute(delete(budget_leases).where(*where))
        else:
            await self._conn.execute(update(budget_leases).where(*where).values(amount=left))
        return taken

    async def status(
        self, budget: Budget, period: Period, basis: BudgetBasis
    ) -> tuple[Decimal, Decimal]:
        found = await self._counter(budget.scope, period.start)
        if found is not None:
            return found
        return await self._recorded(budget, period, basis), Decimal(0)

    async def _hold(self, hold: Hold) -> Refusal | None:
        """Add the hold to its counter if it fits (always, under a soft budget)."""
        limit = hold.budget.hard_limit()
        where = (_COUNTER.scope == hold.scope, _COUNTER.period_start == hold.period.start)
        if self._postgres:
            # The conditional update first: one statement on the common path.
            statement = update(budget_counters).where(*where)
            if limit is not None:
                statement = statement.where(
                    _COUNTER.spent + _COUNTER.reserved + hold.amount <= limit
                )
            statement = statement.values(reserved=_COUNTER.reserved + hold.amount)
            if (await self._conn.execute(statement)).rowcount == 1:
                return None
            found = await self._counter(hold.scope, hold.period.start)
            if found is None:
                await self._create_counter(hold)
                return await self._hold(hold)
            spent, reserved = found
            if limit is not None and exact_sum(spent, reserved, hold.amount) > limit:
                return Refusal(hold, spent, reserved)
            # It fits: the counter was committed by another process after the update looked
            # (each statement reads its own snapshot at READ COMMITTED). Update it now.
            return await self._hold(hold)
        found = await self._counter(hold.scope, hold.period.start)
        if found is None:
            found = await self._create_counter(hold)
        spent, reserved = found
        if limit is not None and exact_sum(spent, reserved, hold.amount) > limit:
            return Refusal(hold, spent, reserved)
        reserved = exact_sum(reserved, hold.amount)
        await self._conn.execute(update(budget_counters).where(*where).values(reserved=reserved))
        self._known[(hold.scope, hold.period.start)] = (spent, reserved)
        return None

    async def _create_counter(self, hold: Hold) -> tuple[Decimal, Decimal]:
        """A period's first counter starts from the spend already recorded for the scope (a
        wallet's from an empty balance: its top-ups create it)."""
        if hold.budget.wallet:
            spent = Decimal(0)
        else:
            spent = await self._recorded(hold.budget, hold.period, hold.basis)
        row = {
            "scope": hold.scope,
            "period_start": hold.period.start,
            "spent": spent,
            "reserved": Decimal(0),
        }
        if await insert_unless_exists(self._conn, budget_counters, row, ["scope", "period_start"]):
            if spent:
                self._opened.append(CounterMove(hold.scope, Decimal(0), spent))
            return spent, Decimal(0)
        found = await self._counter(hold.scope, hold.period.start)  # created meanwhile
        assert found is not None
        return found

    async def _counter(self, scope: str, period_start: datetime) -> tuple[Decimal, Decimal] | None:
        if (scope, period_start) in self._known:
            return self._known[(scope, period_start)]
        row = (
            await self._conn.execute(
                select(_COUNTER.spent, _COUNTER.reserved).where(
                    _COUNTER.scope == scope, _COUNTER.period_start == period_start
                )
            )
        ).first()
        if row is None:
            return None
        if not self._postgres:
            self._known[(scope, period_start)] = (row[0], row[1])
        return row[0], row[1]

    async def _move(
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
            value: Decimal | None = (await self._conn.execute(statement)).scalar()
            return value
        current = await self._counter(scope, period_start)
        if current is None:
            return None
        new_spent = exact_sum(current[0], spent)
        new_reserved = exact_sum(current[1], reserved)
        await self._conn.execute(
            update(budget_counters).where(*where).values(spent=new_spent, reserved=new_reserved)
        )
        self._known[(scope, period_start)] = (new_spent, new_reserved)
        return new_spent

    async def _recorded(self, budget: Budget, period: Period, basis: BudgetBasis) -> Decimal:
        return await recorded_spend(self._conn, budget, period, basis)
