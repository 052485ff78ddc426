"""Closing periods into invoices on SQLite and PostgreSQL: one invoice per client and period,
gap-free numbers under concurrent closes, late usage exactly once, database-enforced
immutability, voids, payments, credit notes and the ledger check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.database import create_engine
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.billing.money import Money
from domain.billing.plans import FixedFee, PercentageMargin, PlanVersion, PricingPlan
from domain.errors import Conflict, PeriodNotEnded, ValidationError
from domain.ids import new_id
from domain.invoicing.invoices import InvoiceStatus, LineKind
from domain.invoicing.ledger import EntryKind
from domain.invoicing.ports import InvoiceFilter
from domain.usecases.clients import ClientUseCases
from domain.usecases.invoicing import InvoiceTerms, InvoiceUseCases
from tests.fakes import FrozenClock
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
APRIL_START = datetime(2026, 4, 1, tzinfo=UTC)
MAY_START = datetime(2026, 5, 1, tzinfo=UTC)
AFTER_APRIL = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)


async def add_client(uow: UowFactory, plan: PricingPlan, tax: str = "20") -> tuple[str, str]:
    client = builders.client(currency="USD", tax_rate=Decimal(tax), created_at=APRIL_START)
    key = builders.key(client.id)
    version = PlanVersion(new_id(), client.id, plan, APRIL_START, APRIL_START)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.plans.add(version)
        await tx.commit()
    return client.id, key.id


async def call(
    uow: UowFactory, client_id: str, key_id: str, at: datetime, charge: str, model: str = "m/a"
) -> None:
    record = builders.usage(
        client_id,
        key_id,
        started_at=at,
        model_id=model,
        charge=Money(Decimal(charge), "USD"),
        cost=Money(Decimal(charge), "USD"),
    )
    async with uow() as tx:
        assert await tx.usage.add(record)
        await tx.ledger.append(
            builders.entry(client_id, charge, reference=f"{record.request_id}#1")
        )
        await tx.commit()


def invoicing(uow: UowFactory, clock: FrozenClock) -> InvoiceUseCases:
    return InvoiceUseCases(uow, clock)


async def test_closing_finalizes_one_invoice_per_client_with_lines_and_totals(
    uow: UowFactory,
) -> None:
    margin, key = await add_client(uow, PercentageMargin(Decimal(10)))
    fee, fee_key = await add_client(uow, FixedFee(Money("100.00")), tax="0")
    await add_client(uow, PercentageMargin(Decimal(10)))  # idle
    await call(uow, margin, key, APRIL_START + timedelta(days=3), "1.005")
    await call(uow, margin, key, APRIL_START + timedelta(days=4), "2.0", model="m/b")
    await call(uow, fee, fee_key, APRIL_START + timedelta(days=5), "0.123456789")
    clock = FrozenClock(AFTER_APRIL)
    invoices = invoicing(uow, clock)

    result = await invoices.close_period("2026-04")

    by_client = {i.client_id: i for i in result.created}
    assert set(by_client) == {margin, fee}  # the idle client owes nothing: no invoice
    first = by_client[margin]
    assert [(line.kind, line.model_id, line.amount) for line in first.lines] == [
        (LineKind.USAGE, "m/a", Money("1.00")),  # 1.005 half-even
        (LineKind.USAGE, "m/b", Money("2.00")),
    ]
    assert (first.subtotal, first.tax, first.total) == (
        Money("3.00"),
        Money("0.60"),
        Money("3.60"),
    )
    second = by_client[fee]
    assert [line.amount for line in second.lines] == [Money("0.12"), Money("100.00")]
    assert second.total == Money("100.12")
    numbers = sorted(i.number for i in result.created)
    assert numbers == ["INV-2026-0001", "INV-2026-0002"]
    again = await invoices.close_period("2026-04")
    assert again.created == ()
    stored = await invoices.find(InvoiceFilter(period="2026-04"))
    assert len(stored) == 2
    assert await invoices.verify() == []


@pytest.mark.parametrize("early", [False, True])
async def test_a_period_that_has_not_ended_closes_only_early(uow: UowFactory, early: bool) -> None:
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    await call(uow, client, key, APRIL_START + timedelta(days=1), "5")
    clock = FrozenClock(APRIL_START + timedelta(days=10))
    invoices = invoicing(uow, clock)
    if not early:
        with pytest.raises(PeriodNotEnded):
            await invoices.close_period("2026-04")
        assert await invoices.find(InvoiceFilter()) == []
        return
    with pytest.raises(ValidationError, match="has not started"):
        await invoices.close_period("2026-05", early=True)
    [invoice] = (await invoices.close_period("2026-04", early=True)).created
    assert invoice.early
    # Usage after the early close, in April, lands on May's invoice as a prior-period line.
    await call(uow, client, key, APRIL_START + timedelta(days=20), "7")
    clock.set(datetime(2026, 6, 1, 1, tzinfo=UTC))
    assert (await invoices.close_period("2026-04")).created == ()
    [may] = (await invoices.close_period("2026-05")).created
    assert [(line.kind, line.usage_period, line.amount) for line in may.lines] == [
        (LineKind.PRIOR_USAGE, "2026-04", Money("7.00"))
    ]
    assert await invoices.verify() == []


async def test_late_usage_lands_exactly_once_on_the_next_invoice(uow: UowFactory) -> None:
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    await call(uow, client, key, APRIL_START + timedelta(days=2), "1")
    clock = FrozenClock(AFTER_APRIL)
    invoices = invoicing(uow, clock)
    [april] = (await invoices.close_period("2026-04")).created
    await call(uow, client, key, MAY_START - timedelta(seconds=1), "2")  # late, for April
    await call(uow, client, key, MAY_START + timedelta(days=1), "3")
    clock.set(datetime(2026, 6, 2, tzinfo=UTC))

    [may] = (await invoices.close_period("2026-05")).created
    assert (await invoices.close_period("2026-05")).created == ()

    assert april.total == Money("1.00")
    assert [(line.kind, line.usage_period, line.amount) for line in may.lines] == [
        (LineKind.USAGE, "2026-05", Money("3.00")),
        (LineKind.PRIOR_USAGE, "2026-04", Money("2.00")),
    ]
    behind = await invoices.usage_behind(may.id)
    assert sorted(r.charge.amount for r in behind) == [Decimal(2), Decimal(3)]
    assert await invoices.verify() == []


async def test_void_releases_usage_and_the_period_closes_again_with_a_new_number(
    uow: UowFactory,
) -> None:
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="10")
    await call(uow, client, key, APRIL_START + timedelta(days=2), "10")
    invoices = invoicing(uow, FrozenClock(AFTER_APRIL))
    [first] = (await invoices.close_period("2026-04")).created

    with pytest.raises(ValidationError):
        await invoices.void(first.id, "  ")
    voided = await invoices.void(first.id, "wrong billing address")
    assert voided.status is InvoiceStatus.VOID
    assert voided.void_reason == "wrong billing address"
    with pytest.raises(Conflict):
        await invoices.mark_paid(first.id)
    [second] = (await invoices.close_period("2026-04")).created

    assert (first.number, second.number) == ("INV-2026-0001", "INV-2026-0002")
    assert second.total == first.total == Money("11.00")
    paid = await invoices.mark_paid(second.id)
    assert paid.status is InvoiceStatus.PAID
    assert (await invoices.mark_paid(second.id)).status is InvoiceStatus.PAID  # idempotent
    note = await invoices.issue_credit_note(second.id, "4.00", "goodwill")
    assert note.number == "CN-2026-0001"
    with pytest.raises(ValidationError, match=r"at most 7\.00"):
        await invoices.issue_credit_note(second.id, "7.01", "too much")
    with pytest.raises(Conflict):
        await invoices.issue_credit_note(first.id, "1", "void invoice")
    assert await invoices.verify() == []


async def test_verify_reports_a_ledger_that_does_not_add_up(uow: UowFactory) -> None:
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    await call(uow, client, key, APRIL_START + timedelta(days=2), "10")
    invoices = invoicing(uow, FrozenClock(AFTER_APRIL))
    [invoice] = (await invoices.close_period("2026-04")).created
    async with uow() as tx:
        await tx.ledger.append(
            builders.entry(client, "0.01", kind=EntryKind.FEE, reference=f"{invoice.id}#9")
        )
        await tx.commit()
    problems = await invoices.verify()
    assert any("do not add up to its total" in p for p in problems)


async def test_the_database_refuses_edits_to_a_finalized_invoice(
    uow: UowFactory, engine: AsyncEngine
) -> None:
    await add_client(uow, FixedFee(Money("50.00")), tax="0")
    invoices = invoicing(uow, FrozenClock(AFTER_APRIL))
    [invoice] = (await invoices.close_period("2026-04")).created
    refused = [
        "UPDATE invoices SET total = 1 WHERE id = :id",
        "UPDATE invoices SET number = 'INV-2026-9999' WHERE id = :id",
        "UPDATE invoices SET status = 'draft' WHERE id = :id",
        "UPDATE invoice_lines SET amount = 1 WHERE invoice_id = :id",
        "DELETE FROM invoice_lines WHERE invoice_id = :id",
        "INSERT INTO invoice_lines (invoice_id, position, kind, description, requests,"
        " input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,"
        " reasoning_tokens, amount, exact_amount)"
        " VALUES (:id, 99, 'fixed_fee', 'x', 0, 0, 0, 0, 0, 0, 1, 1)",
        "DELETE FROM invoices WHERE id = :id",
    ]
    for statement in refused:
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(text(statement), {"id": invoice.id})
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE invoices SET status = 'paid', paid_at = created_at WHERE id = :id"),
            {"id": invoice.id},
        )
    with pytest.raises(DBAPIError):  # paid is final too
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE invoices SET status = 'void' WHERE id = :id"), {"id": invoice.id}
            )
    assert (await invoices.get(invoice.id)).total == Money("50.00")


async def test_six_concurrent_closes_make_one_invoice_per_client_and_consecutive_numbers(
    database_url: str, uow: UowFactory
) -> None:
    clients = []
    for i in range(8):
        client, key = await add_client(uow, PercentageMargin(Decimal(5)), tax="0")
        for day in range(1, 4):
            await call(uow, client, key, APRIL_START + timedelta(days=day, hours=i), "1.25")
        clients.append(client)
    # Six closers with their own connection pools, as six processes would have.
    engines = [create_engine(database_url) for _ in range(6)]
    try:
        closers = [
            InvoiceUseCases(unit_of_work_factory(e), FrozenClock(AFTER_APRIL)) for e in engines
        ]
        results = await asyncio.gather(*(c.close_period("2026-04") for c in closers))
    finally:
        for e in engines:
            await e.dispose()

    created = [invoice for result in results for invoice in result.created]
    assert sorted(i.client_id for i in created) == sorted(clients)
    stored = await invoicing(uow, FrozenClock(AFTER_APRIL)).find(InvoiceFilter())
    assert sorted(i.client_id for i in stored) == sorted(clients)
    assert sorted(i.number for i in stored) == [f"INV-2026-{n:04d}" for n in range(1, 9)]
    assert {i.total for i in stored} == {Money("3.75")}


async def test_ended_periods_close_by_themselves_after_the_grace_time(uow: UowFactory) -> None:
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    await call(uow, client, key, APRIL_START + timedelta(days=2), "4")
    await call(uow, client, key, MAY_START + timedelta(days=2), "6")
    clock = FrozenClock(MAY_START + timedelta(hours=23))
    invoices = InvoiceUseCases(uow, clock, terms=InvoiceTerms(grace=timedelta(hours=24)))

    assert await invoices.close_due() == []  # April ended, but the grace time has not passed
    clock.set(datetime(2026, 6, 1, 1, tzinfo=UTC))
    [april] = await invoices.close_due()  # May's grace has not passed yet either
    assert april.period.label == "2026-04"
    assert [i.total for i in april.created] == [Money("4.00")]
    clock.set(datetime(2026, 7, 15, tzinfo=UTC))  # a process down for weeks catches up
    [may, june] = await invoices.close_due()
    assert [r.period.label for r in (may, june)] == ["2026-05", "2026-06"]
    assert [i.total for i in may.created] == [Money("6.00")]
    assert june.created == ()
    assert await invoices.close_due() == []


async def test_a_plan_version_cannot_start_inside_a_closed_period(uow: UowFactory) -> None:
    client, _ = await add_client(uow, FixedFee(Money("10.00")))
    clock = FrozenClock(AFTER_APRIL)
    invoices = invoicing(uow, clock)
    clients = ClientUseCases(uow, clock, in_closed_period=invoices.in_closed_period)
    await clients.set_plan(client, FixedFee(Money("20.00")), APRIL_START + timedelta(days=9))
    await invoices.close_period("2026-04")

    for inside in (APRIL_START + timedelta(days=20), APRIL_START - timedelta(days=3)):
        with pytest.raises(ValidationError, match="closed billing period"):
            await clients.set_plan(client, FixedFee(Money("30.00")), inside)
    may = await clients.set_plan(client, FixedFee(Money("30.00")), MAY_START)
    assert may.effective_from == MAY_START


async def test_concurrent_payments_pay_once_and_periods_read_back_in_the_agency_zone(
    database_url: str, uow: UowFactory
) -> None:
    paris = ZoneInfo("Europe/Paris")
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    # 22:30 UTC on 30 April is 1 May in Paris: May's usage there.
    await call(uow, client, key, datetime(2026, 4, 30, 22, 30, tzinfo=UTC), "3")
    clock = FrozenClock(datetime(2026, 6, 2, tzinfo=UTC))
    [may] = (await InvoiceUseCases(uow, clock, paris).close_period("2026-05")).created
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        payers = [InvoiceUseCases(unit_of_work_factory(e), clock, paris) for e in engines]
        paid = await asyncio.gather(*(p.mark_paid(may.id) for p in payers))
    finally:
        for e in engines:
            await e.dispose()

    assert {p.status for p in paid} == {InvoiceStatus.PAID}
    async with uow() as tx:
        payments = [e for e in await tx.ledger.entries(client) if e.kind is EntryKind.PAYMENT]
    assert [e.amount for e in payments] == [-Money("3.00")]
    stored = await InvoiceUseCases(uow, clock, paris).get(may.id)
    assert stored.period == may.period
    assert stored.period.start == datetime(2026, 5, 1, tzinfo=paris)
    assert await InvoiceUseCases(uow, clock, paris).verify() == []


async def test_account_credits_become_lines_carry_over_and_come_back_on_void(
    uow: UowFactory,
) -> None:
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="10")
    await call(uow, client, key, APRIL_START + timedelta(days=2), "10")
    await call(uow, client, key, MAY_START + timedelta(days=2), "30")
    clock = FrozenClock(AFTER_APRIL)
    invoices = invoicing(uow, clock)
    with pytest.raises(ValidationError):
        await invoices.grant_credit(client, "0.001", "sub-cent")
    await invoices.grant_credit(client, "4.00", "outage in March")
    clock.advance(seconds=1)
    await invoices.grant_credit(client, "20.00", "goodwill")

    [april] = (await invoices.close_period("2026-04")).created
    assert [(line.kind, line.amount) for line in april.lines] == [
        (LineKind.USAGE, Money("10.00")),
        (LineKind.CREDIT, Money("-4.00")),
        (LineKind.CREDIT, Money("-6.00")),
    ]
    assert (april.subtotal, april.tax, april.total) == (Money("0.00"), Money("0.00"), Money("0.00"))
    assert [c.remaining for c in await invoices.credits(client)] == [Money("14.00")]

    clock.set(datetime(2026, 6, 2, tzinfo=UTC))
    [may] = (await invoices.close_period("2026-05")).created
    assert [line.amount for line in may.lines] == [Money("30.00"), Money("-14.00")]
    assert may.total == Money("17.60")
    assert await invoices.credits(client) == []
    assert await invoices.verify() == []

    await invoices.void(may.id, "wrong")
    assert [c.remaining for c in await invoices.credits(client)] == [Money("14.00")]
    [again] = (await invoices.close_period("2026-05")).created
    assert again.total == may.total
    assert await invoices.verify() == []


async def test_the_draft_is_the_invoice_closing_would_finalize(uow: UowFactory) -> None:
    client, key = await add_client(uow, FixedFee(Money("25.00")), tax="19")
    async with uow() as tx:
        await tx.plans.add(
            PlanVersion(
                new_id(),
                client,
                FixedFee(Money("40.00")),
                MAY_START - timedelta(days=9),
                APRIL_START,
            )
        )
        await tx.commit()
    await call(uow, client, key, APRIL_START - timedelta(days=2), "1.115")  # March, never billed
    await call(uow, client, key, APRIL_START + timedelta(days=2), "2.225", model="m/b")
    await call(uow, client, key, APRIL_START + timedelta(days=3), "0.001", model="m/a")
    clock = FrozenClock(AFTER_APRIL)
    invoices = invoicing(uow, clock)
    await invoices.grant_credit(client, "3.00", "sorry")

    draft = await invoices.draft(client, "2026-04")
    [invoice] = (await invoices.close_period("2026-04")).created

    assert draft.lines == invoice.lines
    assert (draft.subtotal, draft.tax, draft.total) == (
        invoice.subtotal,
        invoice.tax,
        invoice.total,
    )
    assert [line.kind for line in invoice.lines] == [
        LineKind.USAGE,
        LineKind.USAGE,
        LineKind.PRIOR_USAGE,
        LineKind.FIXED_FEE,
        LineKind.FIXED_FEE,
        LineKind.CREDIT,
    ]
    with pytest.raises(Conflict, match="INV-2026-0001"):
        await invoices.draft(client, "2026-04")
    may = await invoices.draft(client, "2026-05")
    assert [line.amount for line in may.lines] == [Money("40.00")]


async def test_a_period_closed_early_closes_again_after_its_end_for_the_others(
    uow: UowFactory,
) -> None:
    leaving, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    await call(uow, leaving, key, APRIL_START + timedelta(days=1), "5")
    clock = FrozenClock(APRIL_START + timedelta(days=10))
    invoices = InvoiceUseCases(uow, clock, terms=InvoiceTerms(grace=timedelta(hours=1)))
    [early] = (await invoices.close_period("2026-04", early=True)).created
    await call(uow, leaving, key, APRIL_START + timedelta(days=12), "1")  # after the close
    joined, joined_key = await add_client(uow, FixedFee(Money("30.00")), tax="0")
    await call(uow, joined, joined_key, APRIL_START + timedelta(days=15), "2")

    clock.set(MAY_START + timedelta(hours=2))
    [april] = await invoices.close_due()

    assert [i.client_id for i in april.created] == [joined]
    assert april.created[0].total == Money("32.00")
    assert early.client_id == leaving
    assert await invoices.close_due() == []
    clock.set(datetime(2026, 6, 1, 3, tzinfo=UTC))
    [may] = await invoices.close_due()
    [late] = [i for i in may.created if i.client_id == leaving]
    assert [(line.kind, line.amount) for line in late.lines] == [
        (LineKind.PRIOR_USAGE, Money("1.00"))
    ]
