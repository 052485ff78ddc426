"""Figures in a client's currency for usage priced in another one, on SQLite and PostgreSQL
(docs/currencies.md). A client lacking an exchange rate does not take the overview down: the
others answer with their exact figures, it is listed apart with the missing rate, no
cross-client money total is given (nor in the reporting currency), its own figures still
refuse with the rate's name, and setting the rate brings it back into the totals. The spend
series and a new budget counter convert each call at its day's rate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.billing.exchange import MissingRate
from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.billing.plans import PercentageMargin
from domain.budgets.limits import Budget, BudgetBasis, BudgetMode, Hold
from domain.reports import Bucket, Overview
from domain.usecases.rates import RateUseCases
from domain.usecases.reports import ReportUseCases
from tests.fakes import FrozenClock
from tests.integration.persistence import builders
from tests.integration.persistence.test_exchange_rates import EARLY, MID, add_client, set_rates
from tests.integration.persistence.test_invoices import AFTER_APRIL, APRIL_START

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def usd_call(
    uow: UowFactory, client_id: str, key_id: str, at: datetime, charge: str, cost: str
) -> None:
    record = builders.usage(
        client_id,
        key_id,
        started_at=at,
        charge=Money(Decimal(charge), "USD"),
        cost=Money(Decimal(cost), "USD"),
    )
    async with uow() as tx:
        assert await tx.usage.add(record)
        await tx.commit()


def reports(engine: AsyncEngine, uow: UowFactory) -> ReportUseCases:
    """Wired as the container does: reads on the read-only factory, rates on the writer's."""
    clock = FrozenClock(AFTER_APRIL)
    reads = unit_of_work_factory(engine, read_only=True)
    book = RateUseCases(uow, clock).book
    return ReportUseCases(reads, clock, ZoneInfo("UTC"), rates=book, reporting_currency="EUR")


def money(overview: Overview) -> list[Money | Decimal | None]:
    return [overview.revenue, overview.cost, overview.profit, overview.margin]


async def test_a_client_without_a_rate_is_listed_apart_and_the_totals_are_withheld(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    await set_rates(uow, MID)  # USD->EUR from the 15th only
    lacking, lacking_key = await add_client(uow, PercentageMargin(Decimal(10)), "EUR")
    priced, priced_key = await add_client(uow, PercentageMargin(Decimal(20)), "EUR")
    await usd_call(uow, lacking, lacking_key, APRIL_START + timedelta(days=2), "3", "2")
    await usd_call(uow, lacking, lacking_key, APRIL_START + timedelta(days=19), "1", "1")
    await usd_call(uow, priced, priced_key, APRIL_START + timedelta(days=19), "6", "5")
    uc = reports(engine, uow)

    overview = await uc.overview("2026-04")

    [row] = overview.rows
    assert row.client.id == priced
    assert row.draft.revenue == Money(Decimal("5.46"), "EUR")  # 6 x 0.91, exact
    assert row.draft.usage_cost == Money(Decimal("4.55"), "EUR")  # 5 x 0.91
    assert row.draft.profit == Money(Decimal("0.91"), "EUR")
    assert row.margin == Decimal("0.166667")
    [unpriced] = overview.unpriced
    assert unpriced.client.id == lacking
    assert unpriced.requests == 2
    assert unpriced.reason.startswith("no exchange rate USD->EUR in force on 2026-04-03")
    assert (unpriced.missing.base, unpriced.missing.quote) == ("USD", "EUR")
    assert overview.currency == "EUR"  # one currency, yet no total leaves a client out
    assert money(overview) == [None, None, None, None]
    assert overview.requests == 3  # a count needs no rate
    reporting = await uc.reporting(overview)
    assert reporting.totals is None
    assert reporting.problem is not None
    assert "Acme: no exchange rate USD->EUR in force on 2026-04-03" in reporting.problem
    with pytest.raises(MissingRate, match=r"USD->EUR in force on 2026-04-03"):
        await uc.client_draft(lacking, "2026-04")  # its own figures: the rate, not a part
    assert (await uc.client_draft(priced, "2026-04")).revenue == row.draft.revenue

    await set_rates(uow, EARLY)
    back = await uc.overview("2026-04")

    assert back.unpriced == ()
    assert {r.client.id for r in back.rows} == {lacking, priced}
    lacking_revenue = Decimal(3) * EARLY.rate + Decimal(1) * MID.rate
    lacking_cost = Decimal(2) * EARLY.rate + Decimal(1) * MID.rate
    assert back.revenue == Money(lacking_revenue + Decimal("5.46"), "EUR")
    assert back.cost == Money(lacking_cost + Decimal("4.55"), "EUR")
    assert back.requests == 3
    assert (await uc.reporting(back)).totals is not None  # EUR is the reporting currency


async def test_the_spend_series_is_in_the_clients_currency_at_each_days_rate(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    """A EUR client on USD prices: each day's point converts at that day's rate (as the
    invoice does), never USD amounts under a EUR label; without a rate the agency series is
    withheld and the client's own names the rate."""
    await set_rates(uow, MID)  # USD->EUR from the 15th only
    client, key = await add_client(uow, PercentageMargin(Decimal(10)), "EUR")
    await usd_call(uow, client, key, APRIL_START + timedelta(days=19), "6", "5")
    await usd_call(uow, client, key, APRIL_START + timedelta(days=19, hours=2), "1", "1")
    uc = reports(engine, uow)

    [point] = await uc.series(client, Bucket.DAY, "2026-04")
    total = await uc.total_series(Bucket.DAY, "2026-04", [client])

    assert point.charge == Money(Decimal(7) * MID.rate, "EUR")
    assert point.cost == Money(Decimal(6) * MID.rate, "EUR")
    assert total == [point]

    await usd_call(uow, client, key, APRIL_START + timedelta(days=2), "3", "2")  # before a rate

    assert await uc.total_series(Bucket.DAY, "2026-04", [client]) is None
    with pytest.raises(MissingRate, match=r"USD->EUR in force on 2026-04-03"):
        await uc.series(client, Bucket.DAY, "2026-04")


async def test_a_new_budget_counter_starts_from_the_spend_converted_at_each_days_rate(
    uow: UowFactory,
) -> None:
    """A EUR budget set mid-month over calls priced in USD (and one in EUR): its counter starts
    from each call converted at its own day's rate, the call of a day without a rate left out,
    never USD amounts added to EUR ones."""
    await set_rates(uow, MID)  # USD->EUR from the 15th only
    client, key = await add_client(uow, PercentageMargin(Decimal(10)), "EUR")
    await usd_call(uow, client, key, APRIL_START + timedelta(days=2), "3", "2")  # no rate then
    await usd_call(uow, client, key, APRIL_START + timedelta(days=19), "6.5", "5")
    record = builders.usage(
        client,
        key,
        started_at=APRIL_START + timedelta(days=20),
        charge=Money(Decimal("1.25"), "EUR"),
        cost=Money(Decimal("1"), "EUR"),
    )
    async with uow() as tx:
        assert await tx.usage.add(record)
        await tx.commit()
    budget = Budget(client, None, Money(Decimal(100), "EUR"), BudgetMode.HARD, APRIL_START)
    period = month_period("2026-04", ZoneInfo("UTC"))

    async with uow() as tx:
        spent, reserved = await tx.budgets.status(budget, period, BudgetBasis.CHARGE)
        taken = await tx.budgets.take_lease("p-1", Hold(budget, period, Decimal(1), BudgetBasis.CHARGE), Decimal(0))  # fmt: skip
        await tx.commit()

    expected = Decimal("6.5") * MID.rate + Decimal("1.25")
    assert (spent, reserved) == (expected, 0)
    assert taken.refusal is None
    assert taken.opened[0].spent_after == expected  # the counter opened at the converted spend
