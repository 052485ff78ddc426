"""Invoice delivery and dunning in the management API: whether invoices can be emailed
(`invoiceEmail`), each invoice's delivery history, the overdue invoices (a portal token: its
client's only), and the send / resend mutations (owner or admin; a typed
`email_not_configured` conflict without SMTP)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import ConflictError, NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.invoices import Invoice
from api.graphql.permissions import CanMutate
from domain.delivery import outbox as domain

strawberry.enum(domain.MailKind, name="InvoiceMailKind")
strawberry.enum(domain.MailStatus, name="InvoiceMailStatus")
InvoiceMailKind: TypeAlias = domain.MailKind
InvoiceMailStatus: TypeAlias = domain.MailStatus


@strawberry.type
class InvoiceEmailStatus:
    enabled: bool = strawberry.field(description="SMTP is configured: invoices can be emailed.")
    reason: str | None = strawberry.field(description="Why not, when not enabled.")
    auto_send: bool = strawberry.field(
        description="Finalized invoices are emailed by themselves (BIZGRAPH_INVOICE_EMAIL=auto)."
    )


@strawberry.type
class InvoiceDelivery:
    """One email about an invoice: the invoice itself, a reminder or a suspension warning."""

    id: strawberry.ID
    invoice_id: strawberry.ID
    kind: InvoiceMailKind
    status: InvoiceMailStatus
    recipient: str | None = strawberry.field(description="Null: no billing email.")
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None = strawberry.field(description="While pending.")
    sent_at: datetime | None
    days_overdue: int | None = strawberry.field(description="Reminders: days past due.")
    requested_by: str | None = strawberry.field(
        description="Who asked for it (null: sent by Bizgraph itself; never shown to a portal)."
    )

    @classmethod
    def of(cls, mail: domain.InvoiceMail, *, staff: bool) -> InvoiceDelivery:
        pending = mail.status is domain.MailStatus.PENDING
        return cls(
            id=strawberry.ID(mail.id),
            invoice_id=strawberry.ID(mail.invoice_id),
            kind=mail.kind,
            status=mail.status,
            recipient=mail.recipient,
            attempts=mail.attempts,
            last_error=mail.last_error,
            created_at=mail.created_at,
            next_attempt_at=mail.next_attempt_at if pending else None,
            sent_at=mail.sent_at,
            days_overdue=mail.days_overdue,
            requested_by=mail.requested_by if staff else None,
        )


@strawberry.type
class OverdueInvoice:
    invoice: Invoice
    days_overdue: int = strawberry.field(description="Whole days past the due date.")


@field(description="Whether invoices can be emailed now, and why not.")
def invoice_email(info: Info) -> InvoiceEmailStatus:
    status = info.context.management.delivery.email_status()
    return InvoiceEmailStatus(
        enabled=status.enabled, reason=status.reason, auto_send=status.auto_send
    )


@field(description="The emails about an invoice, newest first (empty when not visible).")
async def invoice_deliveries(info: Info, invoice_id: strawberry.ID) -> list[InvoiceDelivery]:
    management = info.context.management
    found = await visible(management.delivery.history(str(invoice_id)))
    staff = management.principal.client_id is None
    return [InvoiceDelivery.of(m, staff=staff) for m in found]


@field(
    description="Finalized invoices past their due date, most overdue first (a portal "
    "token: its client's only)."
)
async def overdue_invoices(
    info: Info, client_id: strawberry.ID | None = None
) -> list[OverdueInvoice]:
    desk = info.context.management.delivery
    found = await visible(desk.overdue(None if client_id is None else str(client_id)))
    return [
        OverdueInvoice(invoice=Invoice.of(o.invoice), days_overdue=o.days_overdue) for o in found
    ]


@strawberry.type
class SendInvoiceSuccess:
    delivery: InvoiceDelivery = strawberry.field(
        description="Queued (pending), or no_billing_email when the client has none."
    )


SendInvoiceResult = Annotated[
    SendInvoiceSuccess | ValidationError | NotFoundError | ConflictError,
    strawberry.union("SendInvoiceResult"),
]
_ALL = (ValidationError, NotFoundError, ConflictError)


async def _send(info: Info, invoice_id: str, *, resend: bool) -> SendInvoiceResult:
    async def run() -> SendInvoiceSuccess:
        mail = await info.context.management.delivery.send(invoice_id, resend=resend)
        return SendInvoiceSuccess(delivery=InvoiceDelivery.of(mail, staff=True))

    return await attempt(run, _ALL)


@mutation(
    permissions=[CanMutate],
    description="Email a finalized or paid invoice to its client's billing email, once (a "
    "conflict when it was emailed already: resend). Without SMTP: a conflict with code "
    "email_not_configured.",
)
async def send_invoice(info: Info, id: strawberry.ID) -> SendInvoiceResult:
    return await _send(info, str(id), resend=False)


@mutation(permissions=[CanMutate], description="Email the invoice again (a new delivery).")
async def resend_invoice(info: Info, id: strawberry.ID) -> SendInvoiceResult:
    return await _send(info, str(id), resend=True)
