"""The store of tax rates, clients' tax profiles and billing details, and the agency profile.
Every write runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from domain.invoicing.billing_details import AgencyProfile, ClientBillingDetails
from domain.invoicing.tax import ClientTaxProfile, TaxRate


class TaxRepository(Protocol):
    async def rates(self, country: str | None = None) -> Sequence[TaxRate]:
        """Every rate (of one country, when given), by country, region, effective date."""
        ...

    async def set_rate(self, rate: TaxRate) -> None:
        """Insert or replace the rate of (country, region, effective date)."""
        ...

    async def remove_rate(self, country: str, region: str, effective_from: date) -> bool: ...

    async def profile(self, client_id: str) -> ClientTaxProfile | None: ...

    async def set_profile(self, profile: ClientTaxProfile) -> None:
        """Insert or replace (NotFound for an unknown client)."""
        ...

    async def billing_details(self, client_id: str) -> ClientBillingDetails | None: ...

    async def set_billing_details(self, details: ClientBillingDetails) -> None:
        """Insert or replace (NotFound for an unknown client)."""
        ...

    async def agency(self) -> AgencyProfile | None: ...

    async def set_agency(self, profile: AgencyProfile) -> None: ...
