"""The invoice email outbox; messages are claimed under a lease by a conditional UPDATE, so
two processes never make the same attempt (as webhook deliveries are)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.tables.delivery import invoice_mails
from domain.delivery.outbox import InvoiceMail, MailKind, MailStatus
from domain.delivery.ports import InvoiceMailRepository

_ERROR_CHARS = 500


def _row(mail: InvoiceMail) -> dict[str, Any]:
    return {
        "id": mail.id,
        "invoice_id": mail.invoice_id,
        "client_id": mail.client_id,
        "kind": mail.kind.value,
        "dedupe_key": mail.dedupe_key,
        "recipient": mail.recipient,
        "status": mail.status.value,
        "attempts": mail.attempts,
        "next_attempt_at": mail.next_attempt_at,
        "locked_until": None,
        "claim": None,
        "last_error": mail.last_error,
        "days_overdue": mail.days_overdue,
        "requested_by": mail.requested_by,
        "created_at": mail.created_at,
        "sent_at": mail.sent_at,
    }


def _mail(row: RowMapping) -> InvoiceMail:
    return InvoiceMail(
        id=row["id"],
        invoice_id=row["invoice_id"],
        client_id=row["client_id"],
        kind=MailKind(row["kind"]),
        dedupe_key=row["dedupe_key"],
        recipient=row["recipient"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        status=MailStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        sent_at=row["sent_at"],
        days_overdue=row["days_overdue"],
        requested_by=row["requested_by"],
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending, due, and not leased to a live sender."""
    m = invoice_mails
    return and_(
        m.c.status == MailStatus.PENDING.value,
        m.c.next_attempt_at <= now,
        or_(m.c.locked_until.is_(None), m.c.locked_until <= now),
    )


class SqlAlchemyInvoiceMailRepository(InvoiceMailRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, mail: InvoiceMail) -> bool:
        return await insert_unless_exists(self._conn, invoice_mails, _row(mail), ["dedupe_key"])

    async def has(self, dedupe_key: str) -> bool:
        found = select(invoice_mails.c.id).where(invoice_mails.c.dedupe_key == dedupe_key)
        return (await self._conn.execute(found.limit(1))).first() is not None

    async def any_due(self, now: datetime) -> bool:
        due = select(invoice_mails.c.id).where(_claimable(now)).limit(1)
        return (await self._conn.execute(due)).first() is not None

    async def claim_due(
        self, now: datetime, lease_until: datetime, claim: str, limit: int
    ) -> list[InvoiceMail]:
        m = invoice_mails
        candidates = (
            select(m.c.id).where(_claimable(now)).order_by(m.c.next_attempt_at, m.c.id).limit(limit)
        )
        ids = list((await self._conn.execute(candidates)).scalars())
        if not ids:
            return []
        # The UPDATE evaluates the condition again: of two racing claimers, the second's
        # UPDATE waits for the first and then matches nothing.
        await self._conn.execute(
            update(m)
            .where(m.c.id.in_(ids), _claimable(now))
            .values(locked_until=lease_until, claim=claim, attempts=m.c.attempts + 1)
        )
        mine = select(m).where(m.c.claim == claim).order_by(m.c.next_attempt_at, m.c.id)
        return [_mail(row) for row in (await self._conn.execute(mine)).mappings()]

    async def record(self, mail: InvoiceMail, claim: str) -> bool:
        m = invoice_mails
        result = await self._conn.execute(
            update(m)
            .where(m.c.id == mail.id, m.c.claim == claim)
            .values(
                status=mail.status.value,
                next_attempt_at=mail.next_attempt_at,
                last_error=(mail.last_error or "")[:_ERROR_CHARS] or None,
                sent_at=mail.sent_at,
                locked_until=None,
                claim=None,
            )
        )
        return bool(result.rowcount == 1)

    async def for_invoice(self, invoice_id: str, limit: int) -> list[InvoiceMail]:
        m = invoice_mails
        statement = (
            select(m)
            .where(m.c.invoice_id == invoice_id)
            .order_by(m.c.created_at.desc(), m.c.id.desc())
            .limit(limit)
        )
        return [_mail(row) for row in (await self._conn.execute(statement)).mappings()]
