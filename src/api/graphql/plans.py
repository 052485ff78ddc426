"""Plans: a client's pricing (percentage margin, fixed fee, fixed price) and its versions over
time, and `setPricing`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt
from api.graphql.fields import mutation
from api.graphql.permissions import CanMutate
from api.graphql.shared import Money
from domain.billing import plans
from domain.billing.money import Money as DomainMoney
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PricingPlan
from domain.errors import NotFound

WRITE = [CanMutate]
_VN = (ValidationError, NotFoundError)


@strawberry.type(name="PercentageMargin")
class PercentageMarginPlan:
    percent: Decimal


@strawberry.type(name="FixedFee")
class FixedFeePlan:
    monthly_fee: Money


@strawberry.type(name="FixedPrice")
class FixedPricePlan:
    monthly_price: Money


Pricing = Annotated[
    PercentageMarginPlan | FixedFeePlan | FixedPricePlan, strawberry.union("Pricing")
]


def pricing_of(plan: plans.PricingPlan) -> PercentageMarginPlan | FixedFeePlan | FixedPricePlan:
    if isinstance(plan, plans.PercentageMargin):
        return PercentageMarginPlan(percent=plan.percent)
    if isinstance(plan, plans.FixedFee):
        return FixedFeePlan(monthly_fee=Money.of(plan.monthly_fee))
    return FixedPricePlan(monthly_price=Money.of(plan.monthly_price))


@strawberry.type
class PlanVersion:
    id: strawberry.ID
    effective_from: datetime
    created_at: datetime
    pricing: Pricing

    @classmethod
    def of(cls, version: plans.PlanVersion) -> PlanVersion:
        return cls(
            id=strawberry.ID(version.id),
            effective_from=version.effective_from,
            created_at=version.created_at,
            pricing=pricing_of(version.plan),
        )


@strawberry.input
class PercentageMarginInput:
    percent: Decimal


@strawberry.input
class FixedFeeInput:
    monthly_fee: Decimal = strawberry.field(description="In the client's currency.")


@strawberry.input
class FixedPriceInput:
    monthly_price: Decimal = strawberry.field(description="In the client's currency.")


@strawberry.input(one_of=True, description="Exactly one plan.")
class PricingInput:
    percentage_margin: PercentageMarginInput | None = strawberry.UNSET
    fixed_fee: FixedFeeInput | None = strawberry.UNSET
    fixed_price: FixedPriceInput | None = strawberry.UNSET


@strawberry.type
class SetPricingSuccess:
    plan_version: PlanVersion


SetPricingResult = Annotated[
    SetPricingSuccess | ValidationError | NotFoundError, strawberry.union("SetPricingResult")
]


def plan_of(given: PricingInput, currency: str) -> PricingPlan:
    if given.percentage_margin:
        return PercentageMargin(given.percentage_margin.percent)
    if given.fixed_fee:
        return FixedFee(DomainMoney(given.fixed_fee.monthly_fee, currency))
    if given.fixed_price:
        return FixedPrice(DomainMoney(given.fixed_price.monthly_price, currency))
    raise ValueError("a one-of input holds exactly one plan")  # GraphQL validation ensures it


@mutation(permissions=WRITE)
async def set_pricing(
    info: Info,
    client_id: strawberry.ID,
    pricing: PricingInput,
    effective_from: datetime | None = None,
) -> SetPricingResult:
    async def run() -> SetPricingSuccess:
        management = info.context.management
        client = await management.client(str(client_id))
        if client is None:
            raise NotFound(f"no client {client_id}")
        plan = plan_of(pricing, client.currency)
        version = await management.set_plan(client.id, plan, effective_from)
        return SetPricingSuccess(plan_version=PlanVersion.of(version))

    return await attempt(run, _VN)
