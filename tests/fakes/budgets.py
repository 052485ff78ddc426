"""Budgets, their counters, holds and process leases (`ports.BudgetRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from domain.billing.periods import Period
from domain.budgets.limits import (
    Budget,
    BudgetBasis,
    CounterMove,
    Hold,
    LeaseTaken,
    Refusal,
    Reservation,
    Spend,
)
from domain.wallets.statement import usage_draw
from tests.fakes.store import Repository


class FakeBudgetRepository(Repository):
    async def put(self, budget: Budget) -> None:
        self._require("client", budget.client_id in self._data.clients, budget.client_id)
        if budget.key_id is not None:
            self._require("key", budget.key_id in self._data.keys, budget.key_id)
        stored = self._data.budgets.get(budget.scope)
        if stored is not None and stored.basis != budget.basis:
            self._forget(budget.scope)
        self._data.budgets[budget.scope] = budget

    async def remove(self, scope: str) -> bool:
        self._forget(scope)
        return self._data.budgets.pop(scope, None) is not None

    def _forget(self, scope: str) -> None:
        data = self._data
        data.counters = {k: v for k, v in data.counters.items() if k[0] != scope}
        data.holds = {k: v for k, v in data.holds.items() if k[1] != scope}
        data.budget_leases = {k: v for k, v in data.budget_leases.items() if k[1] != scope}

    async def all(self) -> Sequence[Budget]:
        return list(self._data.budgets.values())

    async def reserve(self, request_id: str, holds: Sequence[Hold], at: datetime) -> Reservation:
        counters = self._data.counters
        opened = []
        for hold in holds:  # check every hold first: a refusal writes nothing else
            key = (hold.scope, hold.period.start)
            if key not in counters:
                recorded = (
                    Decimal(0)
                    if hold.budget.wallet  # a wallet starts empty: top-ups create its counter
                    else self._recorded(hold.budget, hold.period, hold.basis)
                )
                counters[key] = (recorded, Decimal(0))
                if recorded:
                    opened.append(CounterMove(hold.scope, Decimal(0), recorded))
            spent, reserved = counters[key]
            limit = hold.budget.hard_limit()
            if limit is not None and spent + reserved + hold.amount > limit:
                return Reservation(Refusal(hold, spent, reserved), tuple(opened))
        for hold in holds:
            key = (hold.scope, hold.period.start)
            spent, reserved = counters[key]
            counters[key] = (spent, reserved + hold.amount)
            self._data.holds[(request_id, hold.scope)] = (hold.period.start, hold.amount)
        return Reservation(None, tuple(opened))

    async def settle(
        self, request_id: str, spends: Sequence[Spend], lease_owner: str | None = None
    ) -> list[CounterMove]:
        counters = self._data.counters
        for request, scope in [k for k in self._data.holds if k[0] == request_id]:
            start, amount = self._data.holds.pop((request, scope))
            spent, reserved = counters[(scope, start)]
            counters[(scope, start)] = (spent, reserved - amount)
        if lease_owner is not None:
            for spend in spends:
                taken = self._shrink((lease_owner, spend.scope, spend.period_start), spend.amount)
                key = (spend.scope, spend.period_start)
                if taken and key in counters:
                    counters[key] = (counters[key][0], counters[key][1] - taken)
        moves = []
        for spend in spends:
            key = (spend.scope, spend.period_start)
            if spend.amount == 0 or key not in counters:
                continue
            spent, reserved = counters[key]
            counters[key] = (spent + spend.amount, reserved)
            moves.append(CounterMove(spend.scope, spent, spent + spend.amount))
            draw = usage_draw(spend)
            known = {entry.reference for entry in self._data.wallet_entries}
            if draw is not None and draw.reference not in known:
                self._data.wallet_entries.append(draw)
        return moves

    async def take_lease(self, process_id: str, hold: Hold, extra: Decimal) -> LeaseTaken:
        key = (process_id, hold.scope, hold.period.start)
        for amount in ([hold.amount + extra] if extra > 0 else []) + [hold.amount]:
            wanted = Hold(hold.budget, hold.period, amount, hold.basis)
            reservation = await self.reserve("", [wanted], hold.period.start)
            self._data.holds.pop(("", hold.scope), None)  # held by the lease, not a request
            if reservation.refusal is None:
                leased = self._data.budget_leases.get(key, Decimal(0)) + amount
                self._data.budget_leases[key] = leased
                return LeaseTaken(leased, None, reservation.opened)
        current = self._data.budget_leases.get(key, Decimal(0))
        return LeaseTaken(current, reservation.refusal, reservation.opened)

    async def return_lease(
        self, process_id: str, scope: str, period_start: datetime, amount: Decimal
    ) -> Decimal:
        key = (process_id, scope, period_start)
        given = self._shrink(key, amount)
        counter = self._data.counters.get((scope, period_start))
        if given and counter is not None:
            self._data.counters[(scope, period_start)] = (counter[0], counter[1] - given)
        return self._data.budget_leases.get(key, Decimal(0))

    async def reclaim_leases(self, live_at: datetime) -> int:
        live = {p for p, lease in self._data.process_leases.items() if lease.is_live(live_at)}
        dead = [(k, v) for k, v in self._data.budget_leases.items() if k[0] not in live]
        for key, amount in dead:
            await self.return_lease(*key, amount)
        return len(dead)

    def _shrink(self, key: tuple[str, str, datetime], amount: Decimal) -> Decimal:
        current = self._data.budget_leases.get(key, Decimal(0))
        taken = min(current, amount)
        if taken <= 0:
            return Decimal(0)
        if current - taken == 0:
            del self._data.budget_leases[key]
        else:
            self._data.budget_leases[key] = current - taken
        return taken

    async def status(
        self, budget: Budget, period: Period, basis: BudgetBasis
    ) -> tuple[Decimal, Decimal]:
        found = self._data.counters.get((budget.scope, period.start))
        return found or (self._recorded(budget, period, basis), Decimal(0))

    def _recorded(self, budget: Budget, period: Period, basis: BudgetBasis) -> Decimal:
        total, currency = Decimal(0), budget.limit.currency
        for record in self._data.usage.values():
            mine = (
                record.api_key_id == budget.key_id
                if budget.key_id
                else record.client_id == budget.client_id
            )
            amount = record.cost if basis is BudgetBasis.COST else record.charge
            # no exchange rates here: a record in another currency is left out (the SQL store
            # converts it at its day's rate)
            if mine and period.contains(record.started_at) and amount.currency == currency:
                total += amount.amount
        return total
