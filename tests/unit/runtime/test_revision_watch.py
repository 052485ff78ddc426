"""RevisionWatch and Lookups against a fake revision source and a hand-moved monotonic clock:
a checked revision answers without a read, this process's own change is read on the next call,
the background check picks up other processes' changes, and stalled or failing checks fall
back to reading on every call."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.billing.plans import PercentageMargin
from domain.errors import InvalidApiKey, StoreUnavailable
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.keys import KeyUseCases, NewKey
from runtime.lookups import TRUSTED_FOR_SECONDS, Lookups, RevisionWatch
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock


@dataclass
class FakeRevision:
    """The database's revision: `value` as the next read sees it; `reads` counts the reads.
    With `gate` set, a read waits for it (a slow database); with `down`, reads fail."""

    value: int = 1
    reads: int = 0
    ended: int = 0  # reads answered or failed
    down: bool = False
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    _ending: asyncio.Event = field(default_factory=asyncio.Event)

    async def current(self) -> int:
        self.reads += 1
        self.started.set()
        value = self.value  # what the read sees when it starts
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.down:
                raise StoreUnavailable("the database is unavailable")
            return value
        finally:
            self.ended += 1
            self._ending.set()

    async def until_ended(self, count: int) -> None:
        while self.ended < count:
            self._ending.clear()
            await self._ending.wait()


@dataclass
class Monotonic:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def watch_of(source: FakeRevision, clock: Monotonic | None = None) -> RevisionWatch:
    return RevisionWatch(source, monotonic=clock or Monotonic())


async def test_a_checked_revision_answers_without_a_read() -> None:
    source = FakeRevision(value=7)
    watch = watch_of(source)
    await watch.check()

    answers = [await watch.current() for _ in range(100)]

    assert answers == [7] * 100
    assert source.reads == 1


async def test_without_a_check_every_call_reads() -> None:
    source = FakeRevision(value=7)
    watch = watch_of(source)

    assert [await watch.current() for _ in range(3)] == [7, 7, 7]
    assert source.reads == 3


async def test_this_process_change_is_read_on_the_next_call_until_the_next_check() -> None:
    source = FakeRevision(value=1)
    watch = watch_of(source)
    await watch.check()

    source.value = 2  # this process committed a change...
    watch.changed()  # ...and its unit of work said so

    assert await watch.current() == 2
    assert await watch.current() == 2
    assert source.reads == 3  # each call read, as before the watch
    await watch.check()
    assert await watch.current() == 2
    assert source.reads == 4  # trusted again


async def test_a_check_begun_before_this_process_change_is_not_trusted() -> None:
    source = FakeRevision(value=1, gate=asyncio.Event())
    watch = watch_of(source)
    in_flight = asyncio.create_task(watch.check())
    await source.started.wait()  # the check read the old revision...

    source.value = 2
    watch.changed()  # ...and the change committed meanwhile
    source.gate.set()  # type: ignore[union-attr]
    assert await in_flight == 1

    assert await watch.current() == 2  # read again, not the in-flight check's answer
    assert source.reads == 2


async def test_the_background_check_picks_up_another_process_change() -> None:
    source = FakeRevision(value=1)
    watch = watch_of(source)  # the clock stands still: every check stays trusted
    running = asyncio.create_task(watch.run(interval=0.001))
    try:
        await source.until_ended(1)
        assert await watch.current() == 1

        source.value = 2  # another process changed the configuration: nobody tells us
        await source.until_ended(source.ended + 2)  # a check begun after the change ended

        reads = source.reads
        assert await watch.current() == 2
        assert source.reads == reads  # answered from the check
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_check_older_than_the_trusted_time_is_not_used() -> None:
    source, clock = FakeRevision(value=1), Monotonic()
    watch = watch_of(source, clock)
    await watch.check()
    source.value = 2  # another process's change; the checks stalled (starved loop)

    clock.now += TRUSTED_FOR_SECONDS * 0.9
    assert await watch.current() == 1  # still within the promised second
    clock.now += TRUSTED_FOR_SECONDS * 0.1
    assert await watch.current() == 2
    assert await watch.current() == 2
    assert source.reads == 3  # every call reads while the checks are late


async def test_an_outage_fails_calls_once_the_last_check_is_too_old() -> None:
    source, clock = FakeRevision(value=1), Monotonic()
    watch = watch_of(source, clock)
    await watch.check()
    source.down = True
    with pytest.raises(StoreUnavailable):
        await watch.check()

    clock.now += TRUSTED_FOR_SECONDS
    with pytest.raises(StoreUnavailable):  # the caller answers 503, as without the watch
        await watch.current()

    source.down = False
    await watch.check()
    assert await watch.current() == 1


async def test_run_logs_when_checks_start_failing_and_when_they_recover(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = FakeRevision(value=1, down=True)
    watch = watch_of(source)
    running = asyncio.create_task(watch.run(interval=0.001))
    try:
        with caplog.at_level(logging.INFO, logger="bizgraph.lookups"):
            await source.until_ended(5)
            source.down = False
            await source.until_ended(8)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    levels = [r.levelno for r in caplog.records if r.name == "bizgraph.lookups"]
    assert levels == [logging.WARNING, logging.INFO]  # once each, not once per check
    assert await watch.current() == 1


async def test_a_revoked_key_is_refused_on_the_next_call_of_the_revoking_process() -> None:
    factory, clock, source = FakeUnitOfWorkFactory(), FrozenClock(), FakeRevision()
    watch = watch_of(source)
    keys = KeyUseCases(factory, clock, FakeKeyHasher(), lookups=Lookups(factory, watch))
    client, _ = await ClientUseCases(factory, clock).create(
        NewClient(
            "Acme",
            PercentageMargin(Decimal(30)),
            plan_effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    issued = await keys.issue(NewKey(client.id))
    await watch.check()
    await keys.authenticate(issued.secret)  # cached in this revision's snapshot

    await keys.revoke(issued.key.id)
    source.value += 1  # what the repository's bump does in the database
    assert await keys.authenticate(issued.secret)  # the checked snapshot is what calls use...
    watch.changed()  # ...until the unit of work's commit says this process changed it

    with pytest.raises(InvalidApiKey):
        await keys.authenticate(issued.secret)
