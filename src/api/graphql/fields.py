"""Typed decorators for resolver fields (strawberry's keyword-only overloads return Any,
which mypy strict refuses as an untyped decorator)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import strawberry
from strawberry.permission import BasePermission

F = TypeVar("F", bound=Callable[..., Any])


def field(
    *, description: str | None = None, permissions: Sequence[type[BasePermission]] = ()
) -> Callable[[F], F]:
    def decorate(resolver: F) -> F:
        made = strawberry.field(
            resolver, description=description, permission_classes=list(permissions)
        )
        return cast(F, made)

    return decorate


def mutation(
    *, description: str | None = None, permissions: Sequence[type[BasePermission]] = ()
) -> Callable[[F], F]:
    def decorate(resolver: F) -> F:
        made = strawberry.mutation(
            resolver, description=description, permission_classes=list(permissions)
        )
        return cast(F, made)

    return decorate
