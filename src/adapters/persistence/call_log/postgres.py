"""The hot path's writes on PostgreSQL: asyncpg directly (prepared statements, arrays), one
transaction for whatever calls queued while the previous one committed, a few round trips per
batch whatever its size: the journal rows in one pipelined `executemany`, the settlements'
journal updates in one `unnest` statement, their usage records in another (its RETURNING says
which were new), then their ledger entries and the daily rollup (usage_totals.py).

Durability is the database's: a write returns once its transaction committed. A batch that
fails on a bad write is run again one write at a time, so only that write's caller fails; an
unreachable database fails the batch's callers with StoreUnavailable; a deadlock with another
process's batch runs the batch again. At most `max_pending` writes wait at a time; further
callers wait for room. `aclose` writes everything queued before it returns.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from adapters.persistence.call_log.batching import MAX_BATCH, MAX_PENDING
from adapters.persistence.call_log.postgres_statements import (
    ALERT_COLUMNS,
    ALERTS,
    CHECKPOINT,
    DAILY,
    FINISH,
    JOURNAL_COLUMNS,
    KNOWN,
    LEDGER,
    LEDGER_COLUMNS,
    OPEN,
    SPEND,
    SPEND_FROM_LEASE,
    USAGE,
    USAGE_COLUMNS,
    WALLET_COLUMNS,
    WALLET_DRAWS,
    as_columns,
    daily_rows,
    row_values,
)
from adapters.persistence.repositories.alerts import alert_to_row
from adapters.persistence.repositories.journal import journal_to_row
from adapters.persistence.repositories.ledger import entry_to_row
from adapters.persistence.repositories.usage import usage_to_row
from adapters.persistence.repositories.wallets import entry_row
from adapters.persistence.types import canonical, check_storable
from domain.budgets.limits import CounterMove
from domain.errors import Conflict, NotFound, StoreUnavailable, ValidationError, WriteConflict
from domain.invoicing.ledger import LedgerEntry
from domain.metering.journal import BudgetMoves, JournalEntry, Settlement
from domain.metering.ports import CallLog
from domain.metering.usage import UsageRecord
from domain.text import has_nul
from domain.wallets.statement import usage_draw

log = logging.getLogger("bizgraph.call_log")

_CONFLICT_RETRIES = 5
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")  # as outages.py
_CONFLICT_SQLSTATES = ("40P01", "40001")


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg takes, from a SQLAlchemy URL of any PostgreSQL driver."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@dataclass(slots=True)
class _Write:
    entry: JournalEntry | None = None
    settlement: Settlement | None = None
    done: asyncio.Future[Any] | None = None
    result: object = None
    error: BaseException | None = field(default=None)


class PostgresCallLog(CallLog):
    def __init__(
        self,
        url: str,
        *,
        max_batch: int = MAX_BATCH,
        max_pending: int = MAX_PENDING,
        connect_timeout: float = 10.0,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._max_batch = max_batch
        self._connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._pending: list[_Write] = []
        self._checkpoints: dict[str, int] = {}
        self._room = asyncio.Semaphore(max_pending)
        self._max_pending = max_pending
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self.queued = 0
        self.batches = 0
        self.writes = 0
        self.observe: Callable[[int, float], None] | None = None  # each batch's size, seconds

    async def open(self, entry: JournalEntry) -> None:
        if has_nul(tuple(journal_to_row(entry).values())):
            raise ValidationError("text cannot contain NUL characters")
        await self._submit(_Write(entry=entry))

    async def settle(self, settlement: Settlement) -> list[UsageRecord] | None:
        added = await self._submit(_Write(settlement=settlement))
        assert added is None or isinstance(added, list)
        return added

    def checkpoint(self, request_id: str, output_chars: int) -> None:
        if not self._closed:
            self._checkpoints[request_id] = output_chars  # only the latest value matters
            self._wake()

    async def flush(self) -> None:
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def backlog(self) -> tuple[int, int | None]:
        return self.queued, self._max_pending

    async def aclose(self) -> None:
        await self.flush()
        self._closed = True
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _submit(self, write: _Write) -> object:
        if self._closed:
            raise StoreUnavailable("the gateway is shutting down; try again")
        await self._room.acquire()
        write.done = asyncio.get_running_loop().create_future()
        self.queued += 1
        write.done.add_done_callback(self._answered)
        self._pending.append(write)
        self._wake()
        return await asyncio.shield(write.done)

    def _answered(self, _: asyncio.Future[Any]) -> None:
        self.queued -= 1
        self._room.release()

    def _wake(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending or self._checkpoints:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            checkpoints, self._checkpoints = self._checkpoints, {}
            await self._commit(batch, checkpoints)

    async def _connection_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=2, timeout=self._connect_timeout
                )
            return self._pool

    async def _commit(
        self, batch: list[_Write], checkpoints: dict[str, int], tries: int = 0
    ) -> None:
        started = time.perf_counter()
        try:
            pool = await self._connection_pool()
            async with pool.acquire() as conn, conn.transaction():
                await _apply(conn, batch, checkpoints)
        except Exception as exc:
            error = translated(exc)
            if isinstance(error, WriteConflict) and tries < _CONFLICT_RETRIES:
                await asyncio.sleep(random.uniform(0.005, 0.05) * (tries + 1))
                await self._commit(batch, checkpoints, tries + 1)
                return
            if checkpoints:
                log.warning("a batch of journal checkpoints failed: %s", error)
            if isinstance(error, StoreUnavailable) or len(batch) <= 1:
                _answer(batch, error)
                return
            for write in batch:  # a bad write must not fail the others: each alone
                await self._commit([write], {})
            return
        self.batches += 1
        self.writes += len(batch)
        if self.observe is not None:
            self.observe(len(batch), time.perf_counter() - started)
        _answer(batch, None)


async def _apply(conn: Any, batch: list[_Write], checkpoints: Mapping[str, int]) -> None:
    entries = [w.entry for w in batch if w.entry is not None]
    if entries:
        rows = [row_values(journal_to_row(e), JOURNAL_COLUMNS) for e in entries]
        await conn.execute(OPEN, *as_columns(rows))
    settling = [w for w in batch if w.settlement is not None]
    if settling:
        await _settle(conn, settling)
    if checkpoints:
        await conn.execute(CHECKPOINT, list(checkpoints), list(checkpoints.values()))


async def _settle(conn: Any, writes: list[_Write]) -> None:
    """JournalRepository.finish's rules for every settlement at once, then the records of
    the rows this batch closed, their ledger entries and the daily rollup."""
    first: dict[str, _Write] = {}
    for write in writes:
        assert write.settlement is not None
        rid = write.settlement.request_id
        if rid in first:
            write.result = None  # the same call twice in a batch: the first one wins
            continue
        first[rid] = write
    states = [w.settlement.state.value for w in first.values() if w.settlement is not None]
    closed = {r[0] for r in await conn.fetch(FINISH, list(first), states)}
    if missing := [rid for rid in first if rid not in closed]:
        known = {r[0] for r in await conn.fetch(KNOWN, missing)}
        for rid in missing:
            first[rid].result = None
            if rid not in known:
                first[rid].error = NotFound(f"no journal entry for request {rid}")
    charges: list[tuple[UsageRecord, LedgerEntry]] = []
    for rid in closed:
        settlement = first[rid].settlement
        assert settlement is not None
        charges.extend(settlement.charges)
    added: set[tuple[str, int]] = set()
    if charges:
        usage_rows = [row_values(usage_to_row(record), USAGE_COLUMNS) for record, _ in charges]
        added = {(r[0], r[1]) for r in await conn.fetch(USAGE, *as_columns(usage_rows))}
    new = [(rec, entry) for rec, entry in charges if (rec.request_id, rec.attempt) in added]
    if new:
        ledger_rows = [row_values(entry_to_row(entry), LEDGER_COLUMNS) for _, entry in new]
        await conn.execute(LEDGER, *as_columns(ledger_rows))
        await conn.executemany(DAILY, daily_rows([record for record, _ in new]))
    for rid in sorted(closed):  # one order for the counters' locks within the batch
        write = first[rid]
        assert write.settlement is not None
        mine = [rec for rec, _ in write.settlement.charges if (rid, rec.attempt) in added]
        write.result = mine
        if write.settlement.budgets is not None:
            await _move_budgets(conn, write.settlement.budgets, mine)


async def _move_budgets(conn: Any, budgets: BudgetMoves, added: list[UsageRecord]) -> None:
    """BudgetRepository.settle's rules for a leased call: the spend joins the counter, moved
    out of the lease (at most what it holds); the thresholds it crosses alert."""
    moves = []
    draws = []
    for spend in budgets.spends(added):
        if spend.amount == 0:
            continue
        args = (spend.scope, spend.period_start, check_storable(spend.amount))
        if budgets.lease_owner is None:
            after = await conn.fetchval(SPEND, *args)
        else:
            after = await conn.fetchval(SPEND_FROM_LEASE, *args, budgets.lease_owner)
        if after is not None:  # NUMERIC(38, 18) comes back padded: the amount as written
            after = canonical(after)
            moves.append(CounterMove(spend.scope, canonical(after - spend.amount), after))
            if (draw := usage_draw(spend)) is not None:  # a wallet's: on its statement too
                draws.append(row_values(entry_row(draw), WALLET_COLUMNS))
    if draws:
        await conn.execute(WALLET_DRAWS, *as_columns(draws))
    alert_rows = [alert_to_row(alert) for alert in budgets.alerts(moves)]
    if alert_rows:
        await conn.execute(ALERTS, *as_columns([row_values(r, ALERT_COLUMNS) for r in alert_rows]))


def translated(exc: BaseException) -> BaseException:
    """The domain error a failed batch amounts to (the error itself when it is none)."""
    if isinstance(exc, NotFound | Conflict | StoreUnavailable | ValidationError | WriteConflict):
        return exc
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    if sqlstate in _CONFLICT_SQLSTATES:
        return WriteConflict("the transaction conflicted with another one; try again")
    if sqlstate == "23503":
        return NotFound("usage: a referenced row does not exist")
    if sqlstate.startswith("23"):
        return Conflict("usage: the row conflicts with a stored one")
    # InternalClientError: a pooled connection the server cut mid-operation (a shutdown) is
    # left in a protocol state asyncpg refuses to use; like a cut connection, it is an outage.
    if sqlstate.startswith(_UNAVAILABLE_SQLSTATES) or isinstance(
        exc, OSError | TimeoutError | asyncpg.InterfaceError | asyncpg.InternalClientError
    ):
        return StoreUnavailable("the database is unavailable; try again shortly")
    return exc


def _answer(batch: Sequence[_Write], error: BaseException | None) -> None:
    for write in batch:
        done = write.done
        if done is None or done.done():
            continue
        failure = error or write.error
        if failure is not None:
            done.set_exception(failure)
        else:
            done.set_result(write.result)
