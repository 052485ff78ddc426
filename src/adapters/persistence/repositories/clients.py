"""Clients and their effective-dated pricing plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import (
    bump_config_revision,
    insert_unless_exists,
    translated_errors,
)
from adapters.persistence.tables.accounts import clients, plan_versions
from domain.billing.clients import Client, ClientStatus
from domain.billing.money import Money
from domain.billing.plans import (
    FixedFee,
    FixedPrice,
    PercentageMargin,
    PlanKind,
    PlanVersion,
    PricingPlan,
)
from domain.billing.ports import ClientRepository, PlanRepository
from domain.errors import Conflict, NotFound


def client_to_row(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "created_at": client.created_at,
        "currency": client.currency,
        "billing_email": client.billing_email,
        "tax_rate": client.tax_rate,
        "status": client.status.value,
    }


def client_from_row(row: RowMapping) -> Client:
    return Client(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        currency=row["currency"],
        billing_email=row["billing_email"],
        tax_rate=row["tax_rate"],
        status=ClientStatus(row["status"]),
    )


class SqlAlchemyClientRepository(ClientRepository):
    """Clients in the `clients` table; the id is immutable, the rest is overwritten on update."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, client: Client) -> None:
        if not await insert_unless_exists(self._conn, clients, client_to_row(client), ["id"]):
            raise Conflict(f"client {client.id} already exists")
        await bump_config_revision(self._conn)

    async def get(self, client_id: str) -> Client | None:
        result = await self._conn.execute(select(clients).where(clients.c.id == client_id))
        row = result.mappings().first()
        return None if row is None else client_from_row(row)

    async def list(self) -> Sequence[Client]:
        result = await self._conn.execute(select(clients).order_by(clients.c.name, clients.c.id))
        return [client_from_row(row) for row in result.mappings()]

    async def update(self, client: Client) -> None:
        values = client_to_row(client)
        del values["id"], values["created_at"], values["currency"]  # fixed at creation
        statement = update(clients).where(clients.c.id == client.id).values(**values)
        async with translated_errors("clients"):
            result = await self._conn.execute(statement)
        if result.rowcount != 1:
            raise NotFound(f"no client {client.id}")
        await bump_config_revision(self._conn)


def plan_to_row(version: PlanVersion) -> dict[str, Any]:
    plan = version.plan
    row: dict[str, Any] = {
        "id": version.id,
        "client_id": version.client_id,
        "kind": plan.kind.value,
        "percent": None,
        "amount": None,
        "currency": None,
        "effective_from": version.effective_from,
        "created_at": version.created_at,
    }
    if isinstance(plan, PercentageMargin):
        row["percent"] = plan.percent
    else:
        fixed = plan.monthly_amount
        assert fixed is not None
        row["amount"], row["currency"] = fixed.amount, fixed.currency
    return row


def plan_from_row(row: RowMapping) -> PlanVersion:
    kind = PlanKind(row["kind"])
    plan: PricingPlan
    if kind is PlanKind.PERCENTAGE_MARGIN:
        plan = PercentageMargin(row["percent"])
    elif kind is PlanKind.FIXED_FEE:
        plan = FixedFee(Money(row["amount"], row["currency"]))
    else:
        plan = FixedPrice(Money(row["amount"], row["currency"]))
    return PlanVersion(
        id=row["id"],
        client_id=row["client_id"],
        plan=plan,
        effective_from=row["effective_from"],
        created_at=row["created_at"],
    )


class SqlAlchemyPlanRepository(PlanRepository):
    """Plan versions are never edited: a change of plan is a new version."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, version: PlanVersion) -> None:
        if not await insert_unless_exists(self._conn, plan_versions, plan_to_row(version), ["id"]):
            raise Conflict(f"plan version {version.id} already exists")
        await bump_config_revision(self._conn)

    async def history(self, client_id: str) -> Sequence[PlanVersion]:
        statement = (
            select(plan_versions)
            .where(plan_versions.c.client_id == client_id)
            .order_by(
                plan_versions.c.effective_from, plan_versions.c.created_at, plan_versions.c.id
            )
        )
        result = await self._conn.execute(statement)
        return [plan_from_row(row) for row in result.mappings()]

    async def histories(self, client_ids: Sequence[str]) -> Mapping[str, Sequence[PlanVersion]]:
        found: dict[str, list[PlanVersion]] = {client_id: [] for client_id in client_ids}
        if not found:
            return found
        column = plan_versions.c
        statement = (
            select(plan_versions)
            .where(column.client_id.in_(list(found)))
            .order_by(column.client_id, column.effective_from, column.created_at, column.id)
        )
        result = await self._conn.execute(statement)
        for row in result.mappings():
            found[row["client_id"]].append(plan_from_row(row))
        return found
