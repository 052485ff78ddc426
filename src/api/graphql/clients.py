"""Clients: the client type with everything hanging off it (keys, pricing, budget, alerts,
portal tokens, usage), the `clients`/`client` queries and the mutations that create, change,
suspend and resume one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.alerts import Alert, alerts_of
from api.graphql.budgets import Budget, budget_of
from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.keys import ApiKey
from api.graphql.permissions import CanMutate, IsStaff
from api.graphql.plans import PlanVersion, Pricing, PricingInput, plan_of, pricing_of
from api.graphql.staff import PortalToken
from api.graphql.usage import ClientUsage
from domain.billing import clients as domain_clients
from domain.billing import plans
from domain.usecases.clients import ClientChanges, NewClient

# strawberry.enum registers the GraphQL name on the domain enum itself (and returns it): the
# domain enum is the GraphQL type, named here once; the alias keeps it a valid annotation.
strawberry.enum(domain_clients.ClientStatus, name="ClientStatus")
ClientStatus: TypeAlias = domain_clients.ClientStatus
WRITE = [CanMutate]
_VN = (ValidationError, NotFoundError)


@strawberry.type
class Client:
    id: strawberry.ID
    name: str
    status: ClientStatus
    currency: str
    billing_email: str | None
    tax_rate: Decimal
    created_at: datetime

    @strawberry.field
    async def api_keys(self, info: Info) -> list[ApiKey]:
        found = await visible(info.context.loaders.keys.load(self.id))
        return [ApiKey.of(key) for key in found]

    @field(description="The plan in force now (null before the first version).")
    async def pricing(self, info: Info) -> Pricing | None:
        versions = await info.context.loaders.plans.load(self.id)
        current = plans.PlanTimeline(versions).in_force_at(info.context.now)
        return None if current is None else pricing_of(current.plan)

    @strawberry.field
    async def pricing_history(self, info: Info) -> list[PlanVersion]:
        versions = await info.context.loaders.plans.load(self.id)
        return [PlanVersion.of(v) for v in versions]

    @field(description="The client's budget (null when it has none).")
    async def budget(self, info: Info) -> Budget | None:
        status = await info.context.loaders.budgets.load((self.id, None))
        return await budget_of(info, status)

    @field(description="The client's alerts, newest first.")
    async def alerts(
        self, info: Info, unacknowledged_only: bool = False, first: int = 50
    ) -> list[Alert]:
        return await alerts_of(info, str(self.id), unacknowledged_only, first)

    @field(
        description="The client's portal tokens (prefixes only), oldest first; staff only.",
        permissions=[IsStaff],
    )
    async def portal_tokens(self, info: Info) -> list[PortalToken]:
        tokens = await visible(info.context.management.portal_tokens(self.id))
        return [PortalToken.of(token) for token in tokens]

    @field(description='Usage and figures for a month "YYYY-MM" (default: now).')
    async def usage(self, info: Info, period: str | None = None) -> ClientUsage:
        draft = await visible(info.context.loaders.drafts.load((self.id, period)))
        return ClientUsage.of(self.id, draft)

    @classmethod
    def of(cls, client: domain_clients.Client) -> Client:
        return cls(
            id=strawberry.ID(client.id),
            name=client.name,
            status=client.status,
            currency=client.currency,
            billing_email=client.billing_email,
            tax_rate=client.tax_rate,
            created_at=client.created_at,
        )


def clients_of(found: Sequence[domain_clients.Client]) -> list[Client]:
    return [Client.of(c) for c in found]


@strawberry.input
class CreateClientInput:
    name: str
    pricing: PricingInput
    currency: str = "USD"
    billing_email: str | None = None
    tax_rate: Decimal = Decimal(0)
    pricing_effective_from: datetime | None = strawberry.field(
        default=None, description="Default: the client's creation; may be earlier, never later."
    )


@strawberry.input
class UpdateClientInput:
    name: str | None = None
    billing_email: str | None = None
    tax_rate: Decimal | None = None
    clear_billing_email: bool = False


@strawberry.type
class ClientSuccess:
    client: Client


CreateClientResult = Annotated[
    ClientSuccess | ValidationError, strawberry.union("CreateClientResult")
]


ClientResult = Annotated[
    ClientSuccess | ValidationError | NotFoundError, strawberry.union("ClientResult")
]


@field(description="The clients this token may see (a portal token: its own).")
async def clients(info: Info) -> list[Client]:
    return clients_of(await info.context.management.clients())


@field(description="A client, or null when it does not exist or is not visible.")
async def client(info: Info, id: strawberry.ID) -> Client | None:
    found = await visible(info.context.management.client(str(id)))
    return None if found is None else Client.of(found)


@mutation(permissions=WRITE)
async def create_client(info: Info, input: CreateClientInput) -> CreateClientResult:
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

    return await attempt(run, (ValidationError,))


@mutation(permissions=WRITE)
async def update_client(info: Info, id: strawberry.ID, input: UpdateClientInput) -> ClientResult:
    async def run() -> ClientSuccess:
        changes = ClientChanges(
            name=input.name,
            billing_email=input.billing_email,
            tax_rate=input.tax_rate,
            clear_billing_email=input.clear_billing_email,
        )
        client = await info.context.management.update_client(str(id), changes)
        return ClientSuccess(client=Client.of(client))

    return await attempt(run, _VN)


@mutation(permissions=WRITE)
async def suspend_client(info: Info, id: strawberry.ID) -> ClientResult:
    return await _set_status(info, str(id), ClientStatus.SUSPENDED)


@mutation(permissions=WRITE)
async def resume_client(info: Info, id: strawberry.ID) -> ClientResult:
    return await _set_status(info, str(id), ClientStatus.ACTIVE)


async def _set_status(info: Info, client_id: str, status: ClientStatus) -> ClientResult:
    async def run() -> ClientSuccess:
        client = await info.context.management.set_status(client_id, status)
        return ClientSuccess(client=Client.of(client))

    return await attempt(run, _VN)
