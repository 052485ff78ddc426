"""Clients billed in their own currency on SQLite and PostgreSQL (docs/currencies.md): USD
usage on a EUR and a JPY invoice equals an independent Decimal recomputation (each call's
charge x the rate in force on its day, summed, rounded once per line); the invoice keeps the
rates it used; the books check holds; a missing rate refuses that client's invoice with an
alert while the others close; a database of 0016 migrates with its rows unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.accounting.journal import unbalanced
from domain.alerting.alerts import AlertKind
from domain.billing.exchange import ExchangeRate, MissingRate
from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.billing.plans import FixedFee, PercentageMargin, PlanVersion, PricingPlan
from domain.ids import new_id
from domain.invoicing.invoices import (
    LineKind,
)
from domain.usecases.accounting import AccountingExports
from domain.usecases.invoicing import InvoiceUseCases
from tests.fakes import FrozenClock
from tests.integration.persistence import builders
from tests.integration.persistence.old_invoices import finalized_by_hand, snapshot
from tests.integration.persistence.test_invoices import AFTER_APRIL, APRIL_START, call

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
EARLY = ExchangeRate("USD", "EUR", Decimal("0.923456789012"), date(2026, 3, 30), "ECB")
MID = ExchangeRate("USD", "EUR", Decimal("0.91"), date(2026, 4, 15), "manual")
YEN = ExchangeRate("USD", "JPY", Decimal("151.123456"), date(2026, 4, 1), "ECB")


async def add_client(uow: UowFactory, plan: PricingPlan, currency: str) -> tuple[str, str]:
    client = builders.client(currency=currency, tax_rate=Decimal(0), created_at=APRIL_START)
    key = builders.key(client.id)
    version = PlanVersion(new_id(), client.id, plan, APRIL_START, APRIL_START)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.plans.add(version)
        await tx.commit()
    return client.id, key.id


async def set_rates(uow: UowFactory, *rates: ExchangeRate) -> None:
    async with uow() as tx:
        await tx.rates.set(rates, AFTER_APRIL)
        await tx.commit()


def rounded(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


# (day of April, model, USD charge): rates change on the 15th
CALLS = [
    (2, "m/a", "1.000000000000000005"),
    (10, "m/a", "2.123456789012345678"),
    (20, "m/a", "0.333333333333333333"),
    (21, "m/b", "7.5"),
]


async def test_usd_usage_on_eur_and_jpy_invoices_equals_an_independent_recomputation(
    uow: UowFactory,
) -> None:
    await set_rates(uow, EARLY, MID, YEN)
    euro, euro_key = await add_client(uow, FixedFee(Money("10.00", "EUR")), "EUR")
    yen, yen_key = await add_client(uow, PercentageMargin(Decimal(0)), "JPY")
    usd, usd_key = await add_client(uow, PercentageMargin(Decimal(0)), "USD")
    for day, model, charge in CALLS:
        for client, key in ((euro, euro_key), (yen, yen_key), (usd, usd_key)):
            await call(uow, client, key, APRIL_START + timedelta(days=day - 1), charge, model)
    invoicing = InvoiceUseCases(uow, FrozenClock(AFTER_APRIL))
    draft = await invoicing.draft(euro, "2026-04")

    result = await invoicing.close_period("2026-04")

    assert result.refused == ()
    by_client = {i.client_id: i for i in result.created}
    wide = localcontext()
    wide.__enter__().prec = 80  # the recomputation exact: no product or sum has 80 digits
    for client, rates, places in ((euro, (EARLY, MID), 2), (yen, (YEN,), 0)):
        invoice = await invoicing.get(by_client[client].id)
        assert invoice == by_client[client]  # the stored invoice: rates and exact lines kept
        assert invoice.rates == rates
        for model in ("m/a", "m/b"):
            exact = sum(
                (
                    Decimal(charge) * (MID if day >= 15 else EARLY).rate
                    if invoice.currency == "EUR"
                    else Decimal(charge) * YEN.rate
                    for day, m, charge in CALLS
                    if m == model
                ),
                Decimal(0),
            )
            [line] = [x for x in invoice.lines if x.model_id == model]
            assert line.exact_amount == exact
            assert line.amount == Money(rounded(exact, places), invoice.currency)
            assert line.source == Money(
                sum((Decimal(c) for _, m, c in CALLS if m == model), Decimal(0)), "USD"
            )
        assert invoice.total.amount == rounded(invoice.total.amount, places)
    wide.__exit__(None, None, None)
    euro_invoice = by_client[euro]
    assert [x.kind for x in euro_invoice.lines][-1] is LineKind.FIXED_FEE
    assert draft.lines == euro_invoice.lines
    assert draft.rates == euro_invoice.rates
    assert by_client[usd].rates == ()  # same currency: nothing converted
    assert all(line.source is None for line in by_client[usd].lines)
    assert await invoicing.verify() == []
    async with uow() as tx:  # the USD accruals left USD; EUR owes its total
        assert await tx.ledger.balance(euro, "USD") == Money.zero("USD")
        assert await tx.ledger.balance(euro, "EUR") == euro_invoice.total
    exports = AccountingExports(uow)
    assert unbalanced(await exports.invoices("2026-04")) == []
    assert unbalanced(await exports.ledger("2026-05")) == []
    await invoicing.void(euro_invoice.id, "wrong rate")
    async with uow() as tx:
        assert await tx.ledger.balance(euro, "USD") == Money("10.956790122345679016", "USD")
        assert await tx.ledger.balance(euro, "EUR") == Money.zero("EUR")
    assert await invoicing.verify() == []


async def test_a_missing_rate_refuses_that_clients_invoice_with_an_alert(uow: UowFactory) -> None:
    await set_rates(uow, MID)  # nothing before the 15th
    euro, key = await add_client(uow, PercentageMargin(Decimal(10)), "EUR")
    other, other_key = await add_client(uow, PercentageMargin(Decimal(0)), "USD")
    await call(uow, euro, key, APRIL_START + timedelta(days=2), "5")
    await call(uow, other, other_key, APRIL_START + timedelta(days=2), "5")
    invoicing = InvoiceUseCases(uow, FrozenClock(AFTER_APRIL))
    with pytest.raises(MissingRate, match=r"no exchange rate USD->EUR in force on 2026-04-03"):
        await invoicing.draft(euro, "2026-04")

    result = await invoicing.close_period("2026-04")

    assert [i.client_id for i in result.created] == [other]
    [refused] = result.refused
    assert refused.client_id == euro
    assert "USD->EUR" in refused.reason
    async with uow() as tx:
        alerts = await tx.alerts.recent()
    assert [(a.kind, a.details["client_id"]) for a in alerts] == [(AlertKind.INVOICE_REFUSED, euro)]
    await set_rates(uow, EARLY)
    [late] = (await invoicing.close_period("2026-04")).created
    assert late.client_id == euro
    assert late.lines[0].amount == Money(rounded(Decimal(5) * EARLY.rate, 2), "EUR")
    assert await invoicing.verify() == []


async def test_rates_are_replaced_per_pair_and_day_and_listed_newest_first(
    uow: UowFactory,
) -> None:
    await set_rates(uow, EARLY, MID, YEN)
    await set_rates(uow, ExchangeRate("USD", "EUR", Decimal("0.95"), MID.effective_on, "fix"))
    async with uow() as tx:
        listed = await tx.rates.list(base="USD", quote="EUR")
        book = await tx.rates.book()
        assert await tx.rates.remove("USD", "JPY", YEN.effective_on)
        assert not await tx.rates.remove("USD", "JPY", YEN.effective_on)
        await tx.commit()
    assert [(r.rate, r.source) for r in listed] == [(Decimal("0.95"), "fix"), (EARLY.rate, "ECB")]
    assert book.find("USD", "EUR", date(2026, 4, 14)) == EARLY
    assert book.find("USD", "EUR", date(2026, 3, 29)) is None
    assert book.find("EUR", "USD", date(2026, 4, 20)) is None  # no implicit inverse


async def test_a_database_of_0016_migrates_with_its_usd_data_unchanged(
    empty_database_url: str,
) -> None:
    await upgrade(empty_database_url, "0016")
    engine = create_engine(empty_database_url)
    uow = unit_of_work_factory(engine)
    zone = ZoneInfo("UTC")
    april = month_period("2026-04", zone)
    tables = ("clients", "invoices", "invoice_lines", "ledger_entries", "usage_records")
    try:
        client, key = await add_client(uow, PercentageMargin(Decimal(10)), "USD")
        await call(uow, client, key, APRIL_START + timedelta(days=3), "10.125")
        # what closing writes for a USD client, step by step
        old = await finalized_by_hand(uow, client, april, zone, Decimal(0))
        before = await snapshot(empty_database_url, tables)

        await upgrade(empty_database_url)

        after = await snapshot(empty_database_url, tables)
        assert after == before
        invoicing = InvoiceUseCases(uow, FrozenClock(AFTER_APRIL), zone)
        assert await invoicing.get(old.id) == old
        assert await invoicing.verify() == []
        await call(uow, client, key, datetime(2026, 5, 3, tzinfo=UTC), "1")
        invoicing = InvoiceUseCases(uow, FrozenClock(datetime(2026, 6, 2, tzinfo=UTC)), zone)
        [may] = (await invoicing.close_period("2026-05")).created
        assert may.rates == ()
        assert may.total == Money("1.00")
    finally:
        await engine.dispose()
