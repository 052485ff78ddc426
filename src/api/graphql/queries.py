"""Queries. Every read goes through Management, scoped by the caller's principal."""

from __future__ import annotations

import strawberry

from api.graphql.alerting import AlertQueries
from api.graphql.context import Info
from api.graphql.errors import visible
from api.graphql.fields import field
from api.graphql.invoices import InvoiceQueries
from api.graphql.permissions import IsOwner
from api.graphql.reconciliation import ReconciliationQueries
from api.graphql.schema_version import version
from api.graphql.types import Client, Me, Model, Overview, StaffToken, clients_of


@strawberry.type
class Query(AlertQueries, InvoiceQueries, ReconciliationQueries):
    version: str = strawberry.field(
        resolver=version, description="The version of Bizgraph serving this API."
    )

    @field(description="Who this token is.")
    def me(self, info: Info) -> Me:
        return Me.of(info.context.principal)

    @field(
        description="The agency's time zone (IANA name, e.g. Europe/Paris): periods and days "
        "are counted in it, and the web apps show dates in it."
    )
    def time_zone(self, info: Info) -> str:
        return info.context.management.time_zone()

    @field(description="The clients this token may see (a portal token: its own).")
    async def clients(self, info: Info) -> list[Client]:
        return clients_of(await info.context.management.clients())

    @field(description="A client, or null when it does not exist or is not visible.")
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        found = await visible(info.context.management.client(str(id)))
        return None if found is None else Client.of(found)

    @field(description="The model catalog.")
    async def models(self, info: Info) -> list[Model]:
        return [Model.of(m) for m in await info.context.management.models()]

    @field(description='Figures for a month "YYYY-MM" (default: the current one).')
    async def overview(self, info: Info, period: str | None = None) -> Overview:
        return Overview.of(await visible(info.context.management.overview(period)))

    @field(permissions=[IsOwner])
    async def staff_tokens(self, info: Info) -> list[StaffToken]:
        return [StaffToken.of(t) for t in await info.context.management.staff_tokens()]
