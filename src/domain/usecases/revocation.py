"""Revoking a stored bearer secret (an API key, a staff token, a portal token): one rule for
the three (domain/access/revocation.py), in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.access.revocation import R, RevocableStore, revoked
from domain.errors import NotFound
from domain.ports import UnitOfWork, UnitOfWorkFactory


async def revoke_stored(
    uow: UnitOfWorkFactory,
    store: Callable[[UnitOfWork], RevocableStore[R]],
    item_id: str,
    what: str,
    now: datetime,
) -> R:
    """Revoke the stored `what` named `item_id` at `now` (NotFound when there is none);
    revoking it again keeps the first revocation."""
    async with uow() as tx:
        repository = store(tx)
        item = await repository.get(item_id)
        if item is None:
            raise NotFound(f"no {what} {item_id}")
        item = revoked(item, now)
        await repository.update(item)
        await tx.commit()
    return item
