"""The hot path's writes on SQLite: one thread owning one stdlib `sqlite3` connection (WAL,
`synchronous=NORMAL`, as the engine's) commits, in one transaction, whatever calls queued while
its previous transaction committed. A call pays one hand-over to the thread and one wake-up of
its loop per batch, not SQLAlchemy's async stack per statement (a greenlet switch and a thread
hop each, about 0.15 ms).

Durability is the engine's: a write returns once its transaction committed. A batch that fails
on a bad write is run again one write at a time, so only that write's caller fails; a batch that
fails because the database is unavailable (locked past the busy timeout, full, unreadable)
fails its callers at once with StoreUnavailable. At most `max_pending` writes wait at a time:
further callers wait for room (back-pressure), nothing is dropped. `aclose` writes everything
queued before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.persistence.call_log.batching import MAX_BATCH, MAX_PENDING
from adapters.persistence.call_log.sqlite_statements import (
    CHECKPOINT,
    COUNTER,
    DROP_LEASE,
    FINISH,
    KNOWN,
    LEASE,
    SET_COUNTER,
    SET_LEASE,
    insert_sql,
    sql_value,
    sql_values,
)
from adapters.persistence.database import SQLITE_BUSY_TIMEOUT_MS
from adapters.persistence.repositories.alerts import alert_to_row
from adapters.persistence.repositories.journal import journal_to_row
from adapters.persistence.repositories.ledger import entry_to_row
from adapters.persistence.repositories.usage import usage_to_row
from adapters.persistence.repositories.wallets import entry_row
from adapters.persistence.tables.alerts import alerts
from adapters.persistence.tables.calls import call_journal, ledger_entries, usage_records
from adapters.persistence.tables.wallets import wallet_entries
from domain.billing.money import exact_sum
from domain.budgets.limits import CounterMove, Spend
from domain.errors import Conflict, NotFound, StoreUnavailable, ValidationError
from domain.metering.journal import JournalEntry, JournalState, Settlement
from domain.metering.ports import CallLog
from domain.metering.usage import UsageRecord
from domain.text import has_nul
from domain.wallets.statement import usage_draw

log = logging.getLogger("bizgraph.call_log")


_STARTED = JournalState.STARTED.value
# SQLite's messages for a database that is there but cannot take the write now.
_UNAVAILABLE = ("locked", "busy", "disk", "full", "i/o", "readonly", "unable to open", "malformed")


@dataclass(slots=True)
class _Write:
    """One caller's write; `done` is None for a deferred one (a checkpoint)."""

    apply: Callable[[sqlite3.Connection], object]
    done: asyncio.Future[Any] | None
    loop: asyncio.AbstractEventLoop | None
    result: object = None
    error: BaseException | None = None
    key: str | None = field(default=None)  # a deferred write replaced by a later one


_STOP = object()  # queued by aclose: the thread ends after the writes before it


class SqliteCallLog(CallLog):
    def __init__(
        self,
        path: Path,
        *,
        max_batch: int = MAX_BATCH,
        max_pending: int = MAX_PENDING,
        busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    ) -> None:
        self._path = path
        self._max_batch = max_batch
        self._busy_timeout_ms = busy_timeout_ms
        self._queue: queue.SimpleQueue[_Write | object] = queue.SimpleQueue()
        self._room = asyncio.Semaphore(max_pending)
        self._max_pending = max_pending
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()  # starting the thread once, from any loop
        # A test seam: run on the writer's connection before each batch (the outage tests
        # set SQLite's size limit there to fill the database).
        self.before_batch: Callable[[sqlite3.Connection], None] | None = None
        # Told each committed batch's size and seconds, on the writer thread (metrics).
        self.observe: Callable[[int, float], None] | None = None
        self.queued = 0  # writes accepted and not yet answered (at most max_pending)
        self.batches = 0  # transactions committed, and the writes they held
        self.writes = 0

    # -- the loop's side ---------------------------------------------------------------

    async def open(self, entry: JournalEntry) -> None:
        row = journal_to_row(entry)
        if has_nul(tuple(row.values())):
            raise ValidationError("text cannot contain NUL characters")
        statement, values = insert_sql(call_journal, tuple(row), ("request_id",)), sql_values(row)
        await self._submit(lambda conn: conn.execute(statement, values))

    async def settle(self, settlement: Settlement) -> list[UsageRecord] | None:
        statements = _settlement_statements(settlement)
        added = await self._submit(lambda conn: _settle(conn, settlement, statements))
        assert added is None or isinstance(added, list)
        return added

    def checkpoint(self, request_id: str, output_chars: int) -> None:
        if self._closed:
            return
        values = {"chars": output_chars, "rid": request_id, "started": _STARTED}
        self._put(_Write(lambda conn: conn.execute(CHECKPOINT, values), None, None, key=request_id))

    async def flush(self) -> None:
        if not self._closed:
            # A barrier: the batches commit in order. Writes that failed told their callers.
            with contextlib.suppress(StoreUnavailable):
                await self._submit(lambda conn: None)

    def backlog(self) -> tuple[int, int | None]:
        return self.queued, self._max_pending

    async def aclose(self) -> None:
        if self._closed:
            return
        await self.flush()
        self._closed = True
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            await asyncio.to_thread(thread.join)

    async def _submit(self, apply: Callable[[sqlite3.Connection], object]) -> object:
        if self._closed:
            raise StoreUnavailable("the gateway is shutting down; try again")
        await self._room.acquire()  # back-pressure: wait while the writer is behind
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        self.queued += 1
        done.add_done_callback(self._answered)
        self._put(_Write(apply, done, loop))
        return await asyncio.shield(done)  # a cancelled caller's write still completes

    def _answered(self, _: asyncio.Future[Any]) -> None:
        self.queued -= 1
        self._room.release()

    def _put(self, write: _Write) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="bizgraph-call-log", daemon=True
                    )
                    self._thread.start()
        self._queue.put(write)

    # -- the writer thread -------------------------------------------------------------

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        stopping = False
        while not stopping:
            batch: list[_Write] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    assert isinstance(item, _Write)
                    batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if not batch:
                continue
            try:
                conn = conn or self._connect()
            except Exception as exc:
                _finish(batch, _translated(exc))
                continue
            self._commit(conn, _latest_checkpoints(batch))
        if conn is not None:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _commit(self, conn: sqlite3.Connection, batch: list[_Write]) -> None:
        started = time.perf_counter()
        try:
            if self.before_batch is not None:
                self.before_batch(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                for write in batch:
                    write.result = write.apply(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except Exception as exc:
            error = _translated(exc)
            if isinstance(error, StoreUnavailable) or len(batch) == 1:
                _finish(batch, error)  # an outage fails the batch's callers, all of them
                return
            for write in batch:  # a bad write must not fail the others: each alone
                self._commit(conn, [write])
            return
        self.batches += 1
        self.writes += len(batch)
        if self.observe is not None:
            self.observe(len(batch), time.perf_counter() - started)
        _finish(batch, None)


@dataclass(frozen=True, slots=True)
class _SettlementStatements:
    records: tuple[tuple[str, dict[str, Any], str, dict[str, Any]], ...]


def _settlement_statements(settlement: Settlement) -> _SettlementStatements:
    """Built on the caller's side: the writer thread only executes."""
    rows = []
    for record, entry in settlement.charges:
        usage, ledger = usage_to_row(record), entry_to_row(entry)
        rows.append(
            (
                insert_sql(usage_records, tuple(usage), ("request_id", "attempt")),
                sql_values(usage),
                insert_sql(ledger_entries, tuple(ledger), ("client_id", "kind", "reference")),
                sql_values(ledger),
            )
        )
    return _SettlementStatements(tuple(rows))


def _settle(
    conn: sqlite3.Connection, settlement: Settlement, sql: _SettlementStatements
) -> list[UsageRecord] | None:
    """JournalRepository.finish's rules, then the records not stored yet with their entries,
    then their spend on the budgets (BudgetRepository.settle's rules for a leased call)."""
    rid = settlement.request_id
    closing = {"rid": rid, "new_state": settlement.state.value, "started": _STARTED}
    closed = conn.execute(FINISH, closing)
    if closed.rowcount != 1:
        if conn.execute(KNOWN, {"rid": rid}).fetchone() is None:
            raise NotFound(f"no journal entry for request {settlement.request_id}")
        return None
    added = []
    for (record, _), (usage_sql, usage, ledger_sql, ledger) in zip(
        settlement.charges, sql.records, strict=True
    ):
        if conn.execute(usage_sql, usage).rowcount == 1:
            conn.execute(ledger_sql, ledger)
            added.append(record)
    if (budgets := settlement.budgets) is not None:
        moves = []
        for spend in budgets.spends(added):
            if spend.amount != 0 and (move := _spend(conn, spend, budgets.lease_owner)):
                moves.append(move)
                if (draw := usage_draw(spend)) is not None:  # a wallet's: on its statement too
                    row = entry_row(draw)
                    conn.execute(
                        insert_sql(wallet_entries, tuple(row), ("reference",)), sql_values(row)
                    )
        for alert in budgets.alerts(moves):
            row = alert_to_row(alert)
            conn.execute(insert_sql(alerts, tuple(row), ("dedupe_key",)), sql_values(row))
    return added


def _spend(conn: sqlite3.Connection, spend: Spend, lease_owner: str | None) -> CounterMove | None:
    """Add the spend to its counter, moved out of the lease (at most what it holds). Amounts
    are exact text on SQLite: the sums are Decimal, inside the write transaction."""
    where = {"scope": spend.scope, "start": sql_value(spend.period_start)}
    counter = conn.execute(COUNTER, where).fetchone()
    if counter is None:  # no counter (the budget was removed): nothing to move
        return None
    before, reserved = Decimal(counter[0]), Decimal(counter[1])
    moved = Decimal(0)
    if lease_owner is not None:
        lease = {**where, "owner": lease_owner}
        found = conn.execute(LEASE, lease).fetchone()
        if found is not None:
            leased = Decimal(found[0])
            moved = min(leased, spend.amount)
            left = exact_sum(leased, moved.copy_negate())
            if left == 0:
                conn.execute(DROP_LEASE, lease)
            else:
                conn.execute(SET_LEASE, {**lease, "amount": sql_value(left)})
    after = exact_sum(before, spend.amount)
    moved_counter = {
        **where,
        "spent": sql_value(after),
        "reserved": sql_value(exact_sum(reserved, moved.copy_negate())),
    }
    conn.execute(SET_COUNTER, moved_counter)
    return CounterMove(spend.scope, before, after)


def _latest_checkpoints(batch: list[_Write]) -> list[_Write]:
    """Only the last checkpoint of each stream in a batch is worth writing."""
    last = {w.key: i for i, w in enumerate(batch) if w.key is not None}
    return [w for i, w in enumerate(batch) if w.key is None or last[w.key] == i]


def _translated(exc: BaseException) -> BaseException:
    if isinstance(exc, NotFound | Conflict | StoreUnavailable | ValidationError):
        return exc
    if isinstance(exc, sqlite3.IntegrityError):
        if "FOREIGN KEY" in str(exc):
            return NotFound("usage: a referenced row does not exist")
        return Conflict("usage: the row conflicts with a stored one")
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError | OSError):
        text = str(exc).lower()
        if "full" in text:
            return StoreUnavailable("the database is out of disk space; try again later")
        if any(word in text for word in _UNAVAILABLE) or isinstance(exc, OSError):
            return StoreUnavailable("the database is unavailable; try again shortly")
    return exc


def _finish(batch: Iterable[_Write], error: BaseException | None) -> None:
    """Hand results back to each caller's loop: one wake-up per loop per batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Write]] = {}
    for write in batch:
        if write.done is None:
            if error is not None:
                log.warning("a deferred journal write failed: %s", error)
            continue
        write.error = error
        assert write.loop is not None
        by_loop.setdefault(write.loop, []).append(write)
    for loop, writes in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_resolve, writes)


def _resolve(writes: list[_Write]) -> None:
    for write in writes:
        done = write.done
        if done is None or done.done():
            continue
        if write.error is not None:
            done.set_exception(write.error)
        else:
            done.set_result(write.result)
