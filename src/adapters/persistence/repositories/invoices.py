"""Invoices, lines, credit notes, counters and closed periods (domain.invoicing.ports).

Races are decided by the database: the partial unique index on live (client, period) pairs
(INSERT ... ON CONFLICT DO NOTHING waits for a concurrent claim, then skips), an atomic counter
increment held until commit, and status changes conditional on the current status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import (
    increment_counter,
    insert_unless_exists,
    translated_errors,
)
from adapters.persistence.repositories.exchange import (
    load_conversions,
    save_conversions,
    stored_exact,
)
from adapters.persistence.repositories.invoice_rows import (
    TOKENS,
    cents,
    grouped,
    invoice_of,
    line_of,
    line_row,
    note_of,
    tokens_of,
)
from adapters.persistence.repositories.tax_rows import issued_of, issued_row
from adapters.persistence.repositories.usage import usage_from_row
from adapters.persistence.tables.calls import usage_records
from adapters.persistence.tables.invoicing import (
    account_credits,
    closed_periods,
    credit_notes,
    credit_uses,
    invoice_lines,
    invoices,
)
from adapters.persistence.tables.tax import invoice_issued_details
from adapters.persistence.types import ExactDecimal, canonical
from domain.billing.money import Money, exact_sum
from domain.billing.periods import Period
from domain.invoicing.invoices import (
    AccountCredit,
    CreditNote,
    CreditUse,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    UsageGroup,
)
from domain.invoicing.ports import InvoiceClaim, InvoiceFilter, InvoiceRepository
from domain.metering.usage import UsageRecord

_LIVE = text("status <> 'void'")


class SqlAlchemyInvoiceRepository(InvoiceRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @property
    def _postgres(self) -> bool:
        return self._conn.dialect.name == "postgresql"

    async def claim(self, claim: InvoiceClaim) -> bool:
        insert: Any = postgresql.insert if self._postgres else sqlite.insert
        values = {
            "id": claim.id,
            "client_id": claim.client_id,
            "period": claim.period.label,
            "period_start": claim.period.start,
            "period_end": claim.period.end,
            "status": InvoiceStatus.DRAFT.value,
            "early": False,
            "created_at": claim.created_at,
        }
        statement = (
            insert(invoices)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["client_id", "period"], index_where=_LIVE)
        )
        async with translated_errors("invoices"):
            result = await self._conn.execute(statement)
        return bool(result.rowcount == 1)

    async def take_usage(self, invoice_id: str, client_id: str, before: datetime) -> None:
        column = usage_records.c
        await self._conn.execute(
            update(usage_records)
            .where(column.client_id == client_id, column.invoice_id.is_(None))
            .where(column.started_at < before)
            .values(invoice_id=invoice_id)
        )

    async def usage_groups(self, invoice_id: str, period: Period) -> Sequence[UsageGroup]:
        return await self._groups(usage_records.c.invoice_id == invoice_id, period)

    async def unbilled_groups(self, client_id: str, period: Period) -> Sequence[UsageGroup]:
        column = usage_records.c
        free = and_(column.client_id == client_id, column.invoice_id.is_(None))
        return await self._groups(free, period)

    async def unbilled_records(self, client_id: str, before: datetime) -> Sequence[UsageRecord]:
        column = usage_records.c
        statement = (
            select(usage_records)
            .where(column.client_id == client_id, column.invoice_id.is_(None))
            .where(column.started_at < before)
            .order_by(column.started_at, column.request_id, column.attempt)
        )
        result = await self._conn.execute(statement)
        return [usage_from_row(row) for row in result.mappings()]

    async def _groups(self, which: Any, period: Period) -> Sequence[UsageGroup]:
        column = usage_records.c
        mine = (which, column.started_at >= period.start, column.started_at < period.end)
        if not self._postgres:  # SQLite would sum TEXT amounts as floats: add them here
            rows = await self._conn.execute(select(usage_records).where(*mine))
            return grouped(period.label, [usage_from_row(r) for r in rows.mappings()])
        sums = [func.sum(column[f"{n}_tokens"]).label(f"{n}_tokens") for n in TOKENS]
        statement = (
            select(
                column.model_id,
                column.byok,
                column.charge_currency,
                column.cost_currency,
                func.count().label("requests"),
                func.sum(column.charge, type_=ExactDecimal()).label("charge"),
                func.sum(column.list_cost, type_=ExactDecimal()).label("list_cost"),
                *sums,
            )
            .where(*mine)
            .group_by(column.model_id, column.byok, column.charge_currency, column.cost_currency)
            .order_by(column.model_id, column.byok)
        )
        result = await self._conn.execute(statement)
        return [
            UsageGroup(
                period.label,
                row["model_id"],
                int(row["requests"]),
                tokens_of(row),
                Money(canonical(row["charge"]), row["charge_currency"]),
                bool(row["byok"]),
                None
                if row["list_cost"] is None
                else Money(canonical(row["list_cost"]), row["cost_currency"]),
            )
            for row in result.mappings()
        ]

    async def usage_records(
        self, invoice_id: str, started_before: datetime | None = None
    ) -> Sequence[UsageRecord]:
        column = usage_records.c
        statement = select(usage_records).where(column.invoice_id == invoice_id)
        if started_before is not None:
            statement = statement.where(column.started_at < started_before)
        statement = statement.order_by(column.started_at, column.request_id, column.attempt)
        result = await self._conn.execute(statement)
        return [usage_from_row(row) for row in result.mappings()]

    async def finalize(self, invoice: Invoice) -> None:
        await save_conversions(self._conn, invoice)  # rates and converted lines, apart
        invoice = stored_exact(invoice)
        if invoice.lines:
            rows = [line_row(invoice.id, line) for line in invoice.lines]
            async with translated_errors("invoice_lines"):
                await self._conn.execute(invoice_lines.insert(), rows)
        values = {
            "status": invoice.status.value,
            "number": invoice.number,
            "currency": invoice.currency,
            "tax_rate": invoice.tax_rate,
            "subtotal": invoice.subtotal.amount,
            "tax": invoice.tax.amount,
            "total": invoice.total.amount,
            "issued_at": invoice.issued_at,
            "due_at": invoice.due_at,
            "bill_to_name": invoice.bill_to.name,
            "bill_to_email": invoice.bill_to.email,
            "early": invoice.early,
        }
        statement = (
            update(invoices)
            .where(invoices.c.id == invoice.id, invoices.c.status == InvoiceStatus.DRAFT.value)
            .values(**values)
        )
        async with translated_errors("invoices"):
            result = await self._conn.execute(statement)
        if result.rowcount != 1:
            raise RuntimeError(f"invoice {invoice.id} is not a claimed draft")
        if invoice.issued is not None:
            async with translated_errors("invoice_issued_details"):
                await self._conn.execute(
                    invoice_issued_details.insert(), issued_row(invoice.id, invoice.issued)
                )

    async def next_number(self, counter: str) -> int:
        return await increment_counter(self._conn, counter)

    async def get(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        statement = select(invoices).where(
            invoices.c.id == invoice_id, invoices.c.status != InvoiceStatus.DRAFT.value
        )
        if for_update and self._postgres:  # SQLite's write transaction is already exclusive
            statement = statement.with_for_update()
        found = await self._load(statement)
        return found[0] if found else None

    async def find(self, where: InvoiceFilter) -> Sequence[Invoice]:
        column = invoices.c
        statement = select(invoices).where(column.status != InvoiceStatus.DRAFT.value)
        if where.client_ids is not None:
            statement = statement.where(column.client_id.in_(list(where.client_ids)))
        if where.period is not None:
            statement = statement.where(column.period == where.period)
        if where.status is not None:
            statement = statement.where(column.status == where.status.value)
        return await self._load(statement.order_by(column.period.desc(), column.number))

    async def _load(self, statement: Any) -> list[Invoice]:
        rows = list((await self._conn.execute(statement)).mappings())
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        currency = {row["id"]: row["currency"] for row in rows}
        result = await self._conn.execute(
            select(invoice_lines)
            .where(invoice_lines.c.invoice_id.in_(ids))
            .order_by(invoice_lines.c.invoice_id, invoice_lines.c.position)
        )
        lines: dict[str, list[InvoiceLine]] = defaultdict(list)
        for line in result.mappings():
            lines[line["invoice_id"]].append(line_of(line, currency[line["invoice_id"]]))
        found = await self._conn.execute(
            select(invoice_issued_details).where(invoice_issued_details.c.invoice_id.in_(ids))
        )
        issued = {row["invoice_id"]: issued_of(row) for row in found.mappings()}
        loaded = [
            replace(invoice_of(row, lines[row["id"]]), issued=issued.get(row["id"])) for row in rows
        ]
        return await load_conversions(self._conn, loaded)

    async def change_status(
        self, invoice_id: str, status: InvoiceStatus, at: datetime, reason: str | None = None
    ) -> bool:
        if status is InvoiceStatus.PAID:
            values: dict[str, Any] = {"status": status.value, "paid_at": at}
        elif status is InvoiceStatus.VOID:
            values = {"status": status.value, "voided_at": at, "void_reason": reason}
        else:
            raise ValueError(f"an invoice cannot become {status} after finalizing")
        statement = (
            update(invoices)
            .where(and_(invoices.c.id == invoice_id, invoices.c.status == "finalized"))
            .values(**values)
        )
        async with translated_errors("invoices"):
            result = await self._conn.execute(statement)
        return bool(result.rowcount == 1)

    async def release_usage(self, invoice_id: str) -> None:
        await self._conn.execute(
            update(usage_records)
            .where(usage_records.c.invoice_id == invoice_id)
            .values(invoice_id=None)
        )

    async def uninvoiced_charge(self, client_id: str, currency: str) -> Money:
        column = usage_records.c
        mine = (
            column.client_id == client_id,
            column.charge_currency == currency,
            column.invoice_id.is_(None),
        )
        if self._postgres:
            total = select(func.sum(column.charge, type_=ExactDecimal())).where(*mine)
            amount = (await self._conn.execute(total)).scalar_one()
            return Money(canonical(amount) if amount is not None else Decimal(0), currency)
        result = await self._conn.execute(select(column.charge).where(*mine))
        return Money(canonical(exact_sum(*result.scalars())), currency)

    async def add_credit_note(self, note: CreditNote) -> None:
        values = {
            "id": note.id,
            "invoice_id": note.invoice_id,
            "client_id": note.client_id,
            "number": note.number,
            "amount": note.amount.amount,
            "currency": note.amount.currency,
            "reason": note.reason,
            "issued_at": note.issued_at,
        }
        async with translated_errors("credit_notes"):
            await self._conn.execute(credit_notes.insert().values(**values))

    async def credit_notes(self, invoice_id: str) -> Sequence[CreditNote]:
        result = await self._conn.execute(
            select(credit_notes)
            .where(credit_notes.c.invoice_id == invoice_id)
            .order_by(credit_notes.c.issued_at, credit_notes.c.number)
        )
        return [note_of(row) for row in result.mappings()]

    async def grant_credit(self, credit: AccountCredit) -> None:
        values = {
            "id": credit.id,
            "client_id": credit.client_id,
            "amount": credit.amount.amount,
            "currency": credit.amount.currency,
            "reason": credit.reason,
            "granted_at": credit.granted_at,
        }
        async with translated_errors("account_credits"):
            await self._conn.execute(account_credits.insert().values(**values))

    async def available_credits(self, client_id: str) -> Sequence[AccountCredit]:
        statement = (
            select(account_credits)
            .where(account_credits.c.client_id == client_id)
            .order_by(account_credits.c.granted_at, account_credits.c.id)
        )
        if self._postgres:  # two closes of one client take its credits one after the other
            statement = statement.with_for_update()
        credits = list((await self._conn.execute(statement)).mappings())
        if not credits:
            return []
        uses = await self._conn.execute(
            select(credit_uses.c.credit_id, credit_uses.c.amount)
            .join(invoices, invoices.c.id == credit_uses.c.invoice_id)
            .where(credit_uses.c.credit_id.in_([c["id"] for c in credits]))
            .where(invoices.c.status != InvoiceStatus.VOID.value)
        )
        used: dict[str, list[Decimal]] = defaultdict(list)
        for credit_id, amount in uses:
            used[credit_id].append(amount)
        available = []
        for row in credits:
            amount = cents(row["amount"], row["currency"])
            left = amount.amount - exact_sum(*used[row["id"]])
            if left > 0:
                available.append(
                    AccountCredit(
                        id=row["id"],
                        client_id=row["client_id"],
                        amount=amount,
                        reason=row["reason"],
                        granted_at=row["granted_at"],
                        remaining=cents(left, row["currency"]),
                    )
                )
        return available

    async def use_credits(self, invoice_id: str, uses: Sequence[CreditUse]) -> None:
        if not uses:
            return
        rows = [
            {"credit_id": u.credit_id, "invoice_id": invoice_id, "amount": u.amount.amount}
            for u in uses
        ]
        async with translated_errors("credit_uses"):
            await self._conn.execute(credit_uses.insert(), rows)

    async def mark_closed(self, label: str, at: datetime, early: bool) -> None:
        values = {"period": label, "closed_at": at, "early": early}
        if await insert_unless_exists(self._conn, closed_periods, values, ["period"]) or early:
            return
        await self._conn.execute(
            update(closed_periods).where(closed_periods.c.period == label).values(early=False)
        )

    async def closed(self, label: str, *, after_its_end: bool = False) -> bool:
        statement = select(closed_periods.c.period).where(closed_periods.c.period == label)
        if after_its_end:
            statement = statement.where(closed_periods.c.early.is_(False))
        return (await self._conn.execute(statement)).first() is not None

    async def latest_closed(self) -> str | None:
        statement = select(func.max(closed_periods.c.period))
        latest = (await self._conn.execute(statement)).scalar_one()
        return None if latest is None else str(latest)
