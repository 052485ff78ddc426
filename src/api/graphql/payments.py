"""Payments through Stripe in the management API: whether they are on, an invoice's pay link,
open balance and the payments received for it. A wallet top-up page is the wallets'
`startWalletTopUp` (api/graphql/wallets.py): the wallet owns its currency."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.errors import visible
from api.graphql.fields import field
from api.graphql.shared import Money
from domain.errors import DomainError
from domain.payments import received as domain


@strawberry.type
class PaymentReceived:
    """Money that moved through Stripe for an invoice: a payment, or a refund of one."""

    id: strawberry.ID
    kind: str = strawberry.field(description="payment, refund or dispute.")
    reference: str = strawberry.field(description="Stripe's PaymentIntent id.")
    amount: Money
    applied: Money = strawberry.field(
        description="Of a payment: what went to the invoice (the rest became an account credit)."
    )
    received_at: datetime

    @classmethod
    def of(cls, row: domain.Received) -> PaymentReceived:
        return cls(
            id=strawberry.ID(row.id),
            kind=row.movement.value,
            reference=row.payment_ref,
            amount=Money.of(row.amount),
            applied=Money.of(row.applied),
            received_at=row.occurred_at,
        )


@strawberry.type
class InvoicePayment:
    invoice_id: strawberry.ID
    pay_url: str | None = strawberry.field(
        description="Stripe Checkout for what is open (a new session once the last one "
        "expired); null when paid, void, or payments are off."
    )
    open_balance: Money = strawberry.field(description="Total less the payments applied.")
    payments: list[PaymentReceived]


@field(description="Whether payments through Stripe are configured (pay links, top-ups).")
def payments_enabled(info: Info) -> bool:
    return bool(info.context.management.payments.enabled)


@field(
    description="An invoice's pay link, open balance and Stripe payments; null when it does "
    "not exist or is not visible. Asking creates the Checkout Session when needed."
)
async def invoice_payment(info: Info, invoice_id: strawberry.ID) -> InvoicePayment | None:
    desk = info.context.management.payments
    try:
        await info.context.management.invoices.get(str(invoice_id))
    except DomainError:  # unknown or not visible: null, like `invoice`
        return None
    url = await visible(desk.pay_link(str(invoice_id)))
    balance = await visible(desk.open_balance(str(invoice_id)))
    rows = await visible(desk.received(str(invoice_id)))
    return InvoicePayment(
        invoice_id=invoice_id,
        pay_url=url,
        open_balance=Money.of(balance),
        payments=[PaymentReceived.of(r) for r in rows],
    )
