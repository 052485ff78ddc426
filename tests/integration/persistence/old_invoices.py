"""Data written at an older revision, for migration tests: an invoice finalized step by step as
closing did before the revision (so today's closing code, which writes newer columns, is not
used), and the rows of some tables to compare before and after the upgrade."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from adapters.persistence.database import create_engine
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.periods import Period
from domain.invoicing.invoices import (
    BillingDetails,
    Invoice,
    InvoiceStatus,
    compose_lines,
    totals,
)
from domain.invoicing.ports import InvoiceClaim
from domain.invoicing.postings import finalization_entries
from domain.usecases.invoice_reads import invoice_usage
from tests.integration.persistence.test_invoices import AFTER_APRIL

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def finalized_by_hand(
    uow: UowFactory, client_id: str, period: Period, zone: ZoneInfo, tax_rate: Decimal
) -> Invoice:
    """The client's USD invoice of `period` as an older closing wrote it, with its ledger."""
    async with uow() as tx:
        claim = InvoiceClaim("inv-old", client_id, period, AFTER_APRIL)
        assert await tx.invoices.claim(claim)
        await tx.invoices.take_usage(claim.id, client_id, period.end)
        lines = compose_lines(period, await invoice_usage(tx, claim.id, period, zone), [], "USD")
        sums = totals(lines, tax_rate, "USD")
        sequence = await tx.invoices.next_number("INV-2026")
        old = Invoice(
            id=claim.id,
            client_id=client_id,
            period=period,
            number=f"INV-2026-{sequence:04d}",
            status=InvoiceStatus.FINALIZED,
            currency="USD",
            tax_rate=tax_rate,
            lines=tuple(lines),
            subtotal=sums.subtotal,
            tax=sums.tax,
            total=sums.total,
            issued_at=AFTER_APRIL,
            due_at=AFTER_APRIL + timedelta(days=30),
            bill_to=BillingDetails("Old client", "ap@old.test"),
        )
        await tx.invoices.finalize(old)
        for entry in finalization_entries(old):
            await tx.ledger.append(entry)
        await tx.commit()
    return old


async def rows(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(statement))).all()]
    finally:
        await engine.dispose()


async def snapshot(url: str, tables: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table, ordered, to compare before and after an upgrade."""
    return {t: await rows(url, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
