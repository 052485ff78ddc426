"""The GraphQL management API's schema. Importing this module has no side effects, so
`schema.graphql` can be exported from it (`print_schema(schema)`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    SchemaExtension,
)

from api.graphql.errors import should_mask_error
from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, MeasureFirst
from api.graphql.mutations import Mutation
from api.graphql.queries import Query

MAX_TOKENS = 2000

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_TOKENS", "build_schema", "schema"]

schema = strawberry.Schema(query=Query, mutation=Mutation)


def build_schema(*, development: bool) -> strawberry.Schema:
    """The served schema: a token limit at parse, then depth, alias and field limits with
    fragments expanded, measured before any validation rule runs (limits.py); introspection
    only in development; unexpected errors masked (their details go to the server log)."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        MeasureFirst,
        partial(MaskErrors, should_mask_error=should_mask_error),
    ]
    if not development:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)
