"""Crash recovery: journal rows left `started` are settled as failed, zero-charge estimates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.billing.money import Money
from domain.billing.plans import PercentageMargin
from domain.catalog.models import Model, PriceVersion
from domain.metering.journal import JournalEntry, JournalState
from domain.metering.request_bounds import text_bound
from domain.metering.usage import CallStatus, UsageSource
from domain.usecases.aliases import AliasInput, AliasUseCases
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.keys import KeyUseCases, NewKey
from domain.usecases.metering import Metering
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def test_recovery_settles_only_old_unsettled_calls_once() -> None:
    uow, clock = FakeUnitOfWorkFactory(), FrozenClock(T0)
    keys = KeyUseCases(uow, clock, FakeKeyHasher(), Lookups(uow))
    metering = Metering(uow, clock, keys, writes=GroupCommit(uow), lookups=Lookups(uow))
    await CatalogUseCases(uow).save_model(Model("demo/chat", "demo", "chat"))
    await CatalogUseCases(uow).add_price(
        PriceVersion("demo/chat", T0 - timedelta(days=1), input=Decimal(1), output=Decimal(2))
    )
    client, _ = await ClientUseCases(uow, clock).create(
        NewClient("Acme", PercentageMargin(Decimal(10)))
    )
    issued = await keys.issue(NewKey(client.id))
    async with uow() as tx:
        for request_id, age in (("old", 3600), ("fresh", 10)):
            started = T0 + timedelta(hours=2) - timedelta(seconds=age)
            await tx.journal.start(
                JournalEntry(request_id, client.id, issued.key.id, "demo/chat", started, 100)
            )
        await tx.commit()
    cutoff = T0 + timedelta(hours=2) - timedelta(minutes=15)

    first = await metering.recover(cutoff)
    second = await metering.recover(cutoff)

    assert (first, second) == (1, 0)
    async with uow() as tx:
        records = await tx.usage.for_request("old")
        assert await tx.usage.for_request("fresh") == []
        assert tx.working.journal["old"].state is JournalState.ABANDONED  # type: ignore[attr-defined]
        assert tx.working.journal["fresh"].state is JournalState.STARTED  # type: ignore[attr-defined]
    [record] = records
    assert record.status is CallStatus.FAILED
    assert record.source is UsageSource.ESTIMATED
    assert record.charge == Money(Decimal(0))


async def test_a_call_through_an_alias_is_recovered_with_its_alias() -> None:
    """The journal row keeps the alias, so the record recovery writes names it too."""
    uow, clock = FakeUnitOfWorkFactory(), FrozenClock(T0)
    keys = KeyUseCases(uow, clock, FakeKeyHasher(), Lookups(uow))
    metering = Metering(
        uow, clock, keys, process_id="dead-process", writes=GroupCommit(uow), lookups=Lookups(uow)
    )
    await CatalogUseCases(uow).save_model(Model("demo/chat", "demo", "chat"))
    await CatalogUseCases(uow).add_price(
        PriceVersion("demo/chat", T0 - timedelta(days=1), input=Decimal(1), output=Decimal(2))
    )
    client, _ = await ClientUseCases(uow, clock).create(
        NewClient("Acme", PercentageMargin(Decimal(10)))
    )
    issued = await keys.issue(NewKey(client.id))
    await AliasUseCases(uow, clock).set(AliasInput("support-bot", "demo/chat", client.id))
    caller = await metering.authenticate(issued.secret)
    grant = await metering.authorize(caller, "support-bot", "crashed")
    await metering.hold_and_journal(grant, text_bound(10, 10))

    later = Metering(
        uow, clock, keys, process_id="next-process", writes=GroupCommit(uow), lookups=Lookups(uow)
    )
    assert await later.recover(T0 + timedelta(minutes=1)) == 1

    async with uow() as tx:
        [record] = await tx.usage.for_request("crashed")
    assert (record.alias, record.model_id) == ("support-bot", "demo/chat")
