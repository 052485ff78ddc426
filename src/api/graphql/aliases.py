"""Model aliases in the management API (docs/aliases.md): the `modelAliases` and `aliasUsage`
queries and the `setModelAlias`/`removeModelAlias` mutations, mixed into Query and Mutation.

Staff read every alias and owners and admins change them; a portal token reads the aliases its
client may call (its own and the agency's) and its own calls through them, at its price (no
provider cost)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate, CanReadCosts
from api.graphql.shared import Money, TokenCounts
from domain.billing.money import Money as DomainMoney
from domain.catalog import aliases
from domain.metering.usage import UsageTotals
from domain.usecases.aliases import AliasInput


@strawberry.type
class ModelAlias:
    name: str
    model_id: strawberry.ID = strawberry.field(description="The catalog model it calls.")
    client_id: strawberry.ID | None = strawberry.field(
        description="null: the agency's alias, for every client (a client's own alias of the "
        "same name wins)."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, alias: aliases.ModelAlias) -> ModelAlias:
        return cls(
            name=alias.name,
            model_id=strawberry.ID(alias.model_id),
            client_id=None if alias.client_id is None else strawberry.ID(alias.client_id),
            created_at=alias.created_at,
            updated_at=alias.updated_at,
        )


@strawberry.type
class AliasUsage(TokenCounts):
    """A client's calls through one alias answered by one model, in a month (each provider
    attempt counted where it was billed)."""

    alias: str
    model: str = strawberry.field(description="The catalog model that answered.")
    charge: Money
    cost_amount: strawberry.Private[DomainMoney]

    @field(permissions=[CanReadCosts], description="Provider cost: staff only.")
    def cost(self) -> Money | None:
        return Money.of(self.cost_amount)

    @classmethod
    def of(cls, row: UsageTotals) -> AliasUsage:
        tokens = row.tokens
        return cls(
            alias=row.alias or "",
            model=row.model_id or "",
            charge=Money.of(row.charge),
            cost_amount=row.cost,
            requests=row.requests,
            input_tokens=tokens.input_tokens,
            cached_input_tokens=tokens.cached_input_tokens,
            cache_write_tokens=tokens.cache_write_tokens,
            output_tokens=tokens.output_tokens,
            reasoning_tokens=tokens.reasoning_tokens,
        )


@strawberry.input
class SetModelAliasInput:
    name: str = strawberry.field(
        description="Letters, digits, '.', '_' and '-' (no '/'): e.g. gpt-4o, my-support-bot."
    )
    model_id: strawberry.ID = strawberry.field(description="A catalog model id (provider/model).")
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="null: for every client (the agency's alias)."
    )


@strawberry.type
class SetModelAliasSuccess:
    alias: ModelAlias


@strawberry.type
class RemoveModelAliasSuccess:
    alias: ModelAlias


SetModelAliasResult = Annotated[
    SetModelAliasSuccess | ValidationError | NotFoundError,
    strawberry.union("SetModelAliasResult"),
]
RemoveModelAliasResult = Annotated[
    RemoveModelAliasSuccess | NotFoundError, strawberry.union("RemoveModelAliasResult")
]


@field(
    description="Model aliases: every one (staff), or those a client may call, its own "
    "winning over the agency's of the same name (a portal token: its client's)."
)
async def model_aliases(info: Info, client_id: strawberry.ID | None = None) -> list[ModelAlias]:
    scope = None if client_id is None else str(client_id)
    found = await visible(info.context.management.aliases.list(scope))
    return [ModelAlias.of(a) for a in found]


@field(
    description='A client\'s calls through aliases in a month "YYYY-MM" (default: the '
    "current one), per alias and answering model."
)
async def alias_usage(
    info: Info, client_id: strawberry.ID, period: str | None = None
) -> list[AliasUsage]:
    rows = await visible(info.context.management.aliases.usage(str(client_id), period))
    return [AliasUsage.of(row) for row in rows]


@mutation(
    permissions=[CanMutate],
    description="Create an alias, or point an existing one (same client, same name) at "
    "another model; calls resolve it at once.",
)
async def set_model_alias(info: Info, input: SetModelAliasInput) -> SetModelAliasResult:
    async def run() -> SetModelAliasSuccess:
        new = AliasInput(
            name=input.name,
            model_id=str(input.model_id),
            client_id=None if input.client_id is None else str(input.client_id),
        )
        alias = await info.context.management.aliases.set(new)
        return SetModelAliasSuccess(alias=ModelAlias.of(alias))

    return await attempt(run, (ValidationError, NotFoundError))


@mutation(
    permissions=[CanMutate],
    description="Remove an alias (client_id null: the agency's); calls stop resolving it.",
)
async def remove_model_alias(
    info: Info, name: str, client_id: strawberry.ID | None = None
) -> RemoveModelAliasResult:
    async def run() -> RemoveModelAliasSuccess:
        scope = None if client_id is None else str(client_id)
        alias = await info.context.management.aliases.remove(scope, name)
        return RemoveModelAliasSuccess(alias=ModelAlias.of(alias))

    return await attempt(run, (NotFoundError,))
