"""Tax and billing details in the management API (docs/tax.md): the tax rates table, each
client's tax treatment and billing details, the agency profile, and the accounting exports.
Owners and admins change them, staff viewers read, a portal token reads its own client's
billing details only; exports are for owners."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate, IsOwner, IsStaff
from domain.errors import NotFound
from domain.errors import ValidationError as InvalidInput
from domain.invoicing import billing_details as details_domain
from domain.invoicing import tax as tax_domain
from domain.usecases.accounting import Journal
from domain.usecases.tax import ClientTax as ClientTaxView

strawberry.enum(tax_domain.TaxTreatment, name="TaxTreatment")
TaxTreatment: TypeAlias = tax_domain.TaxTreatment


@strawberry.type
class TaxRate:
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    region: str = strawberry.field(description='"" for the whole country.')
    percent: Decimal
    effective_from: date

    @classmethod
    def of(cls, rate: tax_domain.TaxRate) -> TaxRate:
        return cls(
            country=rate.country,
            region=rate.region,
            percent=rate.percent,
            effective_from=rate.effective_from,
        )


@strawberry.type
class PostalAddress:
    lines: list[str]
    city: str
    postal_code: str
    region: str
    country: str

    @classmethod
    def of(cls, address: details_domain.PostalAddress) -> PostalAddress:
        return cls(
            lines=list(address.lines),
            city=address.city,
            postal_code=address.postal_code,
            region=address.region,
            country=address.country,
        )


@strawberry.input
class PostalAddressInput:
    lines: list[str] = strawberry.field(default_factory=list, description="At most 4 lines.")
    city: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = strawberry.field(default="", description="ISO 3166-1 alpha-2, or empty.")

    def domain(self) -> details_domain.PostalAddress:
        if len(self.lines) > details_domain.MAX_ADDRESS_LINES:
            raise InvalidInput("an address has at most 4 lines")
        return details_domain.PostalAddress(
            tuple(self.lines), self.city, self.postal_code, self.region, self.country
        )


@strawberry.type
class BillingDetails:
    legal_name: str
    address: PostalAddress
    tax_id: str | None = strawberry.field(description="VAT number or other tax id.")
    po_reference: str | None = strawberry.field(description="Purchase-order reference.")
    updated_at: datetime | None

    @classmethod
    def of(cls, details: details_domain.ClientBillingDetails) -> BillingDetails:
        return cls(
            legal_name=details.legal_name,
            address=PostalAddress.of(details.address),
            tax_id=details.tax_id,
            po_reference=details.po_reference,
            updated_at=details.updated_at,
        )


@strawberry.input
class BillingDetailsInput:
    legal_name: str
    address: PostalAddressInput
    tax_id: str | None = None
    po_reference: str | None = None


@strawberry.type
class ClientTax:
    client_id: strawberry.ID
    treatment: TaxTreatment
    custom_rate: Decimal = strawberry.field(
        description="The client's own percent (updateClient taxRate), used when custom."
    )
    exempt_reason: str | None
    billing_details: BillingDetails | None

    @classmethod
    def of(cls, view: ClientTaxView) -> ClientTax:
        return cls(
            client_id=strawberry.ID(view.client_id),
            treatment=view.treatment,
            custom_rate=view.custom_rate,
            exempt_reason=view.exempt_reason,
            billing_details=None if view.details is None else BillingDetails.of(view.details),
        )


@strawberry.type
class AgencyProfile:
    legal_name: str
    address: PostalAddress
    tax_id: str | None
    bank_details: str = strawberry.field(description="IBAN/BIC or free text, printed as given.")
    payment_terms_days: int | None = strawberry.field(
        description="Days from issue to due date (null: BIZGRAPH_INVOICE_DUE_DAYS)."
    )
    payment_terms_text: str
    updated_at: datetime | None

    @classmethod
    def of(cls, profile: details_domain.AgencyProfile) -> AgencyProfile:
        return cls(
            legal_name=profile.legal_name,
            address=PostalAddress.of(profile.address),
            tax_id=profile.tax_id,
            bank_details=profile.bank_details,
            payment_terms_days=profile.payment_terms_days,
            payment_terms_text=profile.payment_terms_text,
            updated_at=profile.updated_at,
        )


@strawberry.input
class AgencyProfileInput:
    legal_name: str
    address: PostalAddressInput
    tax_id: str | None = None
    bank_details: str = ""
    payment_terms_days: int | None = None
    payment_terms_text: str = ""


strawberry.enum(Journal, name="AccountingJournal")
AccountingJournal: TypeAlias = Journal


@strawberry.type
class AccountingExport:
    filename: str
    csv: str = strawberry.field(description="The journal CSV (docs/tax.md 'Exports').")
    entries: int
    balanced: bool = strawberry.field(description="Every entry's debits equal its credits.")


# ------------------------------------------------------------------------------- queries


@field(permissions=[IsStaff], description="The tax rates table (of one country, when given).")
async def tax_rates(info: Info, country: str | None = None) -> list[TaxRate]:
    found = await visible(info.context.management.tax.rates(country))
    return [TaxRate.of(rate) for rate in found]


@field(
    description="A client's tax treatment and billing details (a portal token: its own "
    "client's); null for a client that does not exist or is not visible."
)
async def client_tax(info: Info, client_id: strawberry.ID) -> ClientTax | None:
    try:
        return ClientTax.of(await info.context.management.tax.client_tax(str(client_id)))
    except NotFound:
        return None


@field(permissions=[IsStaff], description="Who issues the invoices (null: from settings).")
async def agency_profile(info: Info) -> AgencyProfile | None:
    found = await visible(info.context.management.tax.agency())
    return None if found is None else AgencyProfile.of(found)


@field(
    permissions=[IsOwner],
    description="A period's invoices (sales journal) or ledger entries as a journal CSV.",
)
async def accounting_export(
    info: Info, period: str, journal: AccountingJournal = AccountingJournal.INVOICES
) -> AccountingExport:
    made = await visible(info.context.management.accounting.csv(Journal(journal), period))
    return AccountingExport(
        filename=made.filename, csv=made.text, entries=made.entries, balanced=made.balanced
    )


# ----------------------------------------------------------------------------- mutations


@strawberry.type
class TaxRateSuccess:
    rate: TaxRate


@strawberry.type
class RemoveTaxRateSuccess:
    removed: bool


@strawberry.type
class ClientTaxSuccess:
    client_tax: ClientTax


@strawberry.type
class AgencyProfileSuccess:
    agency_profile: AgencyProfile


TaxRateResult = Annotated[TaxRateSuccess | ValidationError, strawberry.union("TaxRateResult")]
RemoveTaxRateResult = Annotated[
    RemoveTaxRateSuccess | ValidationError, strawberry.union("RemoveTaxRateResult")
]
ClientTaxResult = Annotated[
    ClientTaxSuccess | ValidationError | NotFoundError, strawberry.union("ClientTaxResult")
]
AgencyProfileResult = Annotated[
    AgencyProfileSuccess | ValidationError, strawberry.union("AgencyProfileResult")
]


@mutation(
    permissions=[CanMutate],
    description="Add or replace the rate of (country, region, effective date).",
)
async def set_tax_rate(
    info: Info, country: str, percent: Decimal, effective_from: date, region: str = ""
) -> TaxRateResult:
    async def run() -> TaxRateSuccess:
        rate = await info.context.management.tax.set_rate(
            country, region, str(percent), effective_from
        )
        return TaxRateSuccess(rate=TaxRate.of(rate))

    return await attempt(run, (ValidationError,))


@mutation(permissions=[CanMutate], description="Remove one rate of the table.")
async def remove_tax_rate(
    info: Info, country: str, effective_from: date, region: str = ""
) -> RemoveTaxRateResult:
    async def run() -> RemoveTaxRateSuccess:
        removed = await info.context.management.tax.remove_rate(country, region, effective_from)
        return RemoveTaxRateSuccess(removed=removed)

    return await attempt(run, (ValidationError,))


@mutation(
    permissions=[CanMutate],
    description="custom (the client's own percent), standard (the rate of its country and "
    "region), reverse_charge (needs its tax id) or exempt (needs a reason).",
)
async def set_client_tax_treatment(
    info: Info,
    client_id: strawberry.ID,
    treatment: TaxTreatment,
    exempt_reason: str | None = None,
) -> ClientTaxResult:
    async def run() -> ClientTaxSuccess:
        view = await info.context.management.tax.set_treatment(
            str(client_id), tax_domain.TaxTreatment(treatment), exempt_reason
        )
        return ClientTaxSuccess(client_tax=ClientTax.of(view))

    return await attempt(run, (ValidationError, NotFoundError))


@mutation(permissions=[CanMutate], description="Replace a client's billing details.")
async def set_client_billing_details(
    info: Info, client_id: strawberry.ID, details: BillingDetailsInput
) -> ClientTaxResult:
    async def run() -> ClientTaxSuccess:
        given = details_domain.ClientBillingDetails(
            str(client_id),
            details.legal_name,
            details.address.domain(),
            details.tax_id,
            details.po_reference,
        )
        view = await info.context.management.tax.set_billing_details(given)
        return ClientTaxSuccess(client_tax=ClientTax.of(view))

    return await attempt(run, (ValidationError, NotFoundError))


@mutation(permissions=[CanMutate], description="Replace the agency profile.")
async def set_agency_profile(info: Info, profile: AgencyProfileInput) -> AgencyProfileResult:
    async def run() -> AgencyProfileSuccess:
        given = details_domain.AgencyProfile(
            profile.legal_name,
            profile.address.domain(),
            profile.tax_id,
            profile.bank_details,
            profile.payment_terms_days,
            profile.payment_terms_text,
        )
        stored = await info.context.management.tax.set_agency(given)
        return AgencyProfileSuccess(agency_profile=AgencyProfile.of(stored))

    return await attempt(run, (ValidationError,))
