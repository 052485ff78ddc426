"""The hot path's writers (adapters/persistence/call_log/), on
their backend: what they write reads back through the repositories exactly, batches share
transactions, a bad write fails only its caller, the queue is bounded, and closing writes
everything queued."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.call_log import postgres_statements
from adapters.persistence.call_log.postgres import PostgresCallLog, asyncpg_dsn
from adapters.persistence.call_log.sqlite import SqliteCallLog
from adapters.persistence.tables.calls import usage_daily
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.alerting.alerts import Alert
from domain.alerting.budget_alerts import threshold_alert
from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.budgets.limits import Budget, BudgetBasis, BudgetMode, CounterMove, Hold, Spend
from domain.errors import NotFound, StoreUnavailable
from domain.invoicing.ledger import LedgerEntry
from domain.metering.journal import BudgetMoves, JournalEntry, JournalState, Settlement
from domain.metering.ports import CallLog
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord
from domain.usecases.call_log import UnitOfWorkCallLog
from runtime.group_commit import GroupCommit
from tests.integration.persistence import builders
from tests.support.private_services import free_port

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
T0 = builders.T0
LATER = T0 + timedelta(days=1)


Log = SqliteCallLog | PostgresCallLog
MakeLog = Callable[..., Log]


@pytest_asyncio.fixture
async def repos(engine: AsyncEngine) -> UowFactory:
    """The repositories, to read back what the log wrote (either backend)."""
    return unit_of_work_factory(engine)


@pytest.fixture
def make_log(database_url: str) -> MakeLog:
    def make(**options: int) -> Log:
        if database_url.startswith("sqlite"):
            return SqliteCallLog(Path(make_url(database_url).database or ""), **options)
        return PostgresCallLog(database_url, **options)

    return make


@pytest_asyncio.fixture
async def call_log(make_log: MakeLog) -> AsyncIterator[Log]:
    log = make_log()
    yield log
    await log.aclose()


@asynccontextmanager
async def writes_blocked(database_url: str) -> AsyncIterator[None]:
    """Another connection holds the tables the log writes, until the block ends."""
    if database_url.startswith("sqlite"):
        blocker = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE call_journal IN EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def owner(repos: UowFactory) -> tuple[str, str]:
    """A client and key for usage records to reference (their foreign keys hold)."""
    client = builders.client()
    key = builders.key(client.id)
    async with repos() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.commit()
    return client.id, key.id


def _charge(record: UsageRecord) -> tuple[UsageRecord, LedgerEntry]:
    entry = builders.entry(
        record.client_id,
        record.charge.amount,
        record.charge.currency,
        reference=f"{record.request_id}#{record.attempt}",
        occurred_at=record.started_at,
    )
    return record, entry


def _call(owner: tuple[str, str], **usage: object) -> tuple[JournalEntry, Settlement]:
    client_id, key_id = owner
    record = builders.usage(client_id, key_id, **usage)
    entry = builders.journal(
        request_id=record.request_id, client_id=client_id, api_key_id=key_id, started_at=T0
    )
    return entry, Settlement(record.request_id, JournalState.SETTLED, (_charge(record),))


amounts = st.decimals(
    min_value=Decimal(0), max_value=Decimal(10) ** 19, places=18, allow_nan=False
).map(lambda d: d.normalize() if d else Decimal(0))
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cost=amounts, charge=amounts, started_at=instants, tokens=st.integers(0, 2**40))
async def test_what_the_thread_writes_reads_back_exactly_through_the_repositories(
    call_log: Log,
    repos: UowFactory,
    owner: tuple[str, str],
    cost: Decimal,
    charge: Decimal,
    started_at: datetime,
    tokens: int,
) -> None:
    client_id, key_id = owner
    record = builders.usage(
        client_id,
        key_id,
        cost=Money(cost, "USD"),
        charge=Money(charge, "EUR"),
        started_at=started_at,
        usage=TokenUsage(input_tokens=tokens, output_tokens=tokens // 3 + 1, reasoning_tokens=1),
    )
    journal = builders.journal(
        request_id=record.request_id,
        client_id=client_id,
        api_key_id=key_id,
        started_at=started_at,
        owner="proc-1",
        prompt_chars=tokens,
    )
    await call_log.open(journal)
    async with repos() as tx:
        unsettled = await tx.journal.unsettled(datetime(2100, 1, 1, tzinfo=UTC))
    assert journal in unsettled

    record_and_entry = _charge(record)
    settled = Settlement(record.request_id, JournalState.SETTLED, (record_and_entry,))
    assert await call_log.settle(settled) == [record]
    async with repos() as tx:
        assert list(await tx.usage.for_request(record.request_id)) == [record]
        entries = await tx.ledger.entries(client_id)
        assert record_and_entry[1] in entries
        assert journal.request_id not in [
            e.request_id for e in await tx.journal.unsettled(datetime(2100, 1, 1, tzinfo=UTC))
        ]


async def test_the_first_settlement_wins_and_an_unknown_row_is_not_found(
    call_log: Log, repos: UowFactory, owner: tuple[str, str]
) -> None:
    entry, settlement = _call(owner)
    await call_log.open(entry)
    await call_log.open(entry)  # a known request id is left as it is
    assert await call_log.settle(settlement) == [settlement.charges[0][0]]
    again = Settlement(
        settlement.request_id, JournalState.ABANDONED, (_charge(builders.usage(*owner)),)
    )
    assert await call_log.settle(again) is None
    with pytest.raises(NotFound):
        await call_log.settle(Settlement("ghost", JournalState.SETTLED, ()))
    async with repos() as tx:
        assert len(await tx.usage.for_request(settlement.request_id)) == 1
        assert len(await tx.ledger.entries(owner[0])) == 1


async def test_a_record_already_stored_is_skipped_with_its_ledger_entry(
    call_log: Log, repos: UowFactory, owner: tuple[str, str]
) -> None:
    entry, settlement = _call(owner)
    record, _ = settlement.charges[0]
    async with repos() as tx:
        await tx.usage.add(record)  # e.g. stored by an earlier attempt at settling
        await tx.commit()
    await call_log.open(entry)
    assert await call_log.settle(settlement) == []  # settled, nothing new to add
    async with repos() as tx:
        assert await tx.ledger.entries(owner[0]) == []


async def test_concurrent_writes_share_transactions_and_none_is_lost_or_doubled(
    call_log: Log, engine: AsyncEngine, repos: UowFactory, owner: tuple[str, str]
) -> None:
    calls = [_call(owner) for _ in range(300)]

    async def one(entry: JournalEntry, settlement: Settlement) -> bool:
        await call_log.open(entry)
        return await call_log.settle(settlement)

    assert all(await asyncio.gather(*(one(*c) for c in calls)))
    assert call_log.writes == 600
    assert call_log.batches < call_log.writes  # some writes shared a transaction
    async with repos() as tx:
        entries = await tx.ledger.entries(owner[0])
        records = await tx.usage.for_client(owner[0], T0 - timedelta(days=1), LATER)
    assert sorted(r.request_id for r in records) == sorted(e.request_id for e, _ in calls)
    assert len(entries) == 300
    if engine.dialect.name == "postgresql":  # the daily rollup counted each record once
        async with engine.connect() as conn:
            [day] = (await conn.execute(select(usage_daily))).mappings().all()
        assert day["requests"] == 300
        assert day["cost"] == sum(r.cost.amount for r in records)
        assert day["output_tokens"] == sum(r.usage.output_tokens for r in records)


def test_the_postgres_statements_close_only_started_rows() -> None:
    assert JournalState.STARTED.value == "started"
    assert "j.state = 'started'" in postgres_statements.FINISH
    assert "j.state = 'started'" in postgres_statements.CHECKPOINT


async def test_a_bad_write_fails_only_its_caller(
    database_url: str, call_log: Log, repos: UowFactory, owner: tuple[str, str]
) -> None:
    good = [_call(owner) for _ in range(20)]
    bad_entry, bad = _call(("no-such-client", owner[1]))  # its usage record breaks a foreign key
    for entry, _ in [*good, (bad_entry, bad)]:
        await call_log.open(entry)

    async with writes_blocked(database_url):  # the writer queues everything behind this lock
        settling = [asyncio.create_task(call_log.settle(s)) for _, s in good[:10]]
        failing = asyncio.create_task(call_log.settle(bad))
        settling += [asyncio.create_task(call_log.settle(s)) for _, s in good[10:]]
        for _ in range(500):  # until all 21 wait behind the lock
            if call_log.queued == 21:
                break
            await asyncio.sleep(0.01)

    assert all(await asyncio.gather(*settling))
    with pytest.raises(NotFound):
        await failing
    async with repos() as tx:
        records = await tx.usage.for_client(owner[0], T0 - timedelta(days=1), LATER)
        assert len(records) == 20
        assert len(await tx.ledger.entries(owner[0])) == 20
        assert [e.request_id for e in await tx.journal.unsettled(LATER)] == [bad.request_id]


async def test_callers_wait_for_room_when_the_writer_is_behind(
    database_url: str, make_log: MakeLog, repos: UowFactory, owner: tuple[str, str]
) -> None:
    log = make_log(max_pending=3)
    try:
        entries = [_call(owner)[0] for _ in range(10)]
        async with writes_blocked(database_url):
            opening = [asyncio.create_task(log.open(e)) for e in entries]
            for _ in range(20):
                await asyncio.sleep(0.01)
                assert log.queued <= 3  # the rest wait for room: nothing queued past the bound
            assert log.queued == 3
            assert not any(task.done() for task in opening)
        await asyncio.gather(*opening)
    finally:
        await log.aclose()
    async with repos() as tx:
        assert len(await tx.journal.unsettled(LATER)) == 10


async def test_closing_writes_everything_queued_then_refuses_writes(
    make_log: MakeLog, repos: UowFactory, owner: tuple[str, str]
) -> None:
    log = make_log()
    calls = [_call(owner) for _ in range(50)]
    opening = [asyncio.create_task(log.open(e)) for e, _ in calls]
    await asyncio.sleep(0)  # queued, not yet written
    log.checkpoint(calls[0][0].request_id, 120)
    log.checkpoint(calls[0][0].request_id, 480)  # the later value wins
    await log.aclose()
    assert all(task.done() for task in opening)
    async with repos() as tx:
        rows = {e.request_id: e for e in await tx.journal.unsettled(LATER)}
    assert len(rows) == 50
    assert rows[calls[0][0].request_id].output_chars == 480
    with pytest.raises(StoreUnavailable):
        await log.open(_call(owner)[0])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_database_that_cannot_be_opened_is_unavailable(
    backend: str, tmp_path: Path
) -> None:
    log: Log
    if backend == "sqlite":
        log = SqliteCallLog(tmp_path / "missing" / "dir" / "bizgraph.db")
    else:
        log = PostgresCallLog(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    try:
        with pytest.raises(StoreUnavailable):
            await log.open(builders.journal())
    finally:
        await log.aclose()


@pytest.mark.parametrize("writer", ["hot path", "unit of work"])
async def test_a_leased_settlement_moves_the_spend_out_of_the_lease_with_its_alerts(
    writer: str, call_log: Log, repos: UowFactory, owner: tuple[str, str]
) -> None:
    """The writers move budgets as BudgetRepository.settle does (the unit of work's log is
    the reference): spend added, the lease shrunk by it, alerts of crossed thresholds."""
    client_id, _ = owner
    budget = Budget(client_id, None, Money(Decimal("0.001"), "USD"), BudgetMode.HARD, T0)
    period = month_period("2025-03", ZoneInfo("UTC"))
    async with repos() as tx:
        await tx.budgets.put(budget)
        wanted = Hold(budget, period, Decimal("0.0005"), BudgetBasis.CHARGE)
        assert (await tx.budgets.take_lease("proc-1", wanted, Decimal(0))).refusal is None
        await tx.commit()
    entry, plain = _call(owner, charge=Money(Decimal("0.0004"), "USD"))

    def spends(added: Sequence[UsageRecord]) -> list[Spend]:
        total = sum((r.charge.amount for r in added), Decimal(0))
        return [Spend(budget.scope, period.start, total)]

    def alerts(moves: Sequence[CounterMove]) -> list[Alert]:
        return [
            threshold_alert(budget, period, BudgetBasis.CHARGE, 40, m.spent_after, T0, "Acme")
            for m in moves
            if m.spent_before < Decimal("0.0004") <= m.spent_after
        ]

    settlement = replace(plain, budgets=BudgetMoves("proc-1", spends, alerts))
    log: CallLog = call_log if writer == "hot path" else UnitOfWorkCallLog(GroupCommit(repos))
    await log.open(entry)
    [added] = await log.settle(settlement) or []
    assert added.request_id == entry.request_id
    async with repos() as tx:
        assert await tx.budgets.status(budget, period, BudgetBasis.CHARGE) == (
            Decimal("0.0004"),
            Decimal("0.0001"),  # the lease's rest, still this process's
        )
        left = await tx.budgets.return_lease("proc-1", budget.scope, period.start, Decimal(1))
        [alert] = await tx.alerts.recent(client_ids=[client_id])
    assert left == 0
    assert alert.details["percent"] == "40"
    assert await log.settle(settlement) is None  # settled already: nothing moves twice
