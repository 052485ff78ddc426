"""Model aliases (domain/catalog/aliases.py): set, list and remove them, and see the calls made
through them. `AliasDesk` is what one principal may do: staff read every alias, owners and admins
change them; a portal token sees the aliases its client may call (its own and the agency's)
and its own usage through them, and changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.access.principals import NotAllowed, Principal
from domain.catalog.aliases import ModelAlias, check_alias_name
from domain.errors import NotFound, UnknownModel
from domain.metering.usage import UsageTotals
from domain.ports import Clock, UnitOfWorkFactory
from domain.usecases.reports import ReportUseCases


@dataclass(frozen=True, slots=True)
class AliasInput:
    name: str
    model_id: str
    client_id: str | None = None  # None: for every client


class AliasUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def set(self, new: AliasInput) -> ModelAlias:
        """Create the alias, or point an existing one (same client, same name) at another
        model. The model must be in the catalog and the client must exist. Calls resolve it
        on this process's next request, within a second in others (runtime/lookups.py)."""
        check_alias_name(new.name)
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.catalog.get_model(new.model_id) is None:
                raise UnknownModel(f"no model {new.model_id!r} in the catalog")
            if new.client_id is not None and await uow.clients.get(new.client_id) is None:
                raise NotFound(f"no client {new.client_id}")
            stored = {a.key: a for a in await uow.catalog.aliases()}.get((new.client_id, new.name))
            created = now if stored is None else stored.created_at
            alias = ModelAlias(new.name, new.model_id, new.client_id, created, now)
            await uow.catalog.save_alias(alias)
            await uow.commit()
        return alias

    async def remove(self, client_id: str | None, name: str) -> ModelAlias:
        async with self._uow() as uow:
            stored = {a.key: a for a in await uow.catalog.aliases()}.get((client_id, name))
            if stored is None or not await uow.catalog.remove_alias(client_id, name):
                whose = "agency-wide" if client_id is None else f"of client {client_id}"
                raise NotFound(f"no alias {name!r} {whose}")
            await uow.commit()
        return stored

    async def list(self, client_id: str | None = None) -> Sequence[ModelAlias]:
        """Every alias; with `client_id`, those that client may call (its own and the
        agency-wide ones, its own winning over an agency-wide one of the same name)."""
        async with self._uow() as uow:
            found = await uow.catalog.aliases()
        if client_id is None:
            return found
        own = {a.name for a in found if a.client_id == client_id}
        return [
            a
            for a in found
            if a.client_id == client_id or (a.client_id is None and a.name not in own)
        ]


class AliasDesk:
    """Aliases as one principal may use them (Management.aliases)."""

    def __init__(
        self, principal: Principal, aliases: AliasUseCases, reports: ReportUseCases
    ) -> None:
        self._principal = principal
        self._aliases = aliases
        self._reports = reports

    def _require_write(self) -> None:
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not change aliases (owner or admin only)")

    async def list(self, client_id: str | None) -> Sequence[ModelAlias]:
        """Staff: every alias, or those `client_id` may call. A portal token: its client's
        (another client's: none, as for an unknown id)."""
        own = self._principal.client_id
        if own is not None:
            if client_id not in (None, own):
                return []
            return await self._aliases.list(own)
        return await self._aliases.list(client_id)

    async def usage(self, client_id: str, period: str | None) -> Sequence[UsageTotals]:
        """Another client's (for a portal token): none, as for an unknown id."""
        if not self._principal.may_see_client(client_id):
            return []
        return await self._reports.by_alias(client_id, period)

    async def set(self, new: AliasInput) -> ModelAlias:
        self._require_write()
        return await self._aliases.set(new)

    async def remove(self, client_id: str | None, name: str) -> ModelAlias:
        self._require_write()
        return await self._aliases.remove(client_id, name)
