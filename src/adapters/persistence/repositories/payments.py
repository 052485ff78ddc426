"""Stripe customers, pay links, money received and processed events (domain.payments)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists, upsert
from adapters.persistence.tables.payments import (
    payment_links,
    payments_received,
    processed_events,
    stripe_customers,
)
from domain.billing.money import Money, exact_sum, round_to_minor
from domain.payments.processor import PaymentRepository, StoredLink
from domain.payments.received import Movement, Purpose, Received


def received_to_row(received: Received) -> dict[str, Any]:
    return {
        "id": received.id,
        "client_id": received.client_id,
        "movement": received.movement.value,
        "purpose": received.purpose.value if received.purpose else None,
        "invoice_id": received.invoice_id,
        "payment_ref": received.payment_ref,
        "charge_ref": received.charge_ref,
        "dedupe": received.dedupe,
        "amount": received.amount.amount,
        "applied": received.applied.amount,
        "currency": received.amount.currency,
        "occurred_at": received.occurred_at,
        "event_id": received.event_id,
    }


def received_from_row(row: RowMapping) -> Received:
    currency = row["currency"]
    return Received(
        id=row["id"],
        client_id=row["client_id"],
        movement=Movement(row["movement"]),
        purpose=Purpose(row["purpose"]) if row["purpose"] else None,
        invoice_id=row["invoice_id"],
        payment_ref=row["payment_ref"],
        charge_ref=row["charge_ref"],
        dedupe=row["dedupe"],
        # whole minor units by construction: shown as such (78.70, not the stored 78.7)
        amount=Money(round_to_minor(row["amount"], currency), currency),
        applied=Money(round_to_minor(row["applied"], currency), currency),
        occurred_at=row["occurred_at"],
        event_id=row["event_id"],
    )


class SqlAlchemyPaymentRepository(PaymentRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def customer_of(self, client_id: str) -> str | None:
        column = stripe_customers.c
        found = await self._conn.execute(
            select(column.customer_ref).where(column.client_id == client_id)
        )
        return found.scalar_one_or_none()

    async def save_customer(self, client_id: str, customer_ref: str, at: datetime) -> bool:
        row = {"client_id": client_id, "customer_ref": customer_ref, "created_at": at}
        return await insert_unless_exists(self._conn, stripe_customers, row, ["client_id"])

    async def client_of_customer(self, customer_ref: str) -> str | None:
        column = stripe_customers.c
        found = await self._conn.execute(
            select(column.client_id).where(column.customer_ref == customer_ref)
        )
        return found.scalar_one_or_none()

    async def link(self, invoice_id: str) -> StoredLink | None:
        found = await self._conn.execute(
            select(payment_links).where(payment_links.c.invoice_id == invoice_id)
        )
        row = found.mappings().one_or_none()
        if row is None:
            return None
        return StoredLink(
            row["invoice_id"], row["session_ref"], row["url"], row["expires_at"], row["created_at"]
        )

    async def save_link(self, link: StoredLink) -> None:
        row = {
            "invoice_id": link.invoice_id,
            "session_ref": link.session_ref,
            "url": link.url,
            "expires_at": link.expires_at,
            "created_at": link.created_at,
        }
        await upsert(self._conn, payment_links, row, ["invoice_id"])

    async def add(self, received: Received) -> bool:
        return await insert_unless_exists(
            self._conn, payments_received, received_to_row(received), ["movement", "dedupe"]
        )

    async def applied_to(self, invoice_id: str, currency: str) -> Money:
        # Summed here, exactly (SQLite would sum TEXT amounts as floats); a handful of rows.
        column = payments_received.c
        found = await self._conn.execute(
            select(column.applied).where(
                column.invoice_id == invoice_id,
                column.movement == Movement.PAYMENT.value,
                column.currency == currency,
            )
        )
        return Money(exact_sum(*found.scalars()), currency)

    async def by_payment(self, payment_ref: str) -> Sequence[Received]:
        return await self._rows(payments_received.c.payment_ref == payment_ref)

    async def for_invoice(self, invoice_id: str) -> Sequence[Received]:
        return await self._rows(payments_received.c.invoice_id == invoice_id)

    async def _rows(self, where: Any) -> Sequence[Received]:
        column = payments_received.c
        found = await self._conn.execute(
            select(payments_received).where(where).order_by(column.occurred_at, column.id)
        )
        return [received_from_row(row) for row in found.mappings()]

    async def event_seen(self, event_id: str) -> bool:
        column = processed_events.c
        found = await self._conn.execute(select(column.event_id).where(column.event_id == event_id))
        return found.first() is not None

    async def mark_event(self, event_id: str, event_type: str, at: datetime) -> bool:
        row = {"event_id": event_id, "type": event_type, "processed_at": at}
        return await insert_unless_exists(self._conn, processed_events, row, ["event_id"])
