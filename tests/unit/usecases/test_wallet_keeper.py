"""The wallets' background round over the fakes: a period's fixed amounts are drawn once
(prorated when the plan starts mid-period), a wallet short of them suspends its client or
goes negative by them only, low balances alert, and auto top-up charges the saved payment
method at most once an hour, credits what succeeded and alerts what failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.alerting.alerts import AlertKind
from domain.billing.clients import ClientStatus
from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.billing.plans import FixedFee, PercentageMargin, PricingPlan
from domain.budgets.limits import WALLET_PERIOD, Spend, wallet_scope
from domain.payments.ports import ChargeOutcome
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.wallet_keeper import WalletKeeper
from domain.usecases.wallets import WalletUseCases
from domain.wallets.statement import EntryKind, balance_of
from domain.wallets.wallets import BillingMode, WalletSettings
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock
from tests.fakes.payments import FakeSavedPaymentMethods

UTC_ZONE = ZoneInfo("UTC")
MARCH = month_period("2026-03", UTC_ZONE)
NOW = datetime(2026, 3, 1, 0, 5, tzinfo=UTC)


class World:
    def __init__(self, saved: FakeSavedPaymentMethods | None = None) -> None:
        self.factory, self.clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
        self.saved = saved
        self.wallets = WalletUseCases(self.factory, self.clock, saved_methods=saved)
        self.keeper = WalletKeeper(self.factory, self.clock, self.wallets, UTC_ZONE, saved)

    async def prepaid(
        self,
        plan: PricingPlan,
        top_up: str,
        since: datetime | None = None,
        settings: WalletSettings | None = None,
    ) -> str:
        clients = ClientUseCases(self.factory, self.clock)
        client, _ = await clients.create(
            NewClient("Acme", plan, plan_effective_from=since or MARCH.start)
        )
        await self.wallets.set_mode(client.id, BillingMode.PREPAID, "ops")
        if settings is not None:
            await self.wallets.set_settings(client.id, settings)
        if Decimal(top_up):
            await self.wallets.top_up(client.id, Decimal(top_up), f"t-{client.id}", "", "ops")
        return client.id

    async def balance(self, client_id: str) -> Decimal:
        return (await self.wallets.view(client_id)).balance.balance.amount

    async def alerts(self, client_id: str) -> list[AlertKind]:
        async with self.factory() as uow:
            return [a.kind for a in await uow.alerts.recent(client_ids=[client_id])]

    async def status(self, client_id: str) -> ClientStatus:
        async with self.factory() as uow:
            client = await uow.clients.get(client_id)
        assert client is not None
        return client.status


FEE = FixedFee(Money(Decimal(100)))


async def test_the_fixed_fee_is_drawn_once_per_period() -> None:
    world = World()
    client_id = await world.prepaid(FEE, "250")

    await world.keeper.tend()
    await world.keeper.tend()

    assert await world.balance(client_id) == 150
    page = await world.wallets.statement(client_id)
    fixed = [e for e in page.entries if e.kind is EntryKind.FIXED]
    assert [e.amount.amount for e in fixed] == [Decimal(-100)]
    assert fixed[0].note == "fixed_fee 2026-03"
    assert balance_of(page.entries) == 150
    world.clock.set(datetime(2026, 4, 1, 0, 1, tzinfo=UTC))
    await world.keeper.tend()
    assert await world.balance(client_id) == 50


async def test_a_plan_starting_mid_period_is_prorated() -> None:
    world = World()
    world.clock.set(datetime(2026, 3, 16, 12, 1, tzinfo=UTC))
    client_id = await world.prepaid(FEE, "250", since=datetime(2026, 3, 16, 12, tzinfo=UTC))

    await world.keeper.tend()

    assert await world.balance(client_id) == Decimal(250) - Decimal("50.00")  # 15.5 of 31 days


async def test_a_short_wallet_suspends_its_client_by_default() -> None:
    world = World()
    client_id = await world.prepaid(FEE, "40")

    await world.keeper.tend()
    await world.keeper.tend()

    assert await world.balance(client_id) == 40  # nothing drawn
    assert await world.status(client_id) is ClientStatus.SUSPENDED
    assert (await world.alerts(client_id)).count(AlertKind.WALLET_SHORTFALL) == 1
    await world.wallets.top_up(client_id, Decimal(100), "more", "", "ops")
    await world.keeper.tend()
    assert await world.balance(client_id) == 40  # drawn once topped up


async def test_a_wallet_may_go_negative_by_the_fixed_amount_only() -> None:
    world = World()
    overdraw = WalletSettings(overdraw_fixed=True)
    client_id = await world.prepaid(FEE, "40", settings=overdraw)

    await world.keeper.tend()
    await world.keeper.tend()

    assert await world.balance(client_id) == -60
    assert await world.status(client_id) is ClientStatus.ACTIVE
    assert AlertKind.WALLET_SHORTFALL in await world.alerts(client_id)
    assert await world.wallets.verify() == []


async def test_low_balance_alerts_by_amount_and_by_days_of_spend() -> None:
    world = World()
    margin = PercentageMargin(Decimal(0))
    by_amount = await world.prepaid(margin, "4", settings=WalletSettings(low_balance=Decimal(5)))
    by_days = await world.prepaid(margin, "10", settings=WalletSettings(low_balance_days=3))
    spend = Spend(wallet_scope(by_days), WALLET_PERIOD.start, Decimal(14), "r1", NOW, "USD")
    async with world.factory() as uow:  # 14 drawn this week: 2 a day, 3 days is 6
        await uow.budgets.settle("r1", [spend])
        await uow.commit()
    healthy = await world.prepaid(margin, "50", settings=WalletSettings(low_balance=Decimal(5)))

    await world.keeper.tend()
    await world.keeper.tend()

    assert await world.alerts(by_amount) == [AlertKind.WALLET_LOW_BALANCE]
    assert await world.balance(by_days) == -4
    assert await world.alerts(by_days) == [AlertKind.WALLET_LOW_BALANCE]
    assert await world.alerts(healthy) == []


AUTO = WalletSettings(auto_top_up_below=Decimal(10), auto_top_up_amount=Decimal(25))


async def test_auto_top_up_charges_once_an_hour_and_credits_the_charge() -> None:
    saved = FakeSavedPaymentMethods()
    world = World(saved)
    client_id = await world.prepaid(PercentageMargin(Decimal(0)), "5", settings=AUTO)

    await world.keeper.tend()
    await world.keeper.tend()

    assert len(saved.charges) == 1
    assert saved.charges[0][1] == Money(Decimal(25))
    assert await world.balance(client_id) == 30
    entries = (await world.wallets.statement(client_id)).entries
    assert [(e.source, e.reference) for e in entries if e.source == "auto_top_up"] == [
        ("auto_top_up", "pi_1")
    ]
    await world.wallets.adjust(client_id, Decimal(-28), "spent", "ops")  # under again
    world.clock.set(NOW + timedelta(minutes=30))
    await world.keeper.tend()
    assert len(saved.charges) == 1  # not within the hour
    world.clock.set(NOW + timedelta(minutes=61))
    await world.keeper.tend()
    assert len(saved.charges) == 2
    assert await world.balance(client_id) == 27


async def test_a_failed_auto_top_up_alerts_and_a_pending_one_waits_for_the_event() -> None:
    failing = FakeSavedPaymentMethods(ChargeOutcome.FAILED, "card declined")
    world = World(failing)
    client_id = await world.prepaid(PercentageMargin(Decimal(0)), "5", settings=AUTO)
    await world.keeper.tend()
    assert await world.balance(client_id) == 5
    assert await world.alerts(client_id) == [AlertKind.AUTO_TOP_UP_FAILED]

    pending = FakeSavedPaymentMethods(ChargeOutcome.PENDING)
    world = World(pending)
    client_id = await world.prepaid(PercentageMargin(Decimal(0)), "5", settings=AUTO)
    await world.keeper.tend()
    assert len(pending.charges) == 1
    assert await world.balance(client_id) == 5  # the processor's event credits it later
    assert await world.alerts(client_id) == []
