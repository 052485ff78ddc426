"""Metering: who may call which model at which price, and the settlement of every attempt into
one usage record and one ledger entry (idempotent on request id and attempt number)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.access.keys import ApiKey
from domain.alerting.alerts import Alert
from domain.alerting.budget_alerts import owner_of, refusal_alert, threshold_alert
from domain.billing.clients import Client
from domain.billing.money import exact_sum
from domain.billing.periods import Period, period_containing
from domain.billing.plans import PlanTimeline, PlanVersion
from domain.budgets.leases import IDLE_SECONDS
from domain.budgets.limits import (
    Budget,
    CounterMove,
    Hold,
    LeaseTaken,
    Refusal,
    Spend,
    budget_scope,
    hold_amount,
    worst_case,
)
from domain.catalog.aliases import resolve
from domain.catalog.models import Model, PriceVersion
from domain.errors import (
    BudgetExceeded,
    BudgetUnavailable,
    ClientSuspended,
    ModelNotAllowed,
    StoreUnavailable,
    UnknownModel,
    WriteConflict,
)
from domain.ids import new_id
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.metering.journal import BudgetMoves, JournalEntry, JournalState, Settlement
from domain.metering.ports import CallLog
from domain.metering.request_bounds import RequestBound
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.runtime_ports import Snapshot, Snapshots, Writes
from domain.telemetry import NO_TELEMETRY, Telemetry, note_model
from domain.tracing import NO_SPAN, Span
from domain.usecases.budget_leases import BudgetLeases
from domain.usecases.call_log import UnitOfWorkCallLog, partial_settle
from domain.usecases.keys import Caller, KeyUseCases

log = logging.getLogger("bizgraph.metering")
_FIRST_RETRY_SECONDS = 0.25  # a settlement the database refused is retried after this,
_LAST_RETRY_SECONDS = 5.0  # doubling up to this


@dataclass(frozen=True, slots=True)
class PricedModel:
    model: Model
    price: PriceVersion


@dataclass(frozen=True, slots=True)
class CallGrant:
    """Everything a call needs, fixed when it started: the price and plan in force then."""

    request_id: str
    client: Client
    key: ApiKey
    target: PricedModel
    plan: PlanVersion | None
    started_at: datetime
    snapshot: Snapshot = field(repr=False, compare=False)  # what authorization read
    budgets: tuple[Budget, ...] = ()  # the client's, then the key's, in force at the start
    trace: Span = field(default=NO_SPAN, repr=False, compare=False)  # the call's span
    alias: str | None = None  # the alias the client called (domain/catalog/aliases.py), if any


@dataclass(frozen=True, slots=True)
class Attempt:
    """One provider attempt of a call (fallbacks make several)."""

    number: int
    target: PricedModel
    usage: TokenUsage
    source: UsageSource
    status: CallStatus
    latency_ms: int


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
    ) -> None:
        """`writes`: the group commit of the per-call writes; `lookups`: the configuration
        snapshots (crash recovery reads through one of its own); `lease_live` says whether
        this process's own lease is surely live (its budget leases are then its own);
        `lease_idle_seconds`: when an unused lease gives back."""
        self._writes = writes  # concurrent calls share their journal/settle commits
        self._lookups = lookups
        self._uow = uow
        # Calls without a budget: the backend's hot path when it has one (sqlite_call_log.py)
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
        model, alias = await _resolve(snapshot, requested_model, client.id, default_provider)
        note_model(model.id, model.provider)  # metrics label its refusals too
        if not key.allows(model.id):
            raise ModelNotAllowed(f"this key may not call {model.id}")
        price = (await snapshot.prices(model.id)).in_force_at(now)
        plan = (await snapshot.plans(client.id)).in_force_at(now)
        budgets = _budgets_of(await snapshot.budgets(), client.id, key.id)
        target = PricedModel(model, price)
        return CallGrant(
            request_id, client, key, target, plan, now, snapshot, budgets, trace, alias
        )

    async def model_for(
        self, caller: Caller, requested: str, default_provider: str | None = None
    ) -> Model:
        """The catalog model a name resolves to for this caller, as a call would resolve it
        (UnknownModel, or ModelNotAllowed when its key may not call it)."""
        snapshot, key = caller.snapshot, caller.key
        model, _ = await _resolve(snapshot, requested, key.client_id, default_provider)
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
        model = await grant.snapshot.model(model_id)
        if model is None:
            return None
        price = (await grant.snapshot.prices(model.id)).in_force_at(grant.started_at)
        return PricedModel(model, price)

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
        if bound.unbounded is not None and any(b.hard_limit() for b in grant.budgets):
            raise BudgetExceeded(
                f"This call could cost more than any budget allows: {bound.unbounded} are "
                "billed by what the provider reads, which the request does not bound, and "
                "a hard budget is set."
            )
        holds = await self._holds(grant, bound)
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
            raise BudgetExceeded(_refusal_message(refusal))
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
                    owner = _owner(grant, taken.refusal.hold.budget)
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

    async def _holds(self, grant: CallGrant, bound: RequestBound) -> list[Hold]:
        targets = [grant.target]
        for model_id in grant.target.model.fallbacks:  # a fallback may cost more
            if (fallback := await self.fallback(grant, model_id)) is not None:
                targets.append(fallback)
        pairs = [(t.model, t.price) for t in targets]
        period = self._period(grant)
        return [
            Hold(
                budget,
                period,
                hold_amount(budget, grant.plan, pairs, bound),
                budget.basis_under(grant.plan),
            )
            for budget in grant.budgets
        ]

    async def covers(
        self,
        grant: CallGrant,
        bound: RequestBound,
        billed: Sequence[Attempt],
        target: PricedModel,
    ) -> bool:
        """Whether the call's hold still covers what its failed attempts were billed plus the
        worst case of one more attempt on `target` (a fallback), on every budget. The hold is
        recomputed from the same inputs, so it is the amount reserved at the start."""
        if not grant.budgets:
            return True
        records = [self._record(grant, a) for a in billed]
        held = {h.scope: h.amount for h in await self._holds(grant, bound)}
        for budget in grant.budgets:
            spent = exact_sum(*(budget.measure(r.cost, r.charge, grant.plan) for r in records))
            worst = worst_case(budget, grant.plan, target.model, target.price, bound)
            if exact_sum(spent, worst) > held[budget.scope]:
                return False
        return True

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
        records = [self._record(grant, a) for a in attempts]
        settlement = Settlement(
            grant.request_id,
            state,
            tuple((r, _ledger_entry(r)) for r in records),
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
        start = self._period(grant).start
        return [
            Spend(
                budget.scope,
                start,
                exact_sum(*(budget.measure(r.cost, r.charge, grant.plan) for r in added)),
            )
            for budget in grant.budgets
        ]

    def _threshold_alerts(self, grant: CallGrant, moves: Sequence[CounterMove]) -> list[Alert]:
        by_scope = {budget.scope: budget for budget in grant.budgets}
        period, now = self._period(grant), self._clock.now()
        alerts = []
        for move in moves:
            budget = by_scope[move.scope]
            basis = budget.basis_under(grant.plan)
            for percent in budget.crossed(move.spent_before, move.spent_after):
                alerts.append(
                    threshold_alert(
                        budget, period, basis, percent, move.spent_after, now, _owner(grant, budget)
                    )
                )
        return alerts

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
            grant = await self._grant_for(entry)
            if grant is None:
                continue
            usage = entry.crash_estimate()
            attempt = Attempt(0, grant.target, usage, UsageSource.ESTIMATED, CallStatus.FAILED, 0)
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

    async def _grant_for(self, entry: JournalEntry) -> CallGrant | None:
        async with self._reads() as uow:
            client = await uow.clients.get(entry.client_id)
            key = await uow.keys.get(entry.api_key_id)
            model = await uow.catalog.get_model(entry.model_id)
            if client is None or key is None or model is None:
                return None
            price = (await uow.catalog.prices(model.id)).in_force_at(entry.started_at)
            plans = PlanTimeline(await uow.plans.history(client.id))
            stored = {budget.scope: budget for budget in await uow.budgets.all()}
        plan = plans.in_force_at(entry.started_at)
        target = PricedModel(model, price)
        snapshot = self._lookups.uncached()
        budgets = _budgets_of(stored, client.id, key.id)
        return CallGrant(
            entry.request_id,
            client,
            key,
            target,
            plan,
            entry.started_at,
            snapshot,
            budgets,
            alias=entry.alias,
        )

    def _record(self, grant: CallGrant, attempt: Attempt) -> UsageRecord:
        cost = attempt.target.price.cost(attempt.usage)
        charge = grant.plan.plan.charge(cost) if grant.plan is not None else cost
        return UsageRecord(
            id=new_id(),
            request_id=grant.request_id,
            attempt=attempt.number,
            client_id=grant.client.id,
            api_key_id=grant.key.id,
            model_id=attempt.target.model.id,
            provider=attempt.target.model.provider,
            usage=attempt.usage,
            cost=cost,
            charge=charge,
            price_version_id=attempt.target.price.id,
            plan_version_id=grant.plan.id if grant.plan is not None else None,
            started_at=grant.started_at,
            latency_ms=attempt.latency_ms,
            status=attempt.status,
            source=attempt.source,
            alias=grant.alias,
        )


def _budgets_of(stored: Mapping[str, Budget], client_id: str, key_id: str) -> tuple[Budget, ...]:
    """The client's budget, then the key's: always in this order, so transactions lock the
    counters in one order and cannot deadlock each other."""
    found = (stored.get(budget_scope(client_id, None)), stored.get(budget_scope(client_id, key_id)))
    return tuple(budget for budget in found if budget is not None)


def _refusal_message(refusal: Refusal) -> str:
    budget = refusal.hold.budget
    whose = "this key's" if budget.key_id else "this client's"
    return (
        f"You exceeded {whose} budget of {budget.limit} for {refusal.hold.period.label}: "
        "this call could cost more than what remains."
    )


async def _resolve(
    snapshot: Snapshot, requested: str, client_id: str, default_provider: str | None
) -> tuple[Model, str | None]:
    """The catalog model a call names and the alias it went through: from the cached
    configuration (no query in the steady state)."""
    model = await snapshot.model(requested)
    if model is not None:
        return model, None
    ids = [m.id for m in await snapshot.models()]
    found = resolve(requested, client_id, ids, await snapshot.aliases(), default_provider)
    model = await snapshot.model(found.model_id) if found else None
    if found is None or model is None:
        raise UnknownModel(f"the model {requested!r} does not exist")
    return model, found.alias


def _ledger_entry(record: UsageRecord) -> LedgerEntry:
    return LedgerEntry(
        id=new_id(),
        client_id=record.client_id,
        kind=EntryKind.USAGE_CHARGE,
        amount=record.charge,
        occurred_at=record.started_at,
        reference=f"{record.request_id}#{record.attempt}",
        description=f"{record.model_id} ({record.status})",
    )


def _owner(grant: CallGrant, budget: Budget) -> str:
    key_name = (grant.key.name or grant.key.prefix) if budget.key_id is not None else None
    return owner_of(grant.client.name, key_name)
