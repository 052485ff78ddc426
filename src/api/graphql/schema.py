"""The GraphQL management API (starting small: the management operations come with their own
issue). Importing this module has no side effects, so `schema.graphql` can be exported from it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from importlib.metadata import PackageNotFoundError, version

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15


def _version() -> str:
    try:
        return version("bizgraph")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@strawberry.type
class Query:
    version: str = strawberry.field(
        resolver=_version, description="The version of Bizgraph serving this API."
    )


schema = strawberry.Schema(query=Query)


def build_schema(*, development: bool) -> strawberry.Schema:
    """The served schema: depth, token and alias limits always; introspection only in
    development; unexpected errors masked (their details go to the server log)."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        MaskErrors,
    ]
    if not development:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(query=Query, extensions=extensions)
