"""Wallet use cases over the fakes: the balance always equals the sum of the statement across
any sequence of top-ups, usage draws and adjustments (a hypothesis property); credits are
idempotent on their reference; who may do what."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.access.principals import NotAllowed, PortalPrincipal, Role, StaffPrincipal
from domain.alerting.alerts import AlertKind
from domain.billing.money import Money
from domain.billing.plans import PercentageMargin
from domain.budgets.limits import WALLET_PERIOD, Spend, wallet_scope
from domain.catalog.models import Model, PriceVersion
from domain.errors import NotFound, ValidationError
from domain.metering.request_bounds import text_bound
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.keys import KeyUseCases, NewKey
from domain.usecases.management import Management
from domain.usecases.metering import Metering
from domain.usecases.wallets import WalletUseCases
from domain.wallets.statement import EntryKind, balance_of
from domain.wallets.wallets import (
    BillingMode,
    PaymentsNotConfigured,
    WalletIsPostpaid,
    WalletSettings,
)
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock
from tests.fakes.payments import FakeTopUpCheckout
from tests.unit.usecases.wiring import fake_use_cases

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(1000), places=6)
operations = st.lists(
    st.tuples(st.sampled_from(["top_up", "draw", "adjust", "repeat"]), amounts, st.booleans()),
    max_size=25,
)


async def _client(factory: FakeUnitOfWorkFactory, clock: FrozenClock) -> str:
    use_cases = fake_use_cases(factory, clock, FakeKeyHasher())
    client, _ = await use_cases.clients.create(NewClient("Prepaid", PercentageMargin(Decimal(0))))
    return client.id


async def _draw(factory: FakeUnitOfWorkFactory, client_id: str, amount: Decimal, n: int) -> None:
    spend = Spend(wallet_scope(client_id), WALLET_PERIOD.start, amount, f"req-{n}", NOW, "USD")
    async with factory() as uow:
        await uow.budgets.settle(f"req-{n}", [spend])
        await uow.commit()


@settings(max_examples=60, deadline=None)
@given(operations)
def test_the_balance_is_the_sum_of_the_statement(ops: list[tuple[str, Decimal, bool]]) -> None:
    async def scenario() -> None:
        factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
        wallets = WalletUseCases(factory, clock)
        client_id = await _client(factory, clock)
        await wallets.top_up(client_id, Decimal(1), "opening", "", "ops")  # opens the counter
        expected = Decimal(1)
        for n, (kind, amount, negative) in enumerate(ops):
            if kind == "top_up":
                assert await wallets.top_up(client_id, amount, f"ref-{n}", "", "ops")
                expected += amount
            elif kind == "repeat":  # a reference credited before credits nothing
                await wallets.top_up(client_id, amount, "same", "", "ops")
                again = await wallets.top_up(client_id, amount, "same", "", "ops")
                assert not again
                if not any(k == "repeat" for k, _, _ in ops[:n]):
                    expected += amount
            elif kind == "draw":
                await _draw(factory, client_id, amount, n)
                expected -= amount
            else:
                signed = -amount if negative else amount
                await wallets.adjust(client_id, signed, "correction", "ops")
                expected += signed
        view = await wallets.view(client_id)
        page = await wallets.statement(client_id, 0, 200)
        assert view.balance.balance.amount == expected
        assert balance_of(page.entries) == expected
        assert await wallets.verify() == []

    asyncio.run(scenario())


async def test_credits_are_idempotent_and_in_the_wallets_currency() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    wallets = WalletUseCases(factory, clock)
    client_id = await _client(factory, clock)
    ten = Money(Decimal(10), "USD")
    assert await wallets.credit_top_up(client_id, ten, reference="pi_1", source="stripe")
    assert not await wallets.credit_top_up(client_id, ten, reference="pi_1", source="stripe")
    with pytest.raises(ValidationError):
        await wallets.credit_top_up(
            client_id, Money(Decimal(1), "EUR"), reference="pi_2", source="stripe"
        )
    with pytest.raises(ValidationError):
        await wallets.credit_top_up(client_id, -ten, reference="pi_3", source="stripe")
    with pytest.raises(NotFound):
        await wallets.credit_top_up("nobody", ten, reference="pi_4", source="stripe")
    page = await wallets.statement(client_id)
    assert [(e.kind, e.source, e.reference) for e in page.entries] == [
        (EntryKind.TOP_UP, "stripe", "pi_1")
    ]
    assert (await wallets.view(client_id)).balance.balance == ten


async def test_auto_top_up_and_the_payment_page_need_a_processor() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    wallets = WalletUseCases(factory, clock)
    client_id = await _client(factory, clock)
    auto = WalletSettings(auto_top_up_below=Decimal(5), auto_top_up_amount=Decimal(20))
    with pytest.raises(PaymentsNotConfigured, match="payments are not configured"):
        await wallets.set_settings(client_id, auto)
    with pytest.raises(PaymentsNotConfigured):
        await wallets.start_top_up(client_id, Decimal(10))
    low = await wallets.set_settings(client_id, WalletSettings(low_balance=Decimal(3)))
    assert low.wallet.settings.low_balance == 3


async def test_who_may_do_what() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    use_cases = fake_use_cases(factory, clock, FakeKeyHasher())
    mine, _ = await use_cases.clients.create(NewClient("Mine", PercentageMargin(Decimal(0))))
    other, _ = await use_cases.clients.create(NewClient("Other", PercentageMargin(Decimal(0))))
    admin = Management(StaffPrincipal("ann", Role.ADMIN, "t"), use_cases)
    viewer = Management(StaffPrincipal("vic", Role.VIEWER, "t"), use_cases)
    portal = Management(PortalPrincipal(mine.id, "p"), use_cases)

    await admin.wallets.set_mode(mine.id, BillingMode.PREPAID)
    assert await admin.wallets.top_up(mine.id, Decimal(5), None, "")
    entry = await admin.wallets.adjust(mine.id, Decimal("-1"), "fee")
    assert entry.source == "operator:ann"

    assert (await portal.wallets.view(mine.id)).balance.balance.amount == 4
    assert (await viewer.wallets.statement(mine.id, 0, 10)).total == 2
    with pytest.raises(NotFound):
        await portal.wallets.view(other.id)
    for denied in (portal, viewer):
        with pytest.raises(NotAllowed):
            await denied.wallets.top_up(mine.id, Decimal(1), None, "")
        with pytest.raises(NotAllowed):
            await denied.wallets.set_mode(mine.id, BillingMode.POSTPAID)
    with pytest.raises(PaymentsNotConfigured):
        await portal.wallets.start_top_up(None, Decimal(1))
    with pytest.raises(NotFound):
        await portal.wallets.start_top_up(other.id, Decimal(1))


async def test_a_refund_leaves_the_wallet_once_per_reference() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    wallets = WalletUseCases(factory, clock)
    client_id = await _client(factory, clock)
    await wallets.top_up(client_id, Decimal(10), "pi_1", "", "ops")
    three = Money(Decimal(3), "USD")
    assert await wallets.refund(client_id, three, reference="re_1", source="stripe")
    assert not await wallets.refund(client_id, three, reference="re_1", source="stripe")
    with pytest.raises(ValidationError):
        await wallets.refund(client_id, -three, reference="re_2", source="stripe")
    page = await wallets.statement(client_id)
    assert [(e.kind, e.amount.amount) for e in page.entries if e.kind is EntryKind.REFUND] == [
        (EntryKind.REFUND, Decimal(-3))
    ]
    assert (await wallets.view(client_id)).balance.balance.amount == 7
    assert await wallets.verify() == []


async def test_a_refunded_top_up_is_debited_once_and_never_below_zero() -> None:
    """WalletCredits.refund_top_up: once per reference; what the wallet cannot cover (the
    client spent it) is not debited but alerted, so the balance stays at zero or above."""
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    wallets = WalletUseCases(factory, clock)
    client_id = await _client(factory, clock)
    await wallets.set_mode(client_id, BillingMode.PREPAID, "ops")
    await wallets.credit_top_up(client_id, Money(Decimal(20)), reference="pi_1", source="stripe")
    assert await wallets.refund_top_up(client_id, Money(Decimal(5)), reference="refund:ch_1:500")
    assert not await wallets.refund_top_up(
        client_id, Money(Decimal(5)), reference="refund:ch_1:500"
    )
    assert (await wallets.view(client_id)).balance.balance.amount == 15
    await _draw(factory, client_id, Decimal(11), 1)  # spent most of it
    assert await wallets.refund_top_up(
        client_id, Money(Decimal(15)), reference="refund:ch_1:2000", note="the rest"
    )
    assert (await wallets.view(client_id)).balance.balance.amount == 0
    page = await wallets.statement(client_id)
    refunds = [(e.amount.amount, e.reference) for e in page.entries if e.kind is EntryKind.REFUND]
    assert sorted(refunds) == [(Decimal(-5), "refund:ch_1:500"), (Decimal(-4), "refund:ch_1:2000")]
    async with factory() as uow:
        alerts = await uow.alerts.recent(client_ids=[client_id])
    assert [(a.kind, a.details["uncovered"]) for a in alerts] == [
        (AlertKind.WALLET_SHORTFALL, "11")
    ]
    with pytest.raises(ValidationError):
        await wallets.refund_top_up(client_id, Money(Decimal(1), "EUR"), reference="refund:x")
    assert await wallets.verify() == []


async def test_the_portal_starts_a_top_up_of_its_own_wallet_on_the_payment_page() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    checkout = FakeTopUpCheckout()
    use_cases = replace(
        fake_use_cases(factory, clock, FakeKeyHasher()),
        wallets=WalletUseCases(factory, clock, checkout=checkout),
    )
    mine, _ = await use_cases.clients.create(NewClient("Mine", PercentageMargin(Decimal(0))))
    portal = Management(PortalPrincipal(mine.id, "p"), use_cases)
    admin = Management(StaffPrincipal("ann", Role.ADMIN, "t"), use_cases)

    assert portal.wallets.payments_configured
    with pytest.raises(WalletIsPostpaid):  # invoiced monthly: a top-up would sit unused
        await portal.wallets.start_top_up(None, Decimal("25.5"))
    assert checkout.started == []
    await admin.wallets.set_mode(mine.id, BillingMode.PREPAID)
    url = await portal.wallets.start_top_up(None, Decimal("25.5"))
    assert url == "https://pay.example/checkout/1"
    assert await admin.wallets.start_top_up(mine.id, Decimal(5)) == "https://pay.example/checkout/2"
    assert checkout.started == [(mine.id, Money(Decimal("25.5"))), (mine.id, Money(Decimal(5)))]
    with pytest.raises(ValidationError):
        await portal.wallets.start_top_up(None, Decimal(0))
    with pytest.raises(ValidationError):  # staff name the client
        await admin.wallets.start_top_up(None, Decimal(5))


async def test_a_crashed_prepaid_call_is_drawn_from_the_wallet_by_recovery() -> None:
    """Recovery settles through the repositories (not the call-log writers): the estimate is
    drawn from the wallet with its statement entry, and the books still agree."""
    uow, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    keys = KeyUseCases(uow, clock, FakeKeyHasher(), Lookups(uow))
    dead = Metering(
        uow, clock, keys, process_id="dead", writes=GroupCommit(uow), lookups=Lookups(uow)
    )
    await CatalogUseCases(uow).save_model(Model("demo/chat", "demo", "chat"))
    await CatalogUseCases(uow).add_price(
        PriceVersion("demo/chat", NOW - timedelta(days=1), input=Decimal(1), output=Decimal(2))
    )
    client, _ = await ClientUseCases(uow, clock).create(
        NewClient("Acme", PercentageMargin(Decimal(10)))
    )
    issued = await keys.issue(NewKey(client.id))
    wallets = WalletUseCases(uow, clock)
    await wallets.set_mode(client.id, BillingMode.PREPAID, "ops")
    await wallets.top_up(client.id, Decimal(1), "t1", "", "ops")
    grant = await dead.authorize(await dead.authenticate(issued.secret), "demo/chat", "crashed")
    assert [b.scope for b in grant.budgets] == [wallet_scope(client.id)]
    await dead.hold_and_journal(grant, text_bound(1000, 10))

    later = Metering(
        uow, clock, keys, process_id="next", writes=GroupCommit(uow), lookups=Lookups(uow)
    )
    assert await later.recover(NOW + timedelta(minutes=1)) == 1

    async with uow() as tx:
        [record] = await tx.usage.for_request("crashed")
    assert record.charge.amount > 0
    page = await wallets.statement(client.id)
    usage = [e.reference for e in page.entries if e.kind is EntryKind.USAGE]
    assert usage == ["usage:crashed"]
    view = await wallets.view(client.id)
    assert view.balance.balance.amount == 1 - record.charge.amount
    assert balance_of(page.entries) == view.balance.balance.amount
    assert await wallets.verify() == []
