"""Invoices in the management API: the `invoices`/`invoice` queries (a portal token sees only
its client's) and the closing, void, payment and credit-note mutations (owner or admin)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import ConflictError, NotFoundError, ValidationError, attempt, visible
from api.graphql.exchange_types import ExchangeRate
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate
from api.graphql.shared import Money, TokenCounts
from api.graphql.tax import AgencyProfile, BillingDetails, TaxTreatment
from domain.errors import DomainError
from domain.invoicing import invoices as domain

# strawberry.enum registers the GraphQL name on the domain enum itself (and returns it): the
# domain enum is the GraphQL type, named here once; the aliases keep it a valid annotation.
strawberry.enum(domain.InvoiceStatus, name="InvoiceStatus")
strawberry.enum(domain.LineKind, name="InvoiceLineKind")
InvoiceStatus: TypeAlias = domain.InvoiceStatus
InvoiceLineKind: TypeAlias = domain.LineKind


@strawberry.type
class InvoiceLine(TokenCounts):
    position: int
    kind: InvoiceLineKind
    description: str
    model_id: str | None
    usage_period: str | None = strawberry.field(
        description="The month the usage started in (earlier than the invoice's: late usage)."
    )
    amount: Money = strawberry.field(description="Rounded once, half-even.")
    exact_amount: Decimal = strawberry.field(description="What was rounded.")
    source_amount: Money | None = strawberry.field(
        default=None,
        description="A usage line converted from its prices' currency: the exact amount "
        "before conversion (docs/currencies.md); null when nothing was converted.",
    )

    @classmethod
    def of(cls, line: domain.InvoiceLine) -> InvoiceLine:
        t = line.tokens
        return cls(
            position=line.position,
            kind=line.kind,
            description=line.description,
            model_id=line.model_id,
            usage_period=line.usage_period,
            amount=Money.of(line.amount),
            exact_amount=line.exact_amount,
            source_amount=None if line.source is None else Money.of(line.source),
            requests=line.requests,
            input_tokens=t.input_tokens,
            cached_input_tokens=t.cached_input_tokens,
            cache_write_tokens=t.cache_write_tokens,
            output_tokens=t.output_tokens,
            reasoning_tokens=t.reasoning_tokens,
        )


@strawberry.type
class CreditNote:
    id: strawberry.ID
    invoice_id: strawberry.ID
    number: str
    amount: Money
    reason: str
    issued_at: datetime

    @classmethod
    def of(cls, note: domain.CreditNote) -> CreditNote:
        return cls(
            id=strawberry.ID(note.id),
            invoice_id=strawberry.ID(note.invoice_id),
            number=note.number,
            amount=Money.of(note.amount),
            reason=note.reason,
            issued_at=note.issued_at,
        )


@strawberry.type
class AccountCredit:
    id: strawberry.ID
    client_id: strawberry.ID
    amount: Money
    remaining: Money = strawberry.field(description="What no invoice has applied yet.")
    reason: str
    granted_at: datetime

    @classmethod
    def of(cls, credit: domain.AccountCredit) -> AccountCredit:
        return cls(
            id=strawberry.ID(credit.id),
            client_id=strawberry.ID(credit.client_id),
            amount=Money.of(credit.amount),
            remaining=Money.of(credit.remaining),
            reason=credit.reason,
            granted_at=credit.granted_at,
        )


@strawberry.type
class Invoice:
    id: strawberry.ID
    client_id: strawberry.ID
    number: str
    period: str
    status: InvoiceStatus
    currency: str
    lines: list[InvoiceLine]
    subtotal: Money
    tax_rate: Decimal
    tax: Money
    total: Money
    issued_at: datetime
    due_at: datetime
    bill_to_name: str
    bill_to_email: str | None
    early: bool = strawberry.field(description="Closed before its period ended.")
    paid_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None
    html_url: str
    pdf_url: str
    csv_url: str = strawberry.field(description="The usage records behind the invoice.")
    tax_treatment: TaxTreatment = strawberry.field(
        description="As frozen when the invoice was finalized (docs/tax.md)."
    )
    tax_note: str | None = strawberry.field(
        description='Printed on the invoice: "Reverse charge", the exemption reason.'
    )
    bill_to: BillingDetails | None = strawberry.field(
        description="The client's legal billing details as frozen at finalization (null: "
        "none were set, the invoice shows billToName and billToEmail)."
    )
    issuer: AgencyProfile | None = strawberry.field(
        description="The agency profile as frozen at finalization (null: from settings)."
    )
    exchange_rates: list[ExchangeRate] = strawberry.field(
        default_factory=list,
        description="The rates its converted lines used, frozen at finalization "
        "(docs/currencies.md); empty when nothing was converted.",
    )

    @field(description="Credit notes issued against this invoice.")
    async def credit_notes(self, info: Info) -> list[CreditNote]:
        notes = await visible(info.context.management.invoices.credit_notes(str(self.id)))
        return [CreditNote.of(n) for n in notes]

    @classmethod
    def of(cls, invoice: domain.Invoice) -> Invoice:
        base = f"/invoices/{invoice.id}"
        return cls(
            id=strawberry.ID(invoice.id),
            client_id=strawberry.ID(invoice.client_id),
            number=invoice.number,
            period=invoice.period.label,
            status=invoice.status,
            currency=invoice.currency,
            lines=[InvoiceLine.of(line) for line in invoice.lines],
            subtotal=Money.of(invoice.subtotal),
            tax_rate=invoice.tax_rate,
            tax=Money.of(invoice.tax),
            total=Money.of(invoice.total),
            issued_at=invoice.issued_at,
            due_at=invoice.due_at,
            bill_to_name=invoice.bill_to.name,
            bill_to_email=invoice.bill_to.email,
            early=invoice.early,
            paid_at=invoice.paid_at,
            voided_at=invoice.voided_at,
            void_reason=invoice.void_reason,
            html_url=f"{base}.html",
            pdf_url=f"{base}.pdf",
            csv_url=f"{base}.csv",
            tax_treatment=(invoice.issued.treatment if invoice.issued else TaxTreatment.CUSTOM),
            tax_note=invoice.issued.note if invoice.issued else None,
            bill_to=(
                BillingDetails.of(invoice.issued.client)
                if invoice.issued and invoice.issued.client
                else None
            ),
            issuer=(
                AgencyProfile.of(invoice.issued.agency)
                if invoice.issued and invoice.issued.agency
                else None
            ),
            exchange_rates=[ExchangeRate.of(rate) for rate in invoice.rates],
        )


@strawberry.type
class DraftInvoice:
    """What closing the period would bill the client now (nothing stored, no number)."""

    client_id: strawberry.ID
    period: str
    currency: str
    lines: list[InvoiceLine]
    subtotal: Money
    tax_rate: Decimal
    tax: Money
    total: Money
    tax_treatment: TaxTreatment
    tax_note: str | None
    exchange_rates: list[ExchangeRate] = strawberry.field(
        description="The rates its converted lines use (docs/currencies.md)."
    )

    @classmethod
    def of(cls, draft: domain.DraftInvoice) -> DraftInvoice:
        return cls(
            client_id=strawberry.ID(draft.client_id),
            period=draft.period.label,
            currency=draft.currency,
            lines=[InvoiceLine.of(line) for line in draft.lines],
            subtotal=Money.of(draft.subtotal),
            tax_rate=draft.tax_rate,
            tax=Money.of(draft.tax),
            total=Money.of(draft.total),
            tax_treatment=draft.treatment,
            tax_note=draft.tax_note,
            exchange_rates=[ExchangeRate.of(rate) for rate in draft.rates],
        )


@field(description="Invoices, newest period first (a portal token: its client's only).")
async def invoices(
    info: Info,
    client_id: strawberry.ID | None = None,
    period: str | None = None,
    status: InvoiceStatus | None = None,
) -> list[Invoice]:
    desk = info.context.management.invoices
    found = await visible(
        desk.list(
            None if client_id is None else str(client_id),
            period,
            None if status is None else domain.InvoiceStatus(status),
        )
    )
    return [Invoice.of(i) for i in found]


@field(
    description="The invoice closing the month would finalize for the client now; null "
    "for a client that does not exist or is not visible."
)
async def draft_invoice(info: Info, client_id: strawberry.ID, period: str) -> DraftInvoice | None:
    found = await visible(info.context.management.invoices.draft(str(client_id), period))
    return None if found is None else DraftInvoice.of(found)


@field(description="A client's account credits with something left to apply.")
async def credits(info: Info, client_id: strawberry.ID) -> list[AccountCredit]:
    found = await visible(info.context.management.invoices.credits(str(client_id)))
    return [AccountCredit.of(c) for c in found]


@field(description="An invoice, or null when it does not exist or is not visible.")
async def invoice(info: Info, id: strawberry.ID) -> Invoice | None:
    try:
        return Invoice.of(await info.context.management.invoices.get(str(id)))
    except DomainError:
        return None


@strawberry.type
class RefusedInvoice:
    """A client whose invoice closing could not compute (docs/tax.md): not issued, alerted."""

    client_id: strawberry.ID
    reason: str


@strawberry.type
class ClosePeriodSuccess:
    period: str
    invoices: list[Invoice] = strawberry.field(
        description="The invoices this call finalized (none when the period was closed)."
    )
    refused: list[RefusedInvoice] = strawberry.field(
        default_factory=list,
        description="Clients not invoiced (no tax rate for a standard client's country ...): "
        "fix the cause and close the period again.",
    )


@strawberry.type
class InvoiceSuccess:
    invoice: Invoice


@strawberry.type
class IssueCreditNoteSuccess:
    credit_note: CreditNote
    invoice: Invoice


@strawberry.type
class GrantCreditSuccess:
    credit: AccountCredit


GrantCreditResult = Annotated[
    GrantCreditSuccess | ValidationError | NotFoundError, strawberry.union("GrantCreditResult")
]
ClosePeriodResult = Annotated[
    ClosePeriodSuccess | ValidationError, strawberry.union("ClosePeriodResult")
]
InvoiceResult = Annotated[
    InvoiceSuccess | ValidationError | NotFoundError | ConflictError,
    strawberry.union("InvoiceResult"),
]
IssueCreditNoteResult = Annotated[
    IssueCreditNoteSuccess | ValidationError | NotFoundError | ConflictError,
    strawberry.union("IssueCreditNoteResult"),
]
_ALL = (ValidationError, NotFoundError, ConflictError)


@mutation(
    permissions=[CanMutate],
    description="Finalize one invoice per client for a month; idempotent. A month that "
    "has not ended closes only with early: true.",
)
async def close_period(info: Info, period: str, early: bool = False) -> ClosePeriodResult:
    async def run() -> ClosePeriodSuccess:
        result = await info.context.management.invoices.close_period(period, early)
        invoices = [Invoice.of(i) for i in result.created]
        refused = [
            RefusedInvoice(client_id=strawberry.ID(r.client_id), reason=r.reason)
            for r in result.refused
        ]
        return ClosePeriodSuccess(period=result.period.label, invoices=invoices, refused=refused)

    return await attempt(run, (ValidationError,))


@mutation(permissions=[CanMutate], description="finalized -> void, with a reason.")
async def void_invoice(info: Info, id: strawberry.ID, reason: str) -> InvoiceResult:
    async def run() -> InvoiceSuccess:
        invoice = await info.context.management.invoices.void(str(id), reason)
        return InvoiceSuccess(invoice=Invoice.of(invoice))

    return await attempt(run, _ALL)


@mutation(permissions=[CanMutate], description="finalized -> paid (again: no change).")
async def mark_invoice_paid(info: Info, id: strawberry.ID) -> InvoiceResult:
    async def run() -> InvoiceSuccess:
        invoice = await info.context.management.invoices.mark_paid(str(id))
        return InvoiceSuccess(invoice=Invoice.of(invoice))

    return await attempt(run, _ALL)


@mutation(
    permissions=[CanMutate],
    description="A numbered credit note against a finalized or paid invoice.",
)
async def issue_credit_note(
    info: Info, invoice_id: strawberry.ID, amount: Decimal, reason: str
) -> IssueCreditNoteResult:
    async def run() -> IssueCreditNoteSuccess:
        desk = info.context.management.invoices
        note = await desk.issue_credit_note(str(invoice_id), str(amount), reason)
        invoice = await desk.get(note.invoice_id)
        return IssueCreditNoteSuccess(credit_note=CreditNote.of(note), invoice=Invoice.of(invoice))

    return await attempt(run, _ALL)


@mutation(
    permissions=[CanMutate],
    description="An account credit, applied as a negative line on the client's next "
    "invoices (never below zero; the rest carries over).",
)
async def grant_credit(
    info: Info, client_id: strawberry.ID, amount: Decimal, reason: str
) -> GrantCreditResult:
    async def run() -> GrantCreditSuccess:
        desk = info.context.management.invoices
        credit = await desk.grant_credit(str(client_id), str(amount), reason)
        return GrantCreditSuccess(credit=AccountCredit.of(credit))

    return await attempt(run, (ValidationError, NotFoundError))
