"""Crash recovery with leases (in-memory ports, a frozen clock): a process whose lease ran out
has its open calls settled by a live one, billed as an estimate of the prompt plus the output
it had checkpointed, holds released and the estimate in `spent`; a live owner's calls are not
touched, and if the owner settles after all, the first settlement wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.money import Money
from domain.billing.plans import PercentageMargin
from domain.catalog.models import Model, PriceVersion
from domain.metering.journal import JournalState
from domain.metering.leases import LeaseTerms
from domain.metering.request_bounds import text_bound
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.usecases.budgets import BudgetInput, BudgetUseCases
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.grants import Attempt, CallGrant
from domain.usecases.keys import KeyUseCases, NewKey
from domain.usecases.leases import ProcessLeases
from domain.usecases.metering import Metering
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock

T0 = datetime(2026, 3, 15, 12, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
TERMS = LeaseTerms(lease=timedelta(seconds=15), heartbeat=timedelta(seconds=5))
LONGEST = timedelta(minutes=12)
MODEL = Model("demo/chat", "demo", "chat", max_output_tokens=500, context_window=4000)
PRICE = PriceVersion("demo/chat", T0 - timedelta(days=1), input=Decimal(1), output=Decimal(3))


class Gateway:
    """One serving process: its metering and its lease, over the shared store."""

    def __init__(self, world: World, process_id: str) -> None:
        self.metering = Metering(
            world.uow,
            world.clock,
            world.keys,
            zone=UTC_ZONE,
            process_id=process_id,
            writes=GroupCommit(world.uow),  # each process its own
            lookups=Lookups(world.uow),
        )
        self.leases = ProcessLeases(world.uow, world.clock, process_id, TERMS)

    async def recover(self, clock: FrozenClock) -> int:
        now = clock.now()
        return await self.metering.recover(now - LONGEST, live_at=now)


class World:
    def __init__(self) -> None:
        self.uow, self.clock = FakeUnitOfWorkFactory(), FrozenClock(T0)
        self.keys = KeyUseCases(self.uow, self.clock, FakeKeyHasher(), Lookups(self.uow))
        self.budgets = BudgetUseCases(self.uow, self.clock, UTC_ZONE)
        self.requests = 0

    async def setup(self) -> None:
        catalog = CatalogUseCases(self.uow)
        await catalog.save_model(MODEL)
        await catalog.add_price(PRICE)
        client, _ = await ClientUseCases(self.uow, self.clock).create(
            NewClient("Acme", PercentageMargin(Decimal(10)))
        )
        self.client_id = client.id
        self.secret = (await self.keys.issue(NewKey(client.id))).secret
        await self.budgets.set_for_client(client.id, BudgetInput(Decimal(1)))

    async def call(self, gateway: Gateway, prompt_chars: int, max_tokens: int) -> CallGrant:
        self.requests += 1
        metering = gateway.metering
        caller = await metering.authenticate(self.secret)
        grant = await metering.authorize(caller, "demo/chat", f"req_{self.requests}")
        await metering.hold_and_journal(grant, text_bound(prompt_chars, max_tokens))
        return grant

    async def counter(self) -> tuple[Decimal, Decimal]:
        status = await self.budgets.of_client(self.client_id)
        assert status is not None
        return status.spent, status.reserved

    async def output_chars(self, request_id: str) -> int:
        async with self.uow() as tx:
            journal = tx.working.journal  # type: ignore[attr-defined]
            return int(journal[request_id].output_chars)

    async def records(self, request_id: str) -> list[UsageRecord]:
        async with self.uow() as tx:
            return list(await tx.usage.for_request(request_id))


async def two_gateways() -> tuple[World, Gateway, Gateway]:
    world = World()
    await world.setup()
    dead, alive = Gateway(world, "dead"), Gateway(world, "alive")
    await dead.leases.renew()
    await alive.leases.renew()
    return world, dead, alive


async def checkpointed(world: World, gateway: Gateway, request_id: str, chars: int) -> None:
    gateway.metering.checkpoint(request_id, chars)
    for _ in range(100):  # the deferred write rides the next group commit
        if await world.output_chars(request_id) == chars:
            return
        await asyncio.sleep(0)
    raise AssertionError("the checkpoint was never written")


def charged(usage: TokenUsage) -> Money:
    return PercentageMargin(Decimal(10)).charge(PRICE.cost(usage))


async def test_a_dead_process_stream_is_billed_prompt_plus_relayed_output() -> None:
    world, dead, alive = await two_gateways()
    grant = await world.call(dead, prompt_chars=400, max_tokens=100)
    await checkpointed(world, dead, grant.request_id, 120)

    for _ in range(2):  # the owner's lease still runs: nothing is touched
        world.clock.advance(TERMS.heartbeat)
        await alive.leases.renew()
        assert await alive.recover(world.clock) == 0
    assert (await world.counter())[1] > 0

    world.clock.advance(TERMS.heartbeat)  # 15 s since the dead process's last renewal
    await alive.leases.renew()
    assert await alive.recover(world.clock) == 1
    assert await alive.recover(world.clock) == 0

    [record] = await world.records(grant.request_id)
    expected = TokenUsage(input_tokens=100, output_tokens=30)  # 400 and 120 chars, 4 per token
    assert record.usage == expected
    assert record.source is UsageSource.ESTIMATED
    assert record.status is CallStatus.FAILED
    assert record.charge == charged(expected)
    assert record.charge.amount > 0
    assert await world.counter() == (record.charge.amount, 0)
    async with world.uow() as tx:
        journal = tx.working.journal  # type: ignore[attr-defined]
        assert journal[grant.request_id].state is JournalState.ABANDONED
        [entry] = tx.working.ledger  # type: ignore[attr-defined]
    assert entry.amount == record.charge


async def test_the_output_estimate_never_passes_max_tokens_and_a_plain_call_bills_its_prompt() -> (
    None
):
    world, dead, alive = await two_gateways()
    streamed = await world.call(dead, prompt_chars=40, max_tokens=100)
    await checkpointed(world, dead, streamed.request_id, 100_000)
    plain = await world.call(dead, prompt_chars=41, max_tokens=100)  # never checkpoints

    world.clock.advance(TERMS.lease)
    await alive.leases.renew()
    assert await alive.recover(world.clock) == 2

    [capped] = await world.records(streamed.request_id)
    [prompt_only] = await world.records(plain.request_id)
    assert capped.usage == TokenUsage(input_tokens=10, output_tokens=100)
    assert prompt_only.usage == TokenUsage(input_tokens=11)
    assert (await world.counter())[1] == 0


async def test_a_released_lease_makes_the_calls_orphans_at_once() -> None:
    world, dead, alive = await two_gateways()
    grant = await world.call(dead, prompt_chars=40, max_tokens=10)
    await dead.leases.release()
    assert await alive.recover(world.clock) == 1
    assert len(await world.records(grant.request_id)) == 1


async def test_a_restarted_process_settles_its_former_self_once_the_lease_ran_out() -> None:
    world, dead, _ = await two_gateways()
    grant = await world.call(dead, prompt_chars=40, max_tokens=10)
    restarted = Gateway(world, "restarted")  # a new process id at every start
    await restarted.leases.renew()
    assert await restarted.recover(world.clock) == 0
    world.clock.advance(TERMS.lease)
    await restarted.leases.renew()
    assert await restarted.recover(world.clock) == 1
    assert len(await world.records(grant.request_id)) == 1


async def test_the_first_settlement_wins_when_a_slow_owner_finishes_after_all() -> None:
    world, slow, alive = await two_gateways()
    grant = await world.call(slow, prompt_chars=40, max_tokens=10)
    world.clock.advance(TERMS.lease)
    await alive.leases.renew()
    assert await alive.recover(world.clock) == 1
    spent = await world.counter()

    usage = TokenUsage(input_tokens=10, output_tokens=10)
    late = Attempt(1, grant.target, usage, UsageSource.REPORTED, CallStatus.SUCCEEDED, 5)
    await slow.metering.settle(grant, [late])

    assert len(await world.records(grant.request_id)) == 1  # not billed twice
    assert await world.counter() == spent


async def test_the_safety_net_settles_a_live_owners_call_older_than_any_call() -> None:
    world, _, alive = await two_gateways()
    grant = await world.call(alive, prompt_chars=40, max_tokens=10)
    for _ in range(int(LONGEST / TERMS.heartbeat)):
        world.clock.advance(TERMS.heartbeat)
        await alive.leases.renew()
        assert await alive.recover(world.clock) == 0
    world.clock.advance(seconds=1)
    assert await alive.recover(world.clock) == 1
    assert len(await world.records(grant.request_id)) == 1


async def test_expired_leases_are_purged_a_lease_after_they_ran_out() -> None:
    world, _, alive = await two_gateways()
    world.clock.advance(TERMS.lease * 2 + timedelta(seconds=1))
    await alive.leases.renew()
    assert await alive.leases.purge() == 1
    async with world.uow() as tx:
        assert [lease.process_id for lease in await tx.leases.live(world.clock.now())] == ["alive"]


async def test_a_process_never_takes_over_its_own_calls_even_if_its_lease_lapsed() -> None:
    """E.g. the database was unreachable longer than the lease: the process is alive, its calls
    will settle themselves (others may take them over meanwhile; the first settlement wins)."""
    world, _, alive = await two_gateways()
    grant = await world.call(alive, prompt_chars=40, max_tokens=10)
    world.clock.advance(TERMS.lease * 2)  # no renewal: the lease lapsed
    assert await alive.recover(world.clock) == 0
    assert await world.records(grant.request_id) == []
