"""The one revocation rule of every bearer secret (API keys, staff tokens, portal tokens):
revoking is final and keeps the instant of the first revocation (revoking again changes
nothing), and a stored secret is revoked in one transaction, or is not found."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar


class Revocable(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]  # a dataclass, so `replace` applies

    @property
    def revoked_at(self) -> datetime | None: ...


R = TypeVar("R", bound=Revocable)


class RevocableStore(Protocol[R]):
    """What revoking needs of a repository (the API keys', the staff or portal tokens')."""

    async def get(self, item_id: str, /) -> R | None: ...
    async def update(self, item: R, /) -> None: ...


def revoked(item: R, at: datetime) -> R:
    """`item` revoked at `at`, or as it is when it was revoked already."""
    return item if item.revoked_at is not None else replace(item, revoked_at=at)
