"""The tax and billing details a client's invoice gets, read in the invoicing transaction
(docs/tax.md): the draft uses the current profile, finalizing freezes it onto the invoice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.billing.clients import Client
from domain.invoicing.billing_details import AgencyProfile, IssuedDetails
from domain.invoicing.tax import AppliedTax, applied_tax
from domain.ports import InvoicingUnitOfWork


@dataclass(frozen=True, slots=True)
class InvoiceTax:
    applied: AppliedTax
    issued: IssuedDetails
    agency: AgencyProfile | None


async def invoice_tax(uow: InvoicingUnitOfWork, client: Client, on: date) -> InvoiceTax:
    """The client's treatment, rate and note for an invoice issued on `on`, with both
    parties' billing details (TaxNotComputable when the treatment lacks what it needs)."""
    profile = await uow.tax.profile(client.id)
    details = await uow.tax.billing_details(client.id)
    address = details.address if details is not None else None
    rates = await uow.tax.rates(address.country) if address and address.country else []
    applied = applied_tax(
        profile,
        client.tax_rate,
        country=address.country if address else "",
        region=address.region if address else "",
        client_tax_id=details.tax_id if details else None,
        rates=rates,
        on=on,
    )
    agency = await uow.tax.agency()
    issued = IssuedDetails(applied.treatment, applied.note, details, agency)
    return InvoiceTax(applied, issued, agency)
