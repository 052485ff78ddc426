"""Settling calls billed on an estimate, on SQLite and PostgreSQL (docs/reconciliation.md):
every amount is recomputed here from the price, the plan and the tokens, rounded once; an
over-estimate becomes an account credit (or a wallet credit), an under-estimate is absorbed or
billed as a line of the next invoice (given back to the one after when that invoice is void);
a call is settled once; the books and the wallet statement stay consistent; reconciliation
counts a settled call at its actual figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.reconciliation import SqlReconciliationStore
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.exchange import ExchangeRate
from domain.billing.money import Money, round_to_minor
from domain.billing.plans import PercentageMargin, PlanVersion
from domain.catalog.models import Model, PriceVersion
from domain.errors import Conflict, NotFound, ValidationError
from domain.ids import new_id
from domain.invoicing.invoices import LineKind
from domain.metering.estimate_settlements import EstimateSettlement, SettlementOutcome
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord, UsageSource
from domain.reconciliation import (
    ProviderFigures,
    ReconciliationTable,
    ReportOrigin,
    reconcile,
)
from domain.usecases.estimate_settlements import EstimateSettlements
from domain.usecases.invoicing import InvoiceUseCases
from domain.usecases.wallets import WalletUseCases
from domain.wallets.wallets import BillingMode
from tests.fakes import FrozenClock
from tests.integration.persistence import builders
from tests.integration.persistence.test_invoices import AFTER_APRIL, APRIL_START, MAY_START

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
PRICE = PriceVersion(
    "openai/m-est",
    APRIL_START - timedelta(days=30),
    input=Decimal("2.5"),
    output=Decimal("10"),
    cached_input=Decimal("1.25"),
    id="price-est",
)
MODEL = Model("openai/m-est", "openai", "m-est")
MARGIN = PercentageMargin(Decimal("12.5"))
ESTIMATE = TokenUsage(input_tokens=40_000, output_tokens=900)
CALL_AT = APRIL_START + timedelta(days=9, hours=14, minutes=7)
SETTLED_AT = MAY_START + timedelta(days=3)


async def _client(uow: UowFactory, currency: str = "USD") -> tuple[str, str, str]:
    client = builders.client(currency=currency, tax_rate=Decimal(0), created_at=APRIL_START)
    key = builders.key(client.id)
    version = PlanVersion(new_id(), client.id, MARGIN, APRIL_START, APRIL_START)
    async with uow() as tx:
        if await tx.catalog.get_model(MODEL.id) is None:
            await tx.catalog.save_model(MODEL)
            await tx.catalog.add_price(PRICE)
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.plans.add(version)
        await tx.commit()
    return client.id, key.id, version.id


def _charge(usage: TokenUsage) -> Money:
    return MARGIN.charge(PRICE.cost(usage))


async def _estimated(uow: UowFactory, client: tuple[str, str, str], **over: object) -> UsageRecord:
    client_id, key_id, plan_id = client
    usage = over.pop("usage", ESTIMATE)
    assert isinstance(usage, TokenUsage)
    record = builders.usage(
        client_id,
        key_id,
        model_id=MODEL.id,
        provider="openai",
        usage=usage,
        cost=PRICE.cost(usage),
        charge=_charge(usage),
        price_version_id=PRICE.id,
        plan_version_id=plan_id,
        **({"started_at": CALL_AT, "source": UsageSource.ESTIMATED} | over),
    )
    async with uow() as tx:
        assert await tx.usage.add(record)
        await tx.ledger.append(
            builders.entry(client_id, str(record.charge.amount), reference=f"{record.request_id}#1")
        )
        await tx.commit()
    return record


def _settlements(uow: UowFactory) -> EstimateSettlements:
    return EstimateSettlements(uow, FrozenClock(SETTLED_AT))


def _expected(actual: TokenUsage) -> Money:
    """The charge difference recomputed here, rounded once half-even."""
    exact = _charge(actual).amount - _charge(ESTIMATE).amount
    return Money(round_to_minor(exact, "USD"))


async def test_an_over_estimate_is_credited_on_the_next_invoice(uow: UowFactory) -> None:
    client = await _client(uow)
    record = await _estimated(uow, client)
    actual = TokenUsage(input_tokens=31_234, output_tokens=517, cached_input_tokens=10_000)

    settled = await _settlements(uow).settle(record.id, actual, "OpenAI hour report", "ops")

    amount = _expected(actual)
    assert amount.amount < 0
    assert settled.outcome is SettlementOutcome.CREDITED
    assert settled.amount == amount
    assert settled.cost_delta == PRICE.cost(actual) - PRICE.cost(ESTIMATE)
    assert settled.charge_delta == _charge(actual) - _charge(ESTIMATE)
    assert (settled.actor, settled.reason) == ("ops", "OpenAI hour report")
    invoices = InvoiceUseCases(uow, FrozenClock(AFTER_APRIL + timedelta(days=3)))
    [credit] = await invoices.credits(client[0])
    assert credit.id == settled.reference
    assert credit.amount == -amount
    assert "Settled estimate" in credit.reason

    [invoice] = (await invoices.close_period("2026-04")).created
    lines = {line.kind: line for line in invoice.lines}
    usage_line = Money(round_to_minor(_charge(ESTIMATE).amount, "USD"))
    assert lines[LineKind.USAGE].amount == usage_line
    assert lines[LineKind.CREDIT].amount == amount
    assert invoice.total == usage_line + amount
    assert await invoices.verify() == []


async def test_an_under_estimate_billed_is_a_line_of_the_next_invoice(uow: UowFactory) -> None:
    client = await _client(uow)
    record = await _estimated(uow, client)
    actual = TokenUsage(input_tokens=40_000, output_tokens=88_888)
    cases = _settlements(uow)

    settled = await cases.settle(record.id, actual, "stream cut, provider billed all", "ops", True)

    amount = _expected(actual)
    assert settled.outcome is SettlementOutcome.BILLED
    assert settled.amount == amount
    invoices = InvoiceUseCases(uow, FrozenClock(AFTER_APRIL + timedelta(days=3)))
    draft = await invoices.draft(client[0], "2026-04")
    assert [line.amount for line in draft.lines if line.kind is LineKind.SETTLEMENT] == [amount]

    [invoice] = (await invoices.close_period("2026-04")).created
    [line] = [line for line in invoice.lines if line.kind is LineKind.SETTLEMENT]
    assert line.amount == amount
    assert line.tokens == actual
    usage_line = Money(round_to_minor(_charge(ESTIMATE).amount, "USD"))
    assert invoice.total == usage_line + amount
    assert await invoices.verify() == []
    [on_invoice] = await _on(uow, record.id)
    assert on_invoice.invoice_id == invoice.id

    # void: the settlement waits for the replacement, which bills it once more
    await invoices.void(invoice.id, "wrong address")
    [released] = await _on(uow, record.id)
    assert released.invoice_id is None
    [again] = (await invoices.close_period("2026-04")).created
    assert [x.amount for x in again.lines if x.kind is LineKind.SETTLEMENT] == [amount]
    assert await invoices.verify() == []


async def _on(uow: UowFactory, record_id: str) -> list[EstimateSettlement]:
    async with uow() as tx:
        return list(await tx.settlements.for_records([record_id]))


async def test_an_under_estimate_is_absorbed_unless_billed(uow: UowFactory) -> None:
    client = await _client(uow)
    record = await _estimated(uow, client)
    actual = TokenUsage(input_tokens=40_000, output_tokens=5_000)

    settled = await _settlements(uow).settle(record.id, actual, "late report", "ops")

    assert settled.outcome is SettlementOutcome.ABSORBED
    assert settled.amount == _expected(actual)
    invoices = InvoiceUseCases(uow, FrozenClock(AFTER_APRIL))
    [invoice] = (await invoices.close_period("2026-04")).created
    assert [line.kind for line in invoice.lines] == [LineKind.USAGE]
    assert await invoices.credits(client[0]) == []
    assert await invoices.verify() == []


async def test_a_call_is_settled_once_and_only_an_estimated_one(uow: UowFactory) -> None:
    client = await _client(uow)
    record = await _estimated(uow, client)
    reported = await _estimated(uow, client, source=UsageSource.REPORTED)
    byok = await _estimated(uow, client, byok=True, list_cost=PRICE.cost(ESTIMATE))
    cases = _settlements(uow)

    await cases.settle(record.id, ESTIMATE, "as estimated", "ops")
    with pytest.raises(Conflict):
        await cases.settle(record.id, ESTIMATE, "twice", "ops")
    with pytest.raises(ValidationError, match="reported by the provider"):
        await cases.settle(reported.id, ESTIMATE, "not estimated", "ops")
    with pytest.raises(ValidationError, match="own provider key"):
        await cases.settle(byok.id, ESTIMATE, "byok", "ops")
    with pytest.raises(NotFound):
        await cases.settle("no-such-record", ESTIMATE, "unknown", "ops")
    with pytest.raises(ValidationError, match="reason"):
        await cases.settle(reported.id, ESTIMATE, "   ", "ops")
    [settled] = await _on(uow, record.id)
    assert settled.outcome is SettlementOutcome.UNCHANGED


async def test_a_prepaid_client_is_settled_through_its_wallet(uow: UowFactory) -> None:
    client = await _client(uow)
    wallets = WalletUseCases(uow, FrozenClock(APRIL_START))
    await wallets.set_mode(client[0], BillingMode.PREPAID, "ops")
    await wallets.top_up(client[0], "50.00", None, "transfer", "ops")
    over = await _estimated(uow, client)
    under = await _estimated(uow, client)
    cases = _settlements(uow)
    small = TokenUsage(input_tokens=1_000, output_tokens=10)
    large = TokenUsage(input_tokens=90_000, output_tokens=40_000)
    before = (await wallets.view(client[0])).balance.balance

    back = await cases.settle(over.id, small, "hour report", "ops")
    drawn = await cases.settle(under.id, large, "hour report", "ops", bill_shortfall=True)

    assert back.outcome is SettlementOutcome.WALLET_CREDITED
    assert drawn.outcome is SettlementOutcome.WALLET_DRAWN
    after = (await wallets.view(client[0])).balance.balance
    assert after == before - _expected(small) - _expected(large)
    assert await wallets.verify() == []
    invoices = InvoiceUseCases(uow, FrozenClock(AFTER_APRIL))
    assert await invoices.credits(client[0]) == []


async def test_reconciliation_counts_a_settled_call_at_its_actual_figures(
    uow: UowFactory, engine: AsyncEngine
) -> None:
    client = await _client(uow)
    record = await _estimated(uow, client)
    other = await _estimated(uow, client, source=UsageSource.REPORTED)
    store = SqlReconciliationStore(engine)
    day = CALL_AT.date()
    actual = TokenUsage(input_tokens=12_000, output_tokens=2_000)

    [before] = [
        r
        for r in await store.recorded(day, day + timedelta(days=1), ["openai"])
        if r.model == "m-est" and r.hour.hour == CALL_AT.hour
    ]
    await _settlements(uow).settle(record.id, actual, "hour report", "ops")
    [after] = [
        r
        for r in await store.recorded(day, day + timedelta(days=1), ["openai"])
        if r.model == "m-est" and r.hour.hour == CALL_AT.hour
    ]

    assert (before.estimated_requests, before.settled_requests) == (1, 0)
    assert (after.estimated_requests, after.settled_requests) == (0, 1)
    assert after.requests == before.requests == 2
    assert after.tokens == actual + other.usage
    assert after.cost == PRICE.cost(actual).amount + other.cost.amount
    assert before.tokens == record.usage + other.usage


async def test_a_client_billed_in_another_currency_is_settled_at_the_calls_day_rate(
    uow: UowFactory,
) -> None:
    client = await _client(uow, currency="JPY")
    async with uow() as tx:
        rates = [
            ExchangeRate("USD", "JPY", Decimal("149.37"), APRIL_START.date()),
            ExchangeRate("USD", "JPY", Decimal("155.5"), CALL_AT.date() + timedelta(days=1)),
        ]
        await tx.rates.set(rates, APRIL_START)
        await tx.commit()
    record = await _estimated(uow, client)
    actual = TokenUsage(input_tokens=40_000, output_tokens=123_456)

    settled = await _settlements(uow).settle(record.id, actual, "report", "ops", True)

    exact = (_charge(actual).amount - _charge(ESTIMATE).amount) * Decimal("149.37")
    assert settled.amount == Money(round_to_minor(exact, "JPY"), "JPY")
    assert settled.amount.amount == settled.amount.amount.to_integral_value()  # no minor units
    assert settled.charge_delta.currency == "USD"


async def test_without_a_rate_the_settlement_is_refused_and_nothing_is_written(
    uow: UowFactory,
) -> None:
    client = await _client(uow, currency="GBP")
    record = await _estimated(uow, client)

    with pytest.raises(ValidationError, match="rate"):
        await _settlements(uow).settle(record.id, ESTIMATE, "report", "ops")

    assert await _on(uow, record.id) == []


async def test_the_providers_hour_suggests_the_calls_own_tokens(
    uow: UowFactory, engine: AsyncEngine
) -> None:
    client = await _client(uow)
    record = await _estimated(uow, client)
    other = await _estimated(uow, client, source=UsageSource.REPORTED)
    alone = await _estimated(uow, client, started_at=CALL_AT + timedelta(hours=3))
    await _estimated(uow, client, byok=True, list_cost=PRICE.cost(ESTIMATE))  # not listed
    store = SqlReconciliationStore(engine)
    day = CALL_AT.date()
    hour = CALL_AT.replace(minute=0)
    actual = TokenUsage(input_tokens=39_000, output_tokens=4_321)
    seen = other.usage + actual  # the provider's hour: the other call and this one as it was
    daily = [ProviderFigures(day, "openai", "m-est", requests=3, cost=Decimal(1))]
    hourly = [
        ProviderFigures(day, "openai", "m-est-2026-04-01", requests=2, tokens=seen, hour=hour)
    ]
    await store.replace_reports("openai", [day], daily, ReportOrigin.API, SETTLED_AT)
    await store.replace_reports("openai", [day], hourly, ReportOrigin.API, SETTLED_AT, hourly=True)
    end = day + timedelta(days=1)
    rows = reconcile(await store.recorded(day, end, None), await store.reports(day, end, None))
    table = ReconciliationTable(day, end, tuple(rows), {})

    calls = await _settlements(uow).estimated_calls(day, end, ["openai"], table)

    by_id = {call.record.id: call for call in calls}
    assert set(by_id) == {record.id, alone.id}  # neither reported nor BYOK calls
    assert by_id[record.id].suggested == actual
    assert by_id[alone.id].suggested is None  # no hourly report of its hour
    assert by_id[record.id].settlement is None
