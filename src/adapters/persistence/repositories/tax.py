"""Tax rates, clients' tax profiles and billing details, and the agency profile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import upsert
from adapters.persistence.repositories.tax_rows import (
    agency_of,
    agency_row,
    client_details_of,
    client_details_row,
)
from adapters.persistence.tables.tax import (
    agency_profile,
    client_billing_details,
    client_tax_profiles,
    tax_rates,
)
from domain.invoicing.billing_details import AgencyProfile, ClientBillingDetails
from domain.invoicing.tax import ClientTaxProfile, TaxRate, TaxTreatment
from domain.invoicing.tax_ports import TaxRepository

AGENCY_ROW = "agency"


class SqlAlchemyTaxRepository(TaxRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def rates(self, country: str | None = None) -> Sequence[TaxRate]:
        c = tax_rates.c
        statement = select(tax_rates).order_by(c.country, c.region, c.effective_from)
        if country is not None:
            statement = statement.where(c.country == country)
        rows = (await self._conn.execute(statement)).mappings()
        return [TaxRate(r["country"], r["region"], r["percent"], r["effective_from"]) for r in rows]

    async def set_rate(self, rate: TaxRate) -> None:
        values = {
            "country": rate.country,
            "region": rate.region,
            "effective_from": rate.effective_from,
            "percent": rate.percent,
        }
        await upsert(self._conn, tax_rates, values, ("country", "region", "effective_from"))

    async def remove_rate(self, country: str, region: str, effective_from: date) -> bool:
        c = tax_rates.c
        result = await self._conn.execute(
            delete(tax_rates).where(
                c.country == country, c.region == region, c.effective_from == effective_from
            )
        )
        return bool(result.rowcount)

    async def profile(self, client_id: str) -> ClientTaxProfile | None:
        statement = select(client_tax_profiles).where(client_tax_profiles.c.client_id == client_id)
        row = (await self._conn.execute(statement)).mappings().first()
        if row is None:
            return None
        return ClientTaxProfile(
            row["client_id"],
            TaxTreatment(row["treatment"]),
            row["exempt_reason"],
            row["updated_at"],
        )

    async def set_profile(self, profile: ClientTaxProfile) -> None:
        values = {
            "client_id": profile.client_id,
            "treatment": profile.treatment.value,
            "exempt_reason": profile.exempt_reason,
            "updated_at": profile.updated_at,
        }
        await upsert(self._conn, client_tax_profiles, values, ("client_id",))

    async def billing_details(self, client_id: str) -> ClientBillingDetails | None:
        table = client_billing_details
        statement = select(table).where(table.c.client_id == client_id)
        row = (await self._conn.execute(statement)).mappings().first()
        return client_details_of(row) if row is not None else None

    async def set_billing_details(self, details: ClientBillingDetails) -> None:
        values = client_details_row(details)
        await upsert(self._conn, client_billing_details, values, ("client_id",))

    async def agency(self) -> AgencyProfile | None:
        statement = select(agency_profile).where(agency_profile.c.id == AGENCY_ROW)
        row = (await self._conn.execute(statement)).mappings().first()
        return agency_of(row) if row is not None else None

    async def set_agency(self, profile: AgencyProfile) -> None:
        values = {"id": AGENCY_ROW, **agency_row(profile)}
        await upsert(self._conn, agency_profile, values, ("id",))
