"""Metering: who may call which model at which price, and the settlement of every attempt into
one usage record and one ledger entry (idempotent on request id and attempt number)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.alerts import Alert
from domain.budget_alerts import owner_of, refusal_alert, threshold_alert
from domain.budgets import (
    Budget,
    CounterMove,
    Hold,
    Refusal,
    Spend,
    budget_scope,
    hold_amount,
    worst_case,
)
from domain.catalog import Model, PriceVersion, resolve_model_id
from domain.clients import Client
from domain.errors import (
    BudgetExceeded,
    BudgetUnavailable,
    ClientSuspended,
    ModelNotAllowed,
    UnknownModel,
)
from domain.ids import new_id
from domain.journal import JournalEntry, JournalState
from domain.keys import ApiKey
from domain.ledger import EntryKind, LedgerEntry
from domain.money import exact_sum
from domain.periods import Period, period_containing
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.pricing import PlanTimeline, PlanVersion
from domain.request_bounds import RequestBound
from domain.tokens import TokenUsage
from domain.usage import CallStatus, UsageRecord, UsageSource
from domain.usecases.group_commit import GroupCommit
from domain.usecases.keys import Caller, KeyUseCases
from domain.usecases.lookups import Snapshot

log = logging.getLogger("bizgraph.metering")


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
    ) -> None:
        self._writes = GroupCommit(uow)  # concurrent calls share their journal/settle commits
        self._reads = reads or uow  # read-only units of work do not queue behind writers
        self._clock = clock
        self._keys = keys
        self._zone = zone or ZoneInfo("UTC")  # billing periods are months in this zone

    async def authenticate(self, secret: str) -> Caller:
        return await self._keys.caller(secret)

    async def authorize(self, caller: Caller, requested_model: str, request_id: str) -> CallGrant:
        """Check client status and the key's model allow-list; fix price and plan in force now."""
        now = self._clock.now()
        snapshot, key = caller.snapshot, caller.key
        client = await snapshot.client(key.client_id)
        if client is None or not client.is_active:
            raise ClientSuspended("this client is suspended")
        model = await _resolve(snapshot, requested_model)
        if not key.allows(model.id):
            raise ModelNotAllowed(f"this key may not call {model.id}")
        price = (await snapshot.prices(model.id)).in_force_at(now)
        plan = (await snapshot.plans(client.id)).in_force_at(now)
        budgets = _budgets_of(await snapshot.budgets(), client.id, key.id)
        target = PricedModel(model, price)
        return CallGrant(request_id, client, key, target, plan, now, snapshot, budgets)

    async def allowed_models(self, caller: Caller) -> Sequence[Model]:
        return [m for m in await caller.snapshot.models() if caller.key.allows(m.id)]

    async def fallback(self, grant: CallGrant, model_id: str) -> PricedModel | None:
        """A fallback model at its own price in force when the call started, if it exists."""
        model = await grant.snapshot.model(model_id)
        if model is None:
            return None
        price = (await grant.snapshot.prices(model.id)).in_force_at(grant.started_at)
        return PricedModel(model, price)

    async def journal(self, grant: CallGrant, bound: RequestBound) -> None:
        """Written before the provider call, so a crash leaves a trace recovery can settle;
        with budgets, the call's maximum amount (request_bounds.py) is held in the same
        transaction, or the call is refused (BudgetExceeded, with an alert) and nothing is
        journaled. A call no rule bounds is refused under a hard budget."""
        entry = JournalEntry(
            request_id=grant.request_id,
            client_id=grant.client.id,
            api_key_id=grant.key.id,
            model_id=grant.target.model.id,
            started_at=grant.started_at,
            max_output_tokens=bound.output_tokens(grant.target.model),
        )
        if not grant.budgets:
            await self._writes.run(lambda uow: uow.journal.start(entry))
            return
        if bound.unbounded is not None and any(b.hard_limit() for b in grant.budgets):
            raise BudgetExceeded(
                f"This call could cost more than any budget allows: {bound.unbounded} are "
                "billed by what the provider reads, which the request does not bound, and "
                "a hard budget is set."
            )
        holds = await self._holds(grant, bound)

        async def reserve_and_start(uow: UnitOfWork) -> Refusal | None:
            reservation = await uow.budgets.reserve(grant.request_id, holds, grant.started_at)
            for alert in self._threshold_alerts(grant, reservation.opened):
                await uow.alerts.raise_once(alert)  # spend recorded before the budget counted
            if reservation.refusal is not None:
                refusal = reservation.refusal
                owner = _owner(grant, refusal.hold.budget)
                await uow.alerts.raise_once(refusal_alert(refusal, self._clock.now(), owner))
                return reservation.refusal
            await uow.journal.start(entry)
            return None

        try:
            refusal = await self._writes.run(reserve_and_start)
        except Exception as exc:  # fail closed: no hold, no call
            log.exception("could not reserve budget for request %s", grant.request_id)
            raise BudgetUnavailable("the budget store is unavailable; try again") from exc
        if refusal is not None:
            raise BudgetExceeded(_refusal_message(refusal))

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
        transaction. Settling the same attempt twice writes nothing the second time."""
        records = [self._record(grant, a) for a in attempts]
        release = bool(grant.budgets) or state is JournalState.ABANDONED

        async def write(uow: UnitOfWork) -> None:
            added = []
            for record in records:
                if await uow.usage.add(record):
                    await uow.ledger.append(_ledger_entry(record))
                    added.append(record)
            if release:  # same transaction as the usage records: spend and hold move together
                spends = self._spends(grant, added)
                moves = await uow.budgets.settle(grant.request_id, spends)
                for alert in self._threshold_alerts(grant, moves):
                    await uow.alerts.raise_once(alert)
            await uow.journal.finish(grant.request_id, state)

        await self._writes.run(write)
        return records

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

    async def recover(self, started_before: datetime) -> int:
        """Settle calls a crash left unsettled (journal rows still `started` from before the
        instant): each gets a failed, zero-charge usage record flagged `estimated`, so it is
        visible to the operator, who can reconcile it with the provider's console. Safe to run
        from several processes at once (settling is idempotent)."""
        async with self._reads() as uow:
            stuck = await uow.journal.unsettled(started_before)
        for entry in stuck:
            grant = await self._grant_for(entry)
            if grant is None:
                continue
            attempt = Attempt(
                0, grant.target, TokenUsage(), UsageSource.ESTIMATED, CallStatus.FAILED, 0
            )
            await self.settle(grant, [attempt], JournalState.ABANDONED)
        return len(stuck)

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
        snapshot = Snapshot(self._reads, None)
        budgets = _budgets_of(stored, client.id, key.id)
        return CallGrant(
            entry.request_id, client, key, target, plan, entry.started_at, snapshot, budgets
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


async def _resolve(snapshot: Snapshot, requested: str) -> Model:
    model = await snapshot.model(requested)
    if model is not None:
        return model
    model_id = resolve_model_id(requested, await snapshot.models())
    model = await snapshot.model(model_id) if model_id else None
    if model is None:
        raise UnknownModel(f"the model {requested!r} does not exist")
    return model


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
