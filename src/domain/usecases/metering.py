"""Metering: who may call which model at which price, and the settlement of every attempt into
one usage record and one ledger entry (idempotent on request id and attempt number)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.alerting.alerts import Alert
from domain.alerting.budget_alerts import refusal_alert
from domain.billing.periods import Period, period_containing
from domain.budgets.conversion import BudgetRates, convertible_budgets, needs_rates
from domain.budgets.leases import IDLE_SECONDS
from domain.budgets.limits import CounterMove, Hold, LeaseTaken, Spend
from domain.byok.ports import ByokLookup
from domain.catalog.models import Model
from domain.errors import (
    BudgetExceeded,
    BudgetUnavailable,
    ClientSuspended,
    ModelNotAllowed,
    StoreUnavailable,
    WriteConflict,
)
from domain.ids import new_id
from domain.metering.journal import BudgetMoves, JournalEntry, JournalState, Settlement
from domain.metering.ports import CallLog
from domain.metering.request_bounds import RequestBound
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.runtime_ports import Snapshots, Writes
from domain.telemetry import NO_TELEMETRY, Telemetry, note_model
from domain.tracing import NO_SPAN, Span
from domain.usecases.budget_holds import call_holds, covers
from domain.usecases.budget_leases import BudgetLeases
from domain.usecases.byok_calls import recovered_key, refuse_revoked
from domain.usecases.call_log import UnitOfWorkCallLog, partial_settle
from domain.usecases.grants import (
    Attempt,
    CallGrant,
    PricedModel,
    budget_owner,
    budgets_of,
    grant_for_entry,
    ledger_entry,
    priced_fallback,
    refusal_message,
    resolve_model,
    spends,
    threshold_alerts,
    usage_record,
)
from domain.usecases.keys import Caller, KeyUseCases
from domain.usecases.uncounted_budgets import UncountedBudgets

log = logging.getLogger("bizgraph.metering")
_FIRST_RETRY_SECONDS = 0.25  # a settlement the database refused is retried after this,
_LAST_RETRY_SECONDS = 5.0  # doubling up to this


class Metering:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        keys: KeyUseCases,
        reads: UnitOfWorkFactory | None = None,
        zone: ZoneInfo | None = None,
        process_id: str | None = None,
        call_log: CallLog | None = None,
        lease_live: Callable[[], bool] = lambda: True,
        lease_idle_seconds: float = IDLE_SECONDS,
        telemetry: Telemetry = NO_TELEMETRY,
        *,
        writes: Writes,
        lookups: Snapshots,
        byok: ByokLookup | None = None,
    ) -> None:
        """`writes`: the group commit of the per-call writes; `lookups`: the configuration
        snapshots (crash recovery reads through one of its own); `lease_live` says whether
        this process's own lease is surely live (its budget leases are then its own);
        `lease_idle_seconds`: when an unused lease gives back."""
        self._writes = writes  # concurrent calls share their journal/settle commits
        self._lookups = lookups
        self._uow = uow
        # Calls without a budget: the backend's hot path when it has one (call_log/sqlite.py)
        self._log = call_log or UnitOfWorkCallLog(self._writes)
        self._process_id = process_id  # this process's lease: the owner of its journal rows
        # Budget leases are named after the process (a unit test's Metering gets an id too).
        self._owner = process_id or new_id()
        self._leases = BudgetLeases(trusted=lease_live, idle_seconds=lease_idle_seconds)
        self._reads = reads or uow  # read-only units of work do not queue behind writers
        self._clock = clock
        self._keys = keys
        self._zone = zone or ZoneInfo("UTC")  # billing periods are months in this zone
        self._retries: set[asyncio.Task[None]] = set()  # settlements waiting for the database
        self._telemetry = telemetry
        self._byok = byok  # clients' own provider keys, per revision (docs/byok.md)
        self._uncounted = UncountedBudgets(writes, clock)  # soft budgets without a rate

    async def authenticate(self, secret: str, trace: Span = NO_SPAN) -> Caller:
        with trace.child("auth"):
            return await self._keys.caller(secret)

    async def authorize(
        self,
        caller: Caller,
        requested_model: str,
        request_id: str,
        trace: Span = NO_SPAN,
        default_provider: str | None = None,
    ) -> CallGrant:
        """Check client status and the key's model allow-list; fix price and plan in force now.
        The model named is resolved first (a catalog id, the client's alias, the agency's
        alias, `default_provider`'s model of that name, an unambiguous bare name: see
        domain/catalog/aliases.py), so an alias is authorized, limited and billed as its target.
        `trace`: the call's span, which the grant carries to the call's later stages."""
        now = self._clock.now()
        snapshot, key = caller.snapshot, caller.key
        client = await snapshot.client(key.client_id)
        if client is None or not client.is_active:
            raise ClientSuspended("this client is suspended")
        model, alias = await resolve_model(snapshot, requested_model, client.id, default_provider)
        note_model(model.id, model.provider)  # metrics label its refusals too
        if not key.allows(model.id):
            raise ModelNotAllowed(f"this key may not call {model.id}")
        price = (await snapshot.prices(model.id)).in_force_at(now)
        plan = (await snapshot.plans(client.id)).in_force_at(now)
        budgets = budgets_of(await snapshot.budgets(), client.id, key.id)
        target = PricedModel(model, price)
        byok = None if self._byok is None else await self._byok.for_client(client.id, snapshot)
        refuse_revoked(byok, model)
        fx = None
        if budgets and needs_rates(budgets, price.currency):  # a budget in another currency
            fx = BudgetRates(await snapshot.rates(), now.astimezone(self._zone).date())
            counted = convertible_budgets(budgets, price.currency, fx)
            if len(counted) < len(budgets):  # a soft budget without a rate: say so
                skipped = [b for b in budgets if b not in counted]
                self._uncounted.note(client, skipped, price.currency, fx.day)
            budgets = counted
        return CallGrant(
            request_id, client, key, target, plan, now, snapshot, budgets, trace, alias, byok, fx
        )

    async def model_for(
        self, caller: Caller, requested: str, default_provider: str | None = None
    ) -> Model:
        """The catalog model a name resolves to for this caller, as a call would resolve it
        (UnknownModel, or ModelNotAllowed when its key may not call it)."""
        snapshot, key = caller.snapshot, caller.key
        model, _ = await resolve_model(snapshot, requested, key.client_id, default_provider)
        if not key.allows(model.id):
            raise ModelNotAllowed(f"this key may not call {model.id}")
        return model

    async def aliases_of(self, caller: Caller) -> dict[str, Model]:
        """The aliases this caller's client may call, to models its key allows."""
        snapshot = caller.snapshot
        names = (await snapshot.aliases()).names_for(caller.key.client_id)
        found: dict[str, Model] = {}
        for name, model_id in sorted(names.items()):
            model = await snapshot.model(model_id)
            if model is not None and caller.key.allows(model.id):
                found[name] = model
        return found

    async def allowed_models(self, caller: Caller) -> Sequence[Model]:
        return [m for m in await caller.snapshot.models() if caller.key.allows(m.id)]

    async def fallback(self, grant: CallGrant, model_id: str) -> PricedModel | None:
        """A fallback model at its own price in force when the call started, if it exists."""
        return await priced_fallback(grant, model_id)

    async def hold_and_journal(self, grant: CallGrant, bound: RequestBound) -> None:
        """Written before the provider call, so a crash leaves a trace recovery can settle;
        with budgets, the call's maximum amount (request_bounds.py) is held in the same
        transaction, or the call is refused (BudgetExceeded, with an alert) and nothing is
        journaled. A call no rule bounds is refused under a hard budget."""
        with grant.trace.child("hold"):
            await self._hold_and_journal(grant, bound)

    async def _hold_and_journal(self, grant: CallGrant, bound: RequestBound) -> None:
        entry = JournalEntry(
            request_id=grant.request_id,
            client_id=grant.client.id,
            api_key_id=grant.key.id,
            model_id=grant.target.model.id,
            started_at=grant.started_at,
            max_output_tokens=bound.output_tokens(grant.target.model),
            owner=self._process_id,
            prompt_chars=bound.prompt_chars,
            alias=grant.alias,
        )
        if not grant.budgets:
            await self._log.open(entry)
            return
        if bound.unbounded is not None and any(b.hard_limit() is not None for b in grant.budgets):
            limited = (
                "a prepaid wallet" if any(b.wallet for b in grant.budgets) else "a hard budget"
            )
            raise BudgetExceeded(
                f"This call could cost more than any budget allows: {bound.unbounded} are "
                f"billed by what the provider reads, which the request does not bound, and "
                f"{limited} is set."
            )
        holds = await call_holds(grant, bound, self._period(grant))
        try:
            refusal = await self._leases.hold(
                grant.request_id, holds, self._top_up(grant), self._give_back
            )
        except (StoreUnavailable, WriteConflict) as exc:  # fail closed: no hold, no call
            log.warning("could not hold budget for request %s: %s", grant.request_id, exc)
            raise BudgetUnavailable(f"the budget store is unavailable: {exc.message}") from exc
        except BudgetUnavailable:
            raise
        except Exception as exc:
            log.exception("could not hold budget for request %s", grant.request_id)
            raise BudgetUnavailable("the budget store is unavailable; try again") from exc
        if refusal is not None:
            raise BudgetExceeded(refusal_message(refusal))
        try:
            await self._log.open(entry)
        except BaseException:
            self._leases.release(grant.request_id)
            raise

    def _top_up(self, grant: CallGrant) -> Callable[[Hold, Decimal], Awaitable[LeaseTaken]]:
        """Lease more of a budget's headroom for this process, in one transaction with the
        alerts it causes (a counter opened past thresholds, a refusal)."""

        async def top_up(hold: Hold, extra: Decimal) -> LeaseTaken:
            async def job(uow: UnitOfWork) -> LeaseTaken:
                taken = await uow.budgets.take_lease(self._owner, hold, extra)
                for alert in self._threshold_alerts(grant, taken.opened):
                    await uow.alerts.raise_once(alert)  # spend recorded before the budget counted
                if taken.refusal is not None:
                    owner = budget_owner(grant, taken.refusal.hold.budget)
                    alert = refusal_alert(taken.refusal, self._clock.now(), owner)
                    await uow.alerts.raise_once(alert)
                return taken

            return await self._writes.run(job)

        return top_up

    async def _give_back(self, scope: str, period_start: datetime, amount: Decimal) -> Decimal:
        async def job(uow: UnitOfWork) -> Decimal:
            return await uow.budgets.return_lease(self._owner, scope, period_start, amount)

        return await self._writes.run(job)

    async def return_idle_leases(self) -> None:
        """Give the free part of leases unused for a moment back to the budgets' counters, so
        other processes can hold it (run every second by `bizgraph serve`)."""
        await self._leases.return_idle(self._give_back)

    def checkpoint(self, request_id: str, output_chars: int) -> None:
        """Note how much output a stream has relayed, for the estimate if this process dies
        mid-call. Rides the next batch (no commit of its own under load, no wait)."""
        self._log.checkpoint(request_id, output_chars)

    async def covers(
        self, grant: CallGrant, bound: RequestBound, billed: Sequence[Attempt], target: PricedModel
    ) -> bool:
        """Whether the call's hold still covers its failed attempts plus one more on `target`
        (budget_holds.covers)."""
        return await covers(grant, bound, billed, target, self._period(grant))

    def _period(self, grant: CallGrant) -> Period:
        return period_containing(grant.started_at, self._zone)

    async def settle(
        self,
        grant: CallGrant,
        attempts: Sequence[Attempt],
        state: JournalState = JournalState.SETTLED,
    ) -> list[UsageRecord]:
        """One usage record and one ledger entry per attempt, and the journal row closed, in one
        transaction. Settling the same attempt twice writes nothing the second time.

        When the database is unavailable (down, restarting, full) the attempts reached a
        provider and must still be billed: the settlement is retried in the background until
        it commits (the call's hold stays reserved meanwhile), and the caller goes on."""
        return await self._settle(grant, attempts, state, self._owner)

    async def _settle(
        self,
        grant: CallGrant,
        attempts: Sequence[Attempt],
        state: JournalState,
        lease_owner: str | None,
    ) -> list[UsageRecord]:
        """`lease_owner`: the process whose budget leases the call held from (another's when
        recovery settles its calls; None for a call journaled before leases existed)."""
        records = [usage_record(grant, a) for a in attempts]
        settlement = Settlement(
            grant.request_id,
            state,
            tuple((r, ledger_entry(r)) for r in records),
            self._budget_moves(grant, lease_owner)
            if grant.budgets or state is JournalState.ABANDONED
            else None,
        )
        write: Callable[[], Awaitable[object]]
        if state is JournalState.ABANDONED:  # recovery: also releases pre-lease reservations
            write = functools.partial(self._writes.run, partial_settle(settlement))
        else:
            write = functools.partial(self._settle_and_free, grant, settlement)
        try:
            await write()
        except (StoreUnavailable, WriteConflict):
            log.warning("could not settle request %s now; retrying", grant.request_id)
            task = asyncio.get_running_loop().create_task(self._retry(grant.request_id, write))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)
        return records

    async def _settle_and_free(self, grant: CallGrant, settlement: Settlement) -> None:
        """Write the settlement, then free the call's holds in this process's lease."""
        added = await self._log.settle(settlement)
        if added:  # counted once, when written (not again if recovery settled it first)
            self._telemetry.settled(added)
        if not grant.budgets:
            return
        if added is None:  # settled already (by recovery): the lease is read back on next use
            self._leases.settled(grant.request_id, None)
        else:
            spends = self._spends(grant, added)
            self._leases.settled(grant.request_id, {s.scope: s.amount for s in spends})

    def _budget_moves(self, grant: CallGrant, lease_owner: str | None) -> BudgetMoves:
        return BudgetMoves(
            lease_owner,
            functools.partial(self._spends, grant),
            functools.partial(self._threshold_alerts, grant),
        )

    async def _retry(self, request_id: str, write: Callable[[], Awaitable[object]]) -> None:
        """Retry a settlement until the database takes it. A process that dies first leaves
        the journal row to recovery, as any crash does."""
        delay = _FIRST_RETRY_SECONDS
        while True:
            await asyncio.sleep(delay)
            try:
                await write()
            except (StoreUnavailable, WriteConflict):
                delay = min(delay * 2, _LAST_RETRY_SECONDS)
                continue
            except Exception:
                log.exception("settling request %s failed; journal recovery will", request_id)
                return
            log.warning("settled request %s once the database was back", request_id)
            return

    def writer_backlog(self) -> tuple[int, int | None]:
        """The hot path's writes waiting, and their bound (readiness reports it)."""
        return self._log.backlog()

    def settlements_waiting(self) -> int:
        """Settlements the database refused, retried in the background."""
        return len(self._retries)

    async def wait_for_settlements(self, seconds: float) -> None:
        """Give settlements waiting for the database a last chance, then write everything
        still queued (used at shutdown, before the process gives up its lease)."""
        if self._retries:
            await asyncio.wait(set(self._retries), timeout=seconds)
        await self._log.flush()
        await self._writes.flush()
        await self._leases.return_all(self._give_back)

    def _spends(self, grant: CallGrant, added: Sequence[UsageRecord]) -> list[Spend]:
        return spends(grant, self._period(grant).start, added)

    def _threshold_alerts(self, grant: CallGrant, moves: Sequence[CounterMove]) -> list[Alert]:
        return threshold_alerts(grant, self._period(grant), self._clock.now(), moves)

    async def recover(self, started_before: datetime, live_at: datetime | None = None) -> int:
        """Settle calls a crash left open: journal rows still `started` from before
        `started_before` (whoever owns them), and with `live_at`, rows whose owner holds no
        lease live then (domain/metering/leases.py). Each gets a failed usage record flagged
        `estimated`: the prompt it sent plus the output it had relayed at its last checkpoint,
        charged by the plan like any record, with its holds released and the estimate added to
        `spent` in the same transaction. Safe to run from several processes at once, and
        against the call itself: the first settlement wins."""
        async with self._reads() as uow:
            stuck = await uow.journal.unsettled(started_before, live_at)
        settled = 0
        for entry in stuck:
            if entry.owner == self._process_id and entry.started_at >= started_before:
                continue  # ours, and we are alive (even if our own lease lapsed in a DB outage)
            grant = await grant_for_entry(self._reads, self._lookups, entry, self._zone)
            if grant is None:
                continue
            grant, credential_id = await recovered_key(self._byok, grant)
            usage = entry.crash_estimate()
            attempt = Attempt(
                0, grant.target, usage, UsageSource.ESTIMATED, CallStatus.FAILED, 0, credential_id
            )
            records = await self._settle(grant, [attempt], JournalState.ABANDONED, entry.owner)
            self._telemetry.settled(records)  # estimated usage, billed like any
            settled += 1
        if live_at is not None:  # their calls settled out of them: the rest goes back
            async with self._uow() as uow:
                reclaimed = await uow.budgets.reclaim_leases(live_at)
                await uow.commit()
            if reclaimed:
                log.warning("gave back %d budget leases of processes that died", reclaimed)
        return settled
