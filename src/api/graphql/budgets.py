"""Budgets of clients and keys: where they stand this period (amounts refused to a portal when
the budget is measured in provider cost) and the mutations that set and remove them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt, public
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate
from api.graphql.shared import Money
from domain.access.principals import NotAllowed
from domain.billing import plans
from domain.budgets import limits as budgets
from domain.budgets.limits import BudgetStatus
from domain.usecases import budgets as budget_cases

# strawberry.enum registers the GraphQL name on the domain enum itself (and returns it): the
# domain enum is the GraphQL type, named here once; the alias keeps it a valid annotation.
strawberry.enum(budgets.BudgetMode, name="BudgetMode")
strawberry.enum(budgets.BudgetBasis, name="BudgetBasis")
BudgetMode: TypeAlias = budgets.BudgetMode
BudgetBasis: TypeAlias = budgets.BudgetBasis
WRITE = [CanMutate]
_VN = (ValidationError, NotFoundError)


@strawberry.type(description="A budget and where it stands in the current billing period.")
class Budget:
    used_percent: Decimal | None = strawberry.field(
        description="spent / limit x 100, exact. Null for a client-portal token when the budget "
        "is measured in provider cost: a percentage of the agency's cost is one of its figures."
    )
    mode: BudgetMode
    basis: BudgetBasis
    basis_is_default: bool = strawberry.field(description="The basis follows the plan in force.")
    thresholds: list[int]
    period: str = strawberry.field(description='The billing period, "YYYY-MM".')
    # A budget on the provider-cost basis is measured in the agency's cost: a client's portal
    # sees its mode, basis and period, is refused its amounts and gets no percentage of it
    # (with the charges it sees, a percentage would give the limit, and so the cost, away).
    figures: strawberry.Private[budgets.BudgetStatus | None]

    def _amount(self, pick: Callable[[budgets.BudgetStatus], Decimal]) -> Money:
        if self.figures is None:
            raise public(NotAllowed("a budget on provider cost shows its amounts to staff only"))
        return Money(amount=pick(self.figures), currency=self.figures.budget.limit.currency)

    @field()
    def limit(self) -> Money:
        return self._amount(lambda status: status.budget.limit.amount)

    @field(description="Settled spend this period, on `basis`.")
    def spent(self) -> Money:
        return self._amount(lambda status: status.spent)

    @field(description="Held for calls in flight.")
    def reserved(self) -> Money:
        return self._amount(lambda status: status.reserved)

    @field(description="limit - spent - reserved, at least 0.")
    def remaining(self) -> Money:
        return self._amount(lambda status: status.remaining)

    @classmethod
    def of(
        cls, status: budgets.BudgetStatus, basis: budgets.BudgetBasis, *, show_amounts: bool
    ) -> Budget:
        budget = status.budget
        return cls(
            used_percent=status.used_percent if show_amounts else None,
            mode=budget.mode,
            basis=basis,
            basis_is_default=budget.basis is None,
            thresholds=list(budget.thresholds),
            period=status.period.label,
            figures=status if show_amounts else None,
        )


async def budget_of(info: Info, status: budgets.BudgetStatus | None) -> Budget | None:
    if status is None:
        return None
    versions = await info.context.loaders.plans.load(status.budget.client_id)
    plan = plans.PlanTimeline(versions).in_force_at(info.context.now)
    basis = status.budget.basis_under(plan)
    shown = basis is not budgets.BudgetBasis.COST or info.context.principal.can_read_costs
    return Budget.of(status, basis, show_amounts=shown)


@strawberry.input
class BudgetInput:
    limit: Decimal = strawberry.field(description="Per billing period, in the client's currency.")
    mode: BudgetMode = BudgetMode.HARD
    basis: BudgetBasis | None = strawberry.field(
        default=None, description="Default: provider cost for fixed_price, the charge otherwise."
    )
    thresholds: list[int] = strawberry.field(
        default_factory=lambda: [50, 80, 100], description="Alert thresholds, percents."
    )


@strawberry.type
class SetBudgetSuccess:
    budget: Budget


@strawberry.type
class RemoveBudgetSuccess:
    removed: bool = strawberry.field(description="False when there was no budget.")


SetBudgetResult = Annotated[
    SetBudgetSuccess | ValidationError | NotFoundError, strawberry.union("SetBudgetResult")
]


RemoveBudgetResult = Annotated[
    RemoveBudgetSuccess | NotFoundError, strawberry.union("RemoveBudgetResult")
]


@mutation(permissions=WRITE, description="Set (or replace) the client's budget.")
async def set_budget(info: Info, client_id: strawberry.ID, input: BudgetInput) -> SetBudgetResult:
    async def run() -> SetBudgetSuccess:
        status = await info.context.management.set_client_budget(
            str(client_id), _budget_input(input)
        )
        return SetBudgetSuccess(budget=await _budget(info, status))

    return await attempt(run, _VN)


@mutation(permissions=WRITE, description="Set (or replace) a key's own budget.")
async def set_key_budget(info: Info, key_id: strawberry.ID, input: BudgetInput) -> SetBudgetResult:
    async def run() -> SetBudgetSuccess:
        status = await info.context.management.set_key_budget(str(key_id), _budget_input(input))
        return SetBudgetSuccess(budget=await _budget(info, status))

    return await attempt(run, _VN)


@mutation(permissions=WRITE)
async def remove_budget(info: Info, client_id: strawberry.ID) -> RemoveBudgetResult:
    async def run() -> RemoveBudgetSuccess:
        removed = await info.context.management.remove_client_budget(str(client_id))
        return RemoveBudgetSuccess(removed=removed)

    return await attempt(run, (NotFoundError,))


@mutation(permissions=WRITE)
async def remove_key_budget(info: Info, key_id: strawberry.ID) -> RemoveBudgetResult:
    async def run() -> RemoveBudgetSuccess:
        removed = await info.context.management.remove_key_budget(str(key_id))
        return RemoveBudgetSuccess(removed=removed)

    return await attempt(run, (NotFoundError,))


def _budget_input(given: BudgetInput) -> budget_cases.BudgetInput:
    return budget_cases.BudgetInput(
        limit=given.limit,
        mode=given.mode,
        basis=given.basis,
        thresholds=tuple(given.thresholds),
    )


async def _budget(info: Info, status: BudgetStatus) -> Budget:
    found = await budget_of(info, status)
    assert found is not None  # a status was given
    return found
