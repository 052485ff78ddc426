"""The model catalog: models, their provider prices (staff only) and `setModelPrice`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import ConflictError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.model_routes import model_routes
from api.graphql.permissions import CanMutate, CanReadCosts
from domain.catalog import models as catalog

# strawberry.enum registers the GraphQL name on the domain enum itself (and returns it): the
# domain enum is the GraphQL type, named here once; the alias keeps it a valid annotation.
strawberry.enum(catalog.ModelKind, name="ModelKind")
ModelKind: TypeAlias = catalog.ModelKind
WRITE = [CanMutate]


@strawberry.type
class ModelPrice:
    """A provider's price per million tokens from `effectiveFrom` (null: billed like the
    parent class)."""

    id: strawberry.ID
    effective_from: datetime
    currency: str
    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    reasoning_per_million: Decimal | None

    @classmethod
    def of(cls, price: catalog.PriceVersion) -> ModelPrice:
        return cls(
            id=strawberry.ID(price.id),
            effective_from=price.effective_from,
            currency=price.currency,
            input_per_million=price.input,
            output_per_million=price.output,
            cached_input_per_million=price.cached_input,
            cache_write_per_million=price.cache_write,
            reasoning_per_million=price.reasoning,
        )


@strawberry.type
class Model:
    id: strawberry.ID
    provider: str
    upstream_name: str
    kind: ModelKind
    max_output_tokens: int
    context_window: int
    fallbacks: list[str]

    @field(description="The gateway routes it is called through (natively or translated).")
    def routes(self) -> list[str]:
        return model_routes(self.kind)

    @field(permissions=[CanReadCosts])
    async def prices(self, info: Info) -> list[ModelPrice] | None:
        history = await visible(info.context.management.prices(self.id))
        return [ModelPrice.of(v) for v in history.versions]

    @classmethod
    def of(cls, model: catalog.Model) -> Model:
        return cls(
            id=strawberry.ID(model.id),
            provider=model.provider,
            upstream_name=model.upstream_name,
            kind=model.kind,
            max_output_tokens=model.max_output_tokens,
            context_window=model.context_window,
            fallbacks=list(model.fallbacks),
        )


@strawberry.input
class SetModelPriceInput:
    model: str = strawberry.field(description='"provider/name", or a name under `provider`.')
    provider: str
    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None = None
    cache_write_per_million: Decimal | None = None
    reasoning_per_million: Decimal | None = None
    currency: str = "USD"
    effective_from: datetime | None = strawberry.field(default=None, description="Default: now.")
    upstream_name: str | None = strawberry.field(
        default=None, description="What the provider calls it (a new model only)."
    )


@strawberry.type
class SetModelPriceSuccess:
    model: Model
    price: ModelPrice


SetModelPriceResult = Annotated[
    SetModelPriceSuccess | ValidationError | ConflictError,
    strawberry.union("SetModelPriceResult"),
]


@field(description="The model catalog.")
async def models(info: Info) -> list[Model]:
    return [Model.of(m) for m in await info.context.management.models()]


@mutation(permissions=WRITE)
async def set_model_price(info: Info, input: SetModelPriceInput) -> SetModelPriceResult:
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

    return await attempt(run, (ValidationError, ConflictError))
