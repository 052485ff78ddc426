"""Managing budgets (per client, per key) and reading where they stand this period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.money import Money, bounded_decimal
from domain.billing.periods import period_containing
from domain.billing.plans import PlanTimeline
from domain.budgets.limits import (
    DEFAULT_THRESHOLDS,
    Budget,
    BudgetBasis,
    BudgetMode,
    BudgetStatus,
    budget_scope,
)
from domain.errors import NotFound
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class BudgetInput:
    limit: Decimal
    mode: BudgetMode = BudgetMode.HARD
    basis: BudgetBasis | None = None  # None: by the plan in force
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS


class BudgetUseCases:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        zone: ZoneInfo,
        reads: UnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._zone = zone

    async def set_for_client(self, client_id: str, new: BudgetInput) -> BudgetStatus:
        return await self._set(client_id, None, new)

    async def set_for_key(self, key_id: str, new: BudgetInput) -> BudgetStatus:
        async with self._reads() as uow:
            key = await uow.keys.get(key_id)
        if key is None:
            raise NotFound(f"no key {key_id}")
        return await self._set(key.client_id, key_id, new)

    async def remove_for_client(self, client_id: str) -> bool:
        return await self._remove(budget_scope(client_id, None))

    async def remove_for_key(self, key_id: str) -> bool:
        async with self._reads() as uow:
            key = await uow.keys.get(key_id)
        if key is None:
            raise NotFound(f"no key {key_id}")
        return await self._remove(budget_scope(key.client_id, key_id))

    async def of_client(self, client_id: str) -> BudgetStatus | None:
        return await self._status(budget_scope(client_id, None))

    async def of_key(self, client_id: str, key_id: str) -> BudgetStatus | None:
        return await self._status(budget_scope(client_id, key_id))

    async def of_scopes(
        self, wanted: Sequence[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], BudgetStatus]:
        """The budgets of several (client, key or None) pairs in one unit of work: one read of
        the budgets, then reads only for the pairs that have one."""
        scopes = {
            budget_scope(client_id, key_id): (client_id, key_id) for client_id, key_id in wanted
        }
        found: dict[tuple[str, str | None], BudgetStatus] = {}
        async with self._reads() as uow:
            for budget in await uow.budgets.all():
                if budget.scope in scopes:
                    found[scopes[budget.scope]] = await self._status_in(uow, budget)
        return found

    async def client_statuses(self) -> list[BudgetStatus]:
        """Every client-wide budget with its counter this period (for metrics)."""
        async with self._reads() as uow:
            return [
                await self._status_in(uow, budget)
                for budget in await uow.budgets.all()
                if budget.key_id is None
            ]

    async def _set(self, client_id: str, key_id: str | None, new: BudgetInput) -> BudgetStatus:
        async with self._uow() as uow:
            client = await uow.clients.get(client_id)
            if client is None:
                raise NotFound(f"no client {client_id}")
            budget = Budget(
                client_id=client_id,
                key_id=key_id,
                limit=Money(_limit(new.limit), client.currency),
                mode=new.mode,
                updated_at=self._clock.now(),
                basis=new.basis,
                thresholds=new.thresholds,
            )
            await uow.budgets.put(budget)
            status = await self._status_in(uow, budget)
            await uow.commit()
        return status

    async def _remove(self, scope: str) -> bool:
        async with self._uow() as uow:
            removed = await uow.budgets.remove(scope)
            await uow.commit()
        return removed

    async def _status(self, scope: str) -> BudgetStatus | None:
        async with self._reads() as uow:
            budget = next((b for b in await uow.budgets.all() if b.scope == scope), None)
            return await self._status_in(uow, budget) if budget is not None else None

    async def _status_in(self, uow: UnitOfWork, budget: Budget) -> BudgetStatus:
        now = self._clock.now()
        period = period_containing(now, self._zone)
        plan = PlanTimeline(await uow.plans.history(budget.client_id)).in_force_at(now)
        spent, reserved = await uow.budgets.status(budget, period, budget.basis_under(plan))
        return BudgetStatus(budget, period, spent, reserved)


def _limit(value: Decimal) -> Decimal:
    return bounded_decimal(value, places=12, what="a budget limit")
