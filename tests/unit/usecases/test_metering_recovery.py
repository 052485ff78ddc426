"""Crash recovery: journal rows left `started` are settled as failed, zero-charge estimates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.catalog import Model, PriceVersion
from domain.journal import JournalEntry, JournalState
from domain.money import Money
from domain.pricing import PercentageMargin
from domain.usage import CallStatus, UsageSource
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
