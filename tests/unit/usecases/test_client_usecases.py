"""ClientUseCases against the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.billing.clients import ClientStatus
from domain.billing.money import Money
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PlanTimeline, PricingPlan
from domain.catalog.models import Model, PriceVersion
from domain.errors import InvalidAmount, NotFound, ValidationError
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientChanges, ClientUseCases, NewClient
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)


def setup() -> tuple[ClientUseCases, FakeUnitOfWorkFactory, FrozenClock]:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    return ClientUseCases(factory, clock), factory, clock


PLANS: list[PricingPlan] = [
    PercentageMargin(Decimal("30")),
    FixedFee(Money(Decimal("99.00"))),
    FixedPrice(Money(Decimal("500.00"))),
]


class TestCreate:
    @pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.kind)
    async def test_create_with_each_plan(self, plan: PricingPlan) -> None:
        clients, factory, _ = setup()

        client, version = await clients.create(NewClient(name="  Acme  ", plan=plan))

        assert client.name == "Acme"
        assert client.created_at == NOW
        assert client.is_active
        assert version.client_id == client.id
        assert version.plan == plan
        assert version.effective_from == NOW  # from creation by default
        assert version.created_at == NOW
        assert factory.store.clients == {client.id: client}
        assert list(factory.store.plans.values()) == [version]
        assert await clients.get(client.id) == client
        assert await clients.plan_history(client.id) == [version]

    async def test_plan_may_start_earlier_to_bill_a_full_month(self) -> None:
        clients, _, _ = setup()

        client, version = await clients.create(
            NewClient(name="Acme", plan=PLANS[1], plan_effective_from=MARCH_1)
        )

        assert version.effective_from == MARCH_1
        assert client.created_at == NOW

    async def test_plan_effective_exactly_now_is_accepted(self) -> None:
        clients, _, _ = setup()
        _, version = await clients.create(NewClient("Acme", PLANS[0], plan_effective_from=NOW))
        assert version.effective_from == NOW

    async def test_first_plan_in_the_future_refused(self) -> None:
        clients, factory, _ = setup()

        with pytest.raises(ValidationError, match="creation or earlier"):
            await clients.create(
                NewClient("Acme", PLANS[0], plan_effective_from=NOW + timedelta(microseconds=1))
            )

        assert factory.store.clients == {}
        assert factory.store.plans == {}

    async def test_naive_plan_instant_refused(self) -> None:
        clients, factory, _ = setup()
        with pytest.raises(ValidationError):
            await clients.create(
                NewClient("Acme", PLANS[0], plan_effective_from=datetime(2026, 3, 1))
            )
        assert factory.store.clients == {}

    @pytest.mark.parametrize(
        "plan", [FixedFee(Money(Decimal(99), "EUR")), FixedPrice(Money(Decimal(500), "EUR"))]
    )
    async def test_plan_currency_must_match_the_client(self, plan: PricingPlan) -> None:
        clients, factory, _ = setup()

        with pytest.raises(ValidationError, match="EUR"):
            await clients.create(NewClient("Acme", plan, currency="USD"))

        assert factory.store.clients == {}
        assert factory.store.plans == {}

    async def test_client_billed_in_another_currency(self) -> None:
        clients, _, _ = setup()
        client, version = await clients.create(
            NewClient("Acme GmbH", FixedFee(Money(Decimal(99), "EUR")), currency="EUR")
        )
        assert client.currency == "EUR"
        assert version.plan.monthly_amount == Money(Decimal(99), "EUR")

    async def test_margin_plan_fits_any_currency(self) -> None:
        clients, _, _ = setup()
        client, _ = await clients.create(NewClient("Acme KK", PLANS[0], currency="JPY"))
        assert client.currency == "JPY"

    async def test_billing_details_are_kept(self) -> None:
        clients, _, _ = setup()
        client, _ = await clients.create(
            NewClient("Acme", PLANS[0], billing_email="ap@acme.com", tax_rate=Decimal("20"))
        )
        assert (client.billing_email, client.tax_rate) == ("ap@acme.com", Decimal(20))

    @pytest.mark.parametrize(
        ("new", "error"),
        [
            (NewClient("   ", PLANS[0]), ValidationError),
            (NewClient("Acme", PLANS[0], billing_email="nope"), ValidationError),
            (NewClient("Acme", PLANS[0], tax_rate=Decimal("100.5")), ValidationError),
            (NewClient("Acme", PLANS[0], tax_rate=Decimal("-1")), InvalidAmount),
            (NewClient("Acme", PLANS[0], currency="usd"), InvalidAmount),
        ],
    )
    async def test_invalid_clients_are_not_stored(
        self, new: NewClient, error: type[Exception]
    ) -> None:
        clients, factory, _ = setup()
        with pytest.raises(error):
            await clients.create(new)
        assert factory.store.clients == {}

    async def test_list(self) -> None:
        clients, _, clock = setup()
        first, _ = await clients.create(NewClient("A", PLANS[0]))
        clock.advance(minutes=1)
        second, _ = await clients.create(NewClient("B", PLANS[0]))
        assert list(await clients.list()) == [first, second]


class TestSetPlan:
    async def test_new_plan_from_now_by_default(self) -> None:
        clients, _, clock = setup()
        client, first = await clients.create(NewClient("Acme", PLANS[0]))
        later = clock.advance(days=3)

        second = await clients.set_plan(client.id, PLANS[1])

        assert second.effective_from == later
        assert second.created_at == later
        assert await clients.plan_history(client.id) == [first, second]

    async def test_a_past_version_is_inserted_and_later_versions_stay(self) -> None:
        clients, _, clock = setup()
        client, first = await clients.create(
            NewClient("Acme", PLANS[0], plan_effective_from=MARCH_1)
        )
        clock.advance(days=2)  # 17 March
        third = await clients.set_plan(client.id, PLANS[2])
        clock.advance(days=1)  # 18 March, inserting a version from 10 March

        second = await clients.set_plan(
            client.id, PLANS[1], effective_from=datetime(2026, 3, 10, tzinfo=UTC)
        )

        history = await clients.plan_history(client.id)
        assert history == [first, second, third]
        timeline = PlanTimeline(history)
        assert timeline.in_force_at(datetime(2026, 3, 5, tzinfo=UTC)) == first
        assert timeline.in_force_at(datetime(2026, 3, 12, tzinfo=UTC)) == second
        assert timeline.in_force_at(datetime(2026, 3, 18, tzinfo=UTC)) == third

    async def test_future_version_is_scheduled(self) -> None:
        clients, _, _ = setup()
        client, first = await clients.create(NewClient("Acme", PLANS[0]))
        april = datetime(2026, 4, 1, tzinfo=UTC)

        second = await clients.set_plan(client.id, PLANS[1], effective_from=april)

        timeline = PlanTimeline(await clients.plan_history(client.id))
        assert timeline.in_force_at(NOW + timedelta(days=1)) == first
        assert timeline.in_force_at(april) == second

    async def test_unknown_client(self) -> None:
        clients, factory, _ = setup()
        with pytest.raises(NotFound):
            await clients.set_plan("nobody", PLANS[0])
        assert factory.store.plans == {}

    async def test_plan_currency_must_match(self) -> None:
        clients, factory, _ = setup()
        client, _ = await clients.create(NewClient("Acme", PLANS[0]))

        with pytest.raises(ValidationError):
            await clients.set_plan(client.id, FixedFee(Money(Decimal(10), "GBP")))

        assert len(factory.store.plans) == 1

    async def test_naive_instant_refused(self) -> None:
        clients, factory, _ = setup()
        client, _ = await clients.create(NewClient("Acme", PLANS[0]))
        with pytest.raises(ValidationError):
            await clients.set_plan(client.id, PLANS[1], effective_from=datetime(2026, 3, 1))
        assert len(factory.store.plans) == 1


class TestStatus:
    async def test_suspend_and_resume(self) -> None:
        clients, _, _ = setup()
        client, _ = await clients.create(NewClient("Acme", PLANS[0]))

        suspended = await clients.set_status(client.id, ClientStatus.SUSPENDED)
        assert not suspended.is_active
        assert not (await clients.get(client.id)).is_active

        resumed = await clients.set_status(client.id, ClientStatus.ACTIVE)
        assert resumed.is_active
        assert await clients.get(client.id) == client

    async def test_unknown_client(self) -> None:
        clients, _, _ = setup()
        with pytest.raises(NotFound):
            await clients.set_status("nobody", ClientStatus.SUSPENDED)
        with pytest.raises(NotFound):
            await clients.get("nobody")
        with pytest.raises(NotFound):
            await clients.plan_history("nobody")


async def test_update_changes_billing_details_and_validates_them() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    clients = ClientUseCases(factory, clock)
    created, _ = await clients.create(
        NewClient("Acme", PercentageMargin(Decimal(30)), billing_email="a@acme.test")
    )

    updated = await clients.update(
        created.id, ClientChanges(name=" Acme Ltd ", tax_rate=Decimal("20"))
    )
    cleared = await clients.update(created.id, ClientChanges(clear_billing_email=True))

    assert (updated.name, updated.tax_rate, updated.billing_email) == (
        "Acme Ltd",
        Decimal(20),
        "a@acme.test",
    )
    assert cleared.billing_email is None
    assert (await clients.get(created.id)) == cleared
    with pytest.raises(ValidationError):
        await clients.update(created.id, ClientChanges(tax_rate=Decimal(101)))
    with pytest.raises(NotFound):
        await clients.update("nobody", ClientChanges(name="x"))


async def test_a_gateway_billing_in_one_currency_refuses_clients_and_prices_in_another() -> None:
    uow = FakeUnitOfWorkFactory()
    clients = ClientUseCases(uow, FrozenClock(), currencies={"USD"})
    catalog = CatalogUseCases(uow, currencies={"USD"})
    await catalog.save_model(Model("openai/x", "openai", "x"))

    with pytest.raises(ValidationError, match="bills in USD only"):
        await clients.create(NewClient("Acme GmbH", PercentageMargin(Decimal(10)), currency="EUR"))
    with pytest.raises(ValidationError, match="bills in USD only"):
        await catalog.add_price(
            PriceVersion(
                "openai/x", FrozenClock().now(), input=Decimal(1), output=Decimal(2), currency="EUR"
            )
        )
    created, _ = await clients.create(NewClient("Acme Inc", PercentageMargin(Decimal(10))))
    assert created.currency == "USD"
