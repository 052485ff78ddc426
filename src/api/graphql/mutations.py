"""Mutations (POST only). Each returns a result union: the success type, or the typed
expected failure (ValidationError, NotFoundError, ConflictError) mapped from domain errors.
Role checks are field permissions (CanMutate, IsOwner) and again in the use cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from api.graphql.alerting import AlertMutations
from api.graphql.aliases import AliasMutations
from api.graphql.context import Info
from api.graphql.errors import ConflictError, NotFoundError, ValidationError, attempt
from api.graphql.fields import mutation
from api.graphql.inputs import (
    BudgetInput,
    CreateClientInput,
    CreateStaffTokenInput,
    IssueApiKeyInput,
    PricingInput,
    RateLimitsInput,
    SetModelPriceInput,
    UpdateClientInput,
)
from api.graphql.invoices import InvoiceMutations
from api.graphql.permissions import CanMutate, IsOwner
from api.graphql.types import (
    ApiKey,
    Budget,
    Client,
    Model,
    ModelPrice,
    PlanVersion,
    PortalToken,
    StaffToken,
    budget_of,
)
from domain import access, catalog
from domain.budgets import BudgetStatus
from domain.clients import ClientStatus
from domain.errors import NotFound
from domain.money import Money
from domain.pricing import FixedFee, FixedPrice, PercentageMargin, PricingPlan
from domain.usecases import budgets
from domain.usecases.clients import ClientChanges, NewClient
from domain.usecases.keys import NewKey

S = TypeVar("S")
F = TypeVar("F")
WRITE = [CanMutate]


@strawberry.type
class ClientSuccess:
    client: Client


@strawberry.type
class SetPricingSuccess:
    plan_version: PlanVersion


@strawberry.type
class IssueApiKeySuccess:
    secret: str = strawberry.field(description="Shown once; only its prefix is kept.")
    api_key: ApiKey


@strawberry.type
class RevokeApiKeySuccess:
    api_key: ApiKey


@strawberry.type
class ApiKeySuccess:
    api_key: ApiKey


@strawberry.type
class SetBudgetSuccess:
    budget: Budget


@strawberry.type
class RemoveBudgetSuccess:
    removed: bool = strawberry.field(description="False when there was no budget.")


@strawberry.type
class SetModelPriceSuccess:
    model: Model
    price: ModelPrice


@strawberry.type
class CreateStaffTokenSuccess:
    secret: str = strawberry.field(description="Shown once; only its digest is kept.")
    staff_token: StaffToken


@strawberry.type
class CreatePortalTokenSuccess:
    secret: str = strawberry.field(description="Shown once; only its digest is kept.")
    portal_token: PortalToken


@strawberry.type
class RevokeStaffTokenSuccess:
    staff_token: StaffToken


@strawberry.type
class RevokePortalTokenSuccess:
    portal_token: PortalToken


CreateClientResult = Annotated[
    ClientSuccess | ValidationError, strawberry.union("CreateClientResult")
]
ClientResult = Annotated[
    ClientSuccess | ValidationError | NotFoundError, strawberry.union("ClientResult")
]
SetPricingResult = Annotated[
    SetPricingSuccess | ValidationError | NotFoundError, strawberry.union("SetPricingResult")
]
IssueApiKeyResult = Annotated[
    IssueApiKeySuccess | ValidationError | NotFoundError, strawberry.union("IssueApiKeyResult")
]
RevokeApiKeyResult = Annotated[
    RevokeApiKeySuccess | NotFoundError, strawberry.union("RevokeApiKeyResult")
]
SetModelPriceResult = Annotated[
    SetModelPriceSuccess | ValidationError | ConflictError,
    strawberry.union("SetModelPriceResult"),
]
CreateStaffTokenResult = Annotated[
    CreateStaffTokenSuccess | ValidationError, strawberry.union("CreateStaffTokenResult")
]
CreatePortalTokenResult = Annotated[
    CreatePortalTokenSuccess | ValidationError | NotFoundError,
    strawberry.union("CreatePortalTokenResult"),
]

SetKeyRateLimitsResult = Annotated[
    ApiKeySuccess | ValidationError | NotFoundError, strawberry.union("SetKeyRateLimitsResult")
]
SetBudgetResult = Annotated[
    SetBudgetSuccess | ValidationError | NotFoundError, strawberry.union("SetBudgetResult")
]
RemoveBudgetResult = Annotated[
    RemoveBudgetSuccess | NotFoundError, strawberry.union("RemoveBudgetResult")
]
RevokeStaffTokenResult = Annotated[
    RevokeStaffTokenSuccess | NotFoundError, strawberry.union("RevokeStaffTokenResult")
]
RevokePortalTokenResult = Annotated[
    RevokePortalTokenSuccess | NotFoundError, strawberry.union("RevokePortalTokenResult")
]


def plan_of(given: PricingInput, currency: str) -> PricingPlan:
    if given.percentage_margin:
        return PercentageMargin(given.percentage_margin.percent)
    if given.fixed_fee:
        return FixedFee(Money(given.fixed_fee.monthly_fee, currency))
    if given.fixed_price:
        return FixedPrice(Money(given.fixed_price.monthly_price, currency))
    raise ValueError("a one-of input holds exactly one plan")  # GraphQL validation ensures it


_VN = (ValidationError, NotFoundError)


@strawberry.type
class Mutation(AlertMutations, InvoiceMutations, AliasMutations):
    @mutation(permissions=WRITE)
    async def create_client(self, info: Info, input: CreateClientInput) -> CreateClientResult:
        async def run() -> ClientSuccess:
            new = NewClient(
                name=input.name,
                plan=plan_of(input.pricing, input.currency),
                currency=input.currency,
                billing_email=input.billing_email,
                tax_rate=input.tax_rate,
                plan_effective_from=input.pricing_effective_from,
            )
            client, _ = await info.context.management.create_client(new)
            return ClientSuccess(client=Client.of(client))

        return await attempt(run, (ValidationError,))  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def update_client(
        self, info: Info, id: strawberry.ID, input: UpdateClientInput
    ) -> ClientResult:
        async def run() -> ClientSuccess:
            changes = ClientChanges(
                name=input.name,
                billing_email=input.billing_email,
                tax_rate=input.tax_rate,
                clear_billing_email=input.clear_billing_email,
            )
            client = await info.context.management.update_client(str(id), changes)
            return ClientSuccess(client=Client.of(client))

        return await attempt(run, _VN)  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def suspend_client(self, info: Info, id: strawberry.ID) -> ClientResult:
        return await _set_status(info, str(id), ClientStatus.SUSPENDED)

    @mutation(permissions=WRITE)
    async def resume_client(self, info: Info, id: strawberry.ID) -> ClientResult:
        return await _set_status(info, str(id), ClientStatus.ACTIVE)

    @mutation(permissions=WRITE)
    async def set_pricing(
        self,
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

        return await attempt(run, _VN)  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def issue_api_key(
        self, info: Info, client_id: strawberry.ID, input: IssueApiKeyInput
    ) -> IssueApiKeyResult:
        async def run() -> IssueApiKeySuccess:
            new = NewKey(
                client_id=str(client_id),
                name=input.name,
                expires_at=input.expires_at,
                allowed_models=tuple(input.allowed_models),
                rpm_limit=input.rpm_limit,
                tpm_limit=input.tpm_limit,
            )
            issued = await info.context.management.issue_key(new)
            return IssueApiKeySuccess(secret=issued.secret, api_key=ApiKey.of(issued.key))

        return await attempt(run, _VN)  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyResult:
        async def run() -> RevokeApiKeySuccess:
            key = await info.context.management.revoke_key(str(id))
            return RevokeApiKeySuccess(api_key=ApiKey.of(key))

        return await attempt(run, (NotFoundError,))  # type: ignore[return-value]

    @mutation(permissions=WRITE, description="Set (or replace) the client's budget.")
    async def set_budget(
        self, info: Info, client_id: strawberry.ID, input: BudgetInput
    ) -> SetBudgetResult:
        async def run() -> SetBudgetSuccess:
            status = await info.context.management.set_client_budget(
                str(client_id), _budget_input(input)
            )
            return SetBudgetSuccess(budget=await _budget(info, status))

        return await attempt(run, _VN)  # type: ignore[return-value]

    @mutation(permissions=WRITE, description="Set (or replace) a key's own budget.")
    async def set_key_budget(
        self, info: Info, key_id: strawberry.ID, input: BudgetInput
    ) -> SetBudgetResult:
        async def run() -> SetBudgetSuccess:
            status = await info.context.management.set_key_budget(str(key_id), _budget_input(input))
            return SetBudgetSuccess(budget=await _budget(info, status))

        return await attempt(run, _VN)  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def remove_budget(self, info: Info, client_id: strawberry.ID) -> RemoveBudgetResult:
        async def run() -> RemoveBudgetSuccess:
            removed = await info.context.management.remove_client_budget(str(client_id))
            return RemoveBudgetSuccess(removed=removed)

        return await attempt(run, (NotFoundError,))  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def remove_key_budget(self, info: Info, key_id: strawberry.ID) -> RemoveBudgetResult:
        async def run() -> RemoveBudgetSuccess:
            removed = await info.context.management.remove_key_budget(str(key_id))
            return RemoveBudgetSuccess(removed=removed)

        return await attempt(run, (NotFoundError,))  # type: ignore[return-value]

    @mutation(permissions=WRITE, description="Effective on the key's next request.")
    async def set_key_rate_limits(
        self, info: Info, key_id: strawberry.ID, input: RateLimitsInput
    ) -> SetKeyRateLimitsResult:
        async def run() -> ApiKeySuccess:
            key = await info.context.management.set_key_rate_limits(
                str(key_id), input.rpm_limit, input.tpm_limit
            )
            return ApiKeySuccess(api_key=ApiKey.of(key))

        return await attempt(run, _VN)  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def set_model_price(self, info: Info, input: SetModelPriceInput) -> SetModelPriceResult:
        async def run() -> SetModelPriceSuccess:
            model_id = input.model if "/" in input.model else f"{input.provider}/{input.model}"
            name = model_id.partition("/")[2]
            model = catalog.Model(model_id, input.provider, input.upstream_name or name)
            price = catalog.PriceVersion(
                model_id=model_id,
                effective_from=input.effective_from or info.context.now,
                input=input.input_per_million,
                output=input.output_per_million,
                cached_input=input.cached_input_per_million,
                cache_write=input.cache_write_per_million,
                reasoning=input.reasoning_per_million,
                currency=input.currency,
            )
            management = info.context.management
            stored = await management.set_model_price(model, price)
            saved = next(m for m in await management.models() if m.id == model_id)
            return SetModelPriceSuccess(model=Model.of(saved), price=ModelPrice.of(stored))

        return await attempt(run, (ValidationError, ConflictError))  # type: ignore[return-value]

    @mutation(permissions=[IsOwner])
    async def create_staff_token(
        self, info: Info, input: CreateStaffTokenInput
    ) -> CreateStaffTokenResult:
        async def run() -> CreateStaffTokenSuccess:
            issued = await info.context.management.create_staff_token(
                input.name, access.Role(input.role), input.email
            )
            return CreateStaffTokenSuccess(
                secret=issued.secret, staff_token=StaffToken.of(issued.token)
            )

        return await attempt(run, (ValidationError,))  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def create_portal_token(
        self, info: Info, client_id: strawberry.ID, name: str = "portal"
    ) -> CreatePortalTokenResult:
        async def run() -> CreatePortalTokenSuccess:
            issued = await info.context.management.create_portal_token(str(client_id), name)
            return CreatePortalTokenSuccess(
                secret=issued.secret, portal_token=PortalToken.of(issued.token)
            )

        return await attempt(run, _VN)  # type: ignore[return-value]

    @mutation(permissions=[IsOwner])
    async def revoke_staff_token(self, info: Info, id: strawberry.ID) -> RevokeStaffTokenResult:
        async def run() -> RevokeStaffTokenSuccess:
            token = await info.context.management.revoke_staff_token(str(id))
            return RevokeStaffTokenSuccess(staff_token=StaffToken.of(token))

        return await attempt(run, (NotFoundError,))  # type: ignore[return-value]

    @mutation(permissions=WRITE)
    async def revoke_portal_token(self, info: Info, id: strawberry.ID) -> RevokePortalTokenResult:
        async def run() -> RevokePortalTokenSuccess:
            token = await info.context.management.revoke_portal_token(str(id))
            return RevokePortalTokenSuccess(portal_token=PortalToken.of(token))

        return await attempt(run, (NotFoundError,))  # type: ignore[return-value]


async def _set_status(info: Info, client_id: str, status: ClientStatus) -> ClientResult:
    async def run() -> ClientSuccess:
        client = await info.context.management.set_status(client_id, status)
        return ClientSuccess(client=Client.of(client))

    return await attempt(run, _VN)  # type: ignore[return-value]


def _budget_input(given: BudgetInput) -> budgets.BudgetInput:
    return budgets.BudgetInput(
        limit=given.limit,
        mode=given.mode,
        basis=given.basis,
        thresholds=tuple(given.thresholds),
    )


async def _budget(info: Info, status: BudgetStatus) -> Budget:
    found = await budget_of(info, status)
    assert found is not None  # a status was given
    return found
