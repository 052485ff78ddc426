"""Expected failures as types a caller branches on, and the errors that may show their message.

Mutations return result unions (`CreateClientSuccess | ValidationError | NotFoundError`, ...);
queries raise `PublicError` for expected failures (a bad period, say). Everything else is
masked by MaskErrors (`should_mask_error`): the caller sees "Unexpected error.", the server log
has the details.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

import strawberry
from graphql import GraphQLError

from domain.access.principals import NotAllowed
from domain.errors import Conflict, DomainError, NotFound, StoreUnavailable, WriteConflict

T = TypeVar("T")


class PublicError(GraphQLError):
    """An expected error whose message is safe to show."""


def should_mask_error(error: GraphQLError) -> bool:
    """Show syntax, validation and limit errors (no original exception), deliberate public
    errors (permission refusals among them) and expected domain failures that a resolver did
    not turn into a typed error (their messages are written for callers); mask everything
    else."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | DomainError)


@strawberry.type
class ValidationError:
    message: str
    code: str = "validation_error"


@strawberry.type
class NotFoundError:
    message: str
    code: str = "not_found"


@strawberry.type
class ConflictError:
    message: str
    code: str = "conflict"


@strawberry.type
class NotAllowedError:
    message: str
    code: str = "not_allowed"


Failure = ValidationError | NotFoundError | ConflictError | NotAllowedError


def failure(exc: DomainError) -> Failure:
    """The typed error for an expected domain failure."""
    if isinstance(exc, NotFound):
        return NotFoundError(message=exc.message, code=exc.code)
    if isinstance(exc, Conflict):
        return ConflictError(message=exc.message, code=exc.code)
    if isinstance(exc, NotAllowed):
        return NotAllowedError(message=exc.message, code=exc.code)
    return ValidationError(message=exc.message, code=exc.code)


def public(exc: DomainError) -> PublicError:
    return PublicError(exc.message, extensions={"code": exc.code})


async def visible(awaitable: Awaitable[T]) -> T:
    """Await a use case in a query: an expected failure becomes a visible error."""
    try:
        return await awaitable
    except DomainError as exc:
        raise public(exc) from exc


# The typed failures an operation's union may hold, one type variable each: `attempt` returns
# the success type or exactly the failures it was given, so a resolver's declared result union
# is checked by mypy instead of silenced.
E1 = TypeVar("E1", ValidationError, NotFoundError, ConflictError, NotAllowedError)
E2 = TypeVar("E2", ValidationError, NotFoundError, ConflictError, NotAllowedError)
E3 = TypeVar("E3", ValidationError, NotFoundError, ConflictError, NotAllowedError)


@overload
async def attempt(run: Callable[[], Awaitable[T]], allowed: tuple[type[E1]]) -> T | E1: ...


@overload
async def attempt(
    run: Callable[[], Awaitable[T]], allowed: tuple[type[E1], type[E2]]
) -> T | E1 | E2: ...


@overload
async def attempt(
    run: Callable[[], Awaitable[T]], allowed: tuple[type[E1], type[E2], type[E3]]
) -> T | E1 | E2 | E3: ...


async def attempt(run: Callable[[], Awaitable[T]], allowed: tuple[type, ...]) -> T | Failure:
    """Run a use case in a mutation; an expected failure becomes its typed error when the
    operation's union holds that type (`allowed`). Anything else propagates (and is masked)."""
    try:
        return await run()
    except (StoreUnavailable, WriteConflict) as exc:  # no typed failure of the operation
        raise public(exc) from exc
    except DomainError as exc:
        typed = failure(exc)
        if isinstance(typed, allowed):
            return typed
        raise
