"""Tax rates, clients' tax treatments and billing details, and the agency profile
(docs/tax.md), and the desk that applies one principal's rights to them: owners and admins
change, staff viewers read, a portal token reads its own client's billing details only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from domain.access.principals import NotAllowed, Principal
from domain.errors import NotFound, ValidationError
from domain.invoicing.billing_details import AgencyProfile, ClientBillingDetails
from domain.invoicing.tax import (
    ClientTaxProfile,
    TaxRate,
    TaxTreatment,
    check_country,
    check_percent,
    check_region,
)
from domain.ports import Clock, InvoicingUnitOfWork, InvoicingUnitOfWorkFactory

MAX_RATES_LISTED = 5000


@dataclass(frozen=True, slots=True)
class ClientTax:
    """A client's treatment (custom at its own percent when it has no profile) and details."""

    client_id: str
    treatment: TaxTreatment
    custom_rate: Decimal
    exempt_reason: str | None
    details: ClientBillingDetails | None


class TaxUseCases:
    def __init__(
        self,
        uow: InvoicingUnitOfWorkFactory,
        clock: Clock,
        reads: InvoicingUnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock

    async def rates(self, country: str | None = None) -> Sequence[TaxRate]:
        code = check_country(country) if country else None
        async with self._reads() as uow:
            return list(await uow.tax.rates(code))[:MAX_RATES_LISTED]

    async def set_rate(
        self, country: str, region: str, percent: Decimal | str, effective_from: date
    ) -> TaxRate:
        rate = TaxRate(country, region, check_percent(percent), effective_from)
        async with self._uow() as uow:
            await uow.tax.set_rate(rate)
            await uow.commit()
        return rate

    async def remove_rate(self, country: str, region: str, effective_from: date) -> bool:
        code, area = check_country(country), check_region(region)
        async with self._uow() as uow:
            removed = await uow.tax.remove_rate(code, area, effective_from)
            await uow.commit()
        return removed

    async def client_tax(self, client_id: str) -> ClientTax:
        async with self._reads() as uow:
            return await self._client_tax(uow, client_id)

    async def _client_tax(self, uow: InvoicingUnitOfWork, client_id: str) -> ClientTax:
        client = await uow.clients.get(client_id)
        if client is None:
            raise NotFound(f"no client {client_id}")
        profile = await uow.tax.profile(client.id)
        details = await uow.tax.billing_details(client.id)
        treatment = profile.treatment if profile is not None else TaxTreatment.CUSTOM
        reason = profile.exempt_reason if profile is not None else None
        return ClientTax(client.id, treatment, client.tax_rate, reason, details)

    async def set_treatment(
        self, client_id: str, treatment: TaxTreatment, exempt_reason: str | None = None
    ) -> ClientTax:
        """Reverse charge needs the client's tax id, standard its country (billing details
        first); the rate itself is looked up when an invoice is computed."""
        async with self._uow() as uow:
            current = await self._client_tax(uow, client_id)
            details = current.details
            if treatment is TaxTreatment.REVERSE_CHARGE and not (details and details.tax_id):
                raise ValidationError("reverse charge needs the client's tax id: set it first")
            if treatment is TaxTreatment.STANDARD and not (details and details.address.country):
                raise ValidationError("standard tax needs the client's country: set it first")
            profile = ClientTaxProfile(client_id, treatment, exempt_reason, self._clock.now())
            await uow.tax.set_profile(profile)
            await uow.commit()
        return replace(current, treatment=treatment, exempt_reason=profile.exempt_reason)

    async def set_billing_details(self, details: ClientBillingDetails) -> ClientTax:
        """Replace the client's details. Removing the tax id of a reverse-charge client or the
        country of a standard one is refused (its invoices could not be computed)."""
        async with self._uow() as uow:
            current = await self._client_tax(uow, details.client_id)
            if current.treatment is TaxTreatment.REVERSE_CHARGE and not details.tax_id:
                raise ValidationError("a reverse-charge client needs its tax id")
            if current.treatment is TaxTreatment.STANDARD and not details.address.country:
                raise ValidationError("a client with standard tax needs its country")
            stored = replace(details, updated_at=self._clock.now())
            await uow.tax.set_billing_details(stored)
            await uow.commit()
        return replace(current, details=stored)

    async def agency(self) -> AgencyProfile | None:
        async with self._reads() as uow:
            return await uow.tax.agency()

    async def set_agency(self, profile: AgencyProfile) -> AgencyProfile:
        stored = replace(profile, updated_at=self._clock.now())
        async with self._uow() as uow:
            await uow.tax.set_agency(stored)
            await uow.commit()
        return stored


class TaxDesk:
    def __init__(self, principal: Principal, tax: TaxUseCases | None) -> None:
        self._principal = principal
        self._tax = tax

    def _use(self) -> TaxUseCases:
        if self._tax is None:
            raise NotAllowed("tax settings are not available in this process")
        return self._tax

    def _require_write(self) -> None:
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not change tax settings (owner or admin only)")

    def _require_staff(self) -> None:
        if self._principal.client_id is not None:
            raise NotAllowed("tax rates and the agency profile are for staff only")

    def _visible(self, client_id: str) -> None:
        if not self._principal.may_see_client(client_id):
            raise NotFound(f"no client {client_id}")

    async def rates(self, country: str | None = None) -> Sequence[TaxRate]:
        self._require_staff()
        return await self._use().rates(country)

    async def set_rate(
        self, country: str, region: str, percent: Decimal | str, effective_from: date
    ) -> TaxRate:
        self._require_write()
        return await self._use().set_rate(country, region, percent, effective_from)

    async def remove_rate(self, country: str, region: str, effective_from: date) -> bool:
        self._require_write()
        return await self._use().remove_rate(country, region, effective_from)

    async def client_tax(self, client_id: str) -> ClientTax:
        self._visible(client_id)
        return await self._use().client_tax(client_id)

    async def set_treatment(
        self, client_id: str, treatment: TaxTreatment, exempt_reason: str | None
    ) -> ClientTax:
        self._require_write()
        self._visible(client_id)
        return await self._use().set_treatment(client_id, treatment, exempt_reason)

    async def set_billing_details(self, details: ClientBillingDetails) -> ClientTax:
        self._require_write()
        self._visible(details.client_id)
        return await self._use().set_billing_details(details)

    async def agency(self) -> AgencyProfile | None:
        self._require_staff()
        return await self._use().agency()

    async def set_agency(self, profile: AgencyProfile) -> AgencyProfile:
        self._require_write()
        return await self._use().set_agency(profile)
