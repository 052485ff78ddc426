"""What every feature's types share: Money (always `Money { amount: Decimal!, currency:
String! }`), the token counts of a usage row, and `costs` for the fields only staff may read
(provider cost, profit and margin: nullable, so a refused field does not take its siblings
down with it)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar, cast

import strawberry
from strawberry.permission import BasePermission

from api.graphql.permissions import CanReadCosts
from domain.billing.money import Money as DomainMoney
from domain.metering.tokens import TokenUsage

R = TypeVar("R")


def costs(resolver: Callable[..., R]) -> R:
    """A field only staff may read (provider cost, profit, margin); refused for a portal."""
    return cast(R, strawberry.field(resolver, permission_classes=[CanReadCosts]))


def described(description: str, *, costs_only: bool = False) -> Callable[[Callable[..., R]], R]:
    """A resolver with a description for the schema (typed, unlike `strawberry.field(...)` used
    as a decorator); `costs_only` makes it a `costs` field."""
    permissions: list[type[BasePermission]] = [CanReadCosts] if costs_only else []

    def wrap(resolver: Callable[..., R]) -> R:
        field = strawberry.field(resolver, permission_classes=permissions, description=description)
        return cast(R, field)

    return wrap


@strawberry.type
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, money: DomainMoney) -> Money:
        return cls(amount=money.amount, currency=money.currency)


@strawberry.interface
class TokenCounts:
    """Token totals in product.md's convention: input includes cached and cache-write tokens,
    output includes reasoning tokens."""

    requests: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int


def counts(requests: int, tokens: TokenUsage) -> dict[str, int]:
    return {
        "requests": requests,
        "input_tokens": tokens.input_tokens,
        "cached_input_tokens": tokens.cached_input_tokens,
        "cache_write_tokens": tokens.cache_write_tokens,
        "output_tokens": tokens.output_tokens,
        "reasoning_tokens": tokens.reasoning_tokens,
    }
