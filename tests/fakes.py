"""In-memory fakes of every port in `domain.ports`, for unit tests of the core.

`FakeUnitOfWorkFactory()` hands out units of work over one shared `InMemoryStore`. A unit of work
works on a private copy of the store taken when the block is entered; `commit()` publishes that
copy, and leaving the block (or `rollback()`) discards whatever was not committed. Repositories
honour the contracts written in the Protocols' docstrings (idempotent `add`/`append`/`start`
answering False on duplicates, Conflict on a second price at the same instant, ...).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Self

from domain import ports
from domain.access import PortalToken, StaffToken
from domain.alerts import Alert
from domain.aliases import AliasKey, ModelAlias
from domain.budgets import (
    Budget,
    BudgetBasis,
    CounterMove,
    Hold,
    LeaseTaken,
    Refusal,
    Reservation,
    Spend,
)
from domain.catalog import Model, PriceHistory, PriceVersion
from domain.clients import Client
from domain.errors import Conflict, NotFound
from domain.idempotency import IdempotencyRecord
from domain.journal import JournalEntry, JournalState
from domain.keys import ApiKey
from domain.leases import ProcessLease, is_orphaned
from domain.ledger import LedgerEntry
from domain.money import Money, exact_sum, sum_money
from domain.periods import Period
from domain.pricing import PlanVersion
from domain.tokens import TokenUsage
from domain.usage import UsageGrouping, UsageRecord, UsageTotals
from domain.webhooks import Delivery, DeliveryStatus, Webhook

# --------------------------------------------------------------------------- clock and hasher


class FrozenClock:
    """A clock that only moves when told to; always answers an aware UTC instant."""

    def __init__(self, instant: datetime | None = None) -> None:
        self._now = _utc(instant or datetime(2026, 3, 15, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = _utc(instant)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """`advance(timedelta(hours=1))` or `advance(hours=1)`; returns the new instant."""
        self._now = self._now + (delta or timedelta()) + timedelta(**kwargs)
        return self._now


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("FrozenClock needs an aware instant")
    return instant.astimezone(UTC)


class FakeKeyHasher:
    """HMAC-SHA256 with a fixed test secret: deterministic, keyed, hex."""

    SECRET = b"bizgraph-unit-test-server-secret"

    def __init__(self, secret: bytes = SECRET) -> None:
        self._secret = secret

    def digest(self, secret: str) -> str:
        return hmac.new(self._secret, secret.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------- the store


@dataclass
class InMemoryStore:
    """Everything the repositories hold. Values are frozen dataclasses, so copying the
    containers is enough to snapshot the store."""

    clients: dict[str, Client] = field(default_factory=dict)
    plans: dict[str, PlanVersion] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    prices: dict[str, list[PriceVersion]] = field(default_factory=dict)
    usage: dict[tuple[str, int], UsageRecord] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    journal: dict[str, JournalEntry] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    staff_tokens: dict[str, StaffToken] = field(default_factory=dict)
    portal_tokens: dict[str, PortalToken] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    budgets: dict[str, Budget] = field(default_factory=dict)
    # (scope, period_start) -> [spent, reserved]; (request_id, scope) -> (period_start, amount)
    counters: dict[tuple[str, datetime], tuple[Decimal, Decimal]] = field(default_factory=dict)
    holds: dict[tuple[str, str], tuple[datetime, Decimal]] = field(default_factory=dict)
    # (process_id, scope, period_start) -> amount: the budget leases, part of `reserved`
    budget_leases: dict[tuple[str, str, datetime], Decimal] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # delivery: claim, until
    process_leases: dict[str, ProcessLease] = field(default_factory=dict)
    aliases: dict[AliasKey, ModelAlias] = field(default_factory=dict)

    def copy(self) -> InMemoryStore:
        return InMemoryStore(
            clients=dict(self.clients),
            plans=dict(self.plans),
            keys=dict(self.keys),
            models=dict(self.models),
            prices={model_id: list(vs) for model_id, vs in self.prices.items()},
            usage=dict(self.usage),
            ledger=list(self.ledger),
            journal=dict(self.journal),
            idempotency=dict(self.idempotency),
            staff_tokens=dict(self.staff_tokens),
            portal_tokens=dict(self.portal_tokens),
            alerts=dict(self.alerts),
            budgets=dict(self.budgets),
            counters=dict(self.counters),
            holds=dict(self.holds),
            budget_leases=dict(self.budget_leases),
            webhooks=dict(self.webhooks),
            deliveries=dict(self.deliveries),
            leases=dict(self.leases),
            process_leases=dict(self.process_leases),
            aliases=dict(self.aliases),
        )

    def load(self, other: InMemoryStore) -> None:
        """Replace this store's contents with a copy of `other`'s."""
        snapshot = other.copy()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(snapshot, name))


# ------------------------------------------------------------------------------ repositories


class _Repository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _data(self) -> InMemoryStore:
        return self._uow.working


class FakeClientRepository(_Repository):
    async def add(self, client: Client) -> None:
        if client.id in self._data.clients:
            raise Conflict(f"client {client.id} exists")
        self._data.clients[client.id] = client

    async def get(self, client_id: str) -> Client | None:
        return self._data.clients.get(client_id)

    async def list(self) -> Sequence[Client]:
        return sorted(self._data.clients.values(), key=lambda c: (c.created_at, c.id))

    async def update(self, client: Client) -> None:
        stored = self._data.clients.get(client.id)
        if stored is None:
            raise NotFound(f"no client {client.id}")
        self._data.clients[client.id] = replace(
            stored,
            name=client.name,
            status=client.status,
            billing_email=client.billing_email,
            tax_rate=client.tax_rate,
        )


class FakePlanRepository(_Repository):
    async def add(self, version: PlanVersion) -> None:
        if version.id in self._data.plans:
            raise Conflict(f"plan version {version.id} exists")
        self._data.plans[version.id] = version

    async def history(self, client_id: str) -> Sequence[PlanVersion]:
        versions = [v for v in self._data.plans.values() if v.client_id == client_id]
        return sorted(versions, key=lambda v: (v.effective_from, v.created_at))

    async def histories(self, client_ids: Sequence[str]) -> Mapping[str, Sequence[PlanVersion]]:
        return {client_id: await self.history(client_id) for client_id in client_ids}


class FakeApiKeyRepository(_Repository):
    async def add(self, key: ApiKey) -> None:
        if key.id in self._data.keys:
            raise Conflict(f"key {key.id} exists")
        if any(k.digest == key.digest for k in self._data.keys.values()):
            raise Conflict("a key with that digest exists")
        self._data.keys[key.id] = key

    async def get(self, key_id: str) -> ApiKey | None:
        return self._data.keys.get(key_id)

    async def by_digest(self, digest: str) -> ApiKey | None:
        return next((k for k in self._data.keys.values() if k.digest == digest), None)

    async def for_client(self, client_id: str) -> Sequence[ApiKey]:
        return await self.for_clients([client_id])

    async def for_clients(self, client_ids: Sequence[str]) -> Sequence[ApiKey]:
        keys = [k for k in self._data.keys.values() if k.client_id in client_ids]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    async def update(self, key: ApiKey) -> None:
        stored = self._data.keys.get(key.id)
        if stored is None:
            raise NotFound(f"no key {key.id}")
        self._data.keys[key.id] = replace(
            stored,
            name=key.name,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            allowed_models=key.allowed_models,
            rpm_limit=key.rpm_limit,
            tpm_limit=key.tpm_limit,
        )


class FakeCatalogRepository(_Repository):
    async def save_model(self, model: Model) -> None:
        self._data.models[model.id] = model

    async def get_model(self, model_id: str) -> Model | None:
        return self._data.models.get(model_id)

    async def models(self) -> Sequence[Model]:
        return sorted(self._data.models.values(), key=lambda m: m.id)

    async def add_price(self, version: PriceVersion) -> None:
        versions = self._data.prices.setdefault(version.model_id, [])
        if any(v.effective_from == version.effective_from for v in versions):
            raise Conflict(f"{version.model_id} already has a price from {version.effective_from}")
        versions.append(version)

    async def prices(self, model_id: str) -> PriceHistory:
        return PriceHistory(model_id, list(self._data.prices.get(model_id, [])))

    async def save_alias(self, alias: ModelAlias) -> None:
        if alias.model_id not in self._data.models:
            raise NotFound(f"model_aliases: no model {alias.model_id}")
        self._data.aliases[alias.key] = alias

    async def remove_alias(self, client_id: str | None, name: str) -> bool:
        return self._data.aliases.pop((client_id, name), None) is not None

    async def aliases(self) -> Sequence[ModelAlias]:
        return sorted(self._data.aliases.values(), key=lambda a: (a.client_id or "", a.name))


class FakeUsageRepository(_Repository):
    async def add(self, record: UsageRecord) -> bool:
        key = (record.request_id, record.attempt)
        if key in self._data.usage:
            return False
        self._data.usage[key] = record
        return True

    async def for_request(self, request_id: str) -> Sequence[UsageRecord]:
        records = [r for r in self._data.usage.values() if r.request_id == request_id]
        return sorted(records, key=lambda r: r.attempt)

    async def for_client(
        self, client_id: str, start: datetime, end: datetime
    ) -> Sequence[UsageRecord]:
        records = [
            r
            for r in self._data.usage.values()
            if r.client_id == client_id and start <= r.started_at < end
        ]
        return sorted(records, key=lambda r: r.started_at)

    async def estimated(
        self, client_id: str, start: datetime, end: datetime, limit: int
    ) -> Sequence[UsageRecord]:
        found = [r for r in await self.for_client(client_id, start, end) if r.source == "estimated"]
        return sorted(found, key=lambda r: r.started_at, reverse=True)[:limit]

    async def totals(
        self,
        start: datetime,
        end: datetime,
        grouping: UsageGrouping,
        client_ids: Sequence[str] | None = None,
    ) -> Sequence[UsageTotals]:
        groups: dict[tuple[str, str, str, str, str], list[UsageRecord]] = {}
        for r in self._data.usage.values():
            if not start <= r.started_at < end:
                continue
            if client_ids is not None and r.client_id not in client_ids:
                continue
            extra = ""
            if grouping is UsageGrouping.ALIAS and r.alias is None:
                continue
            if grouping in (UsageGrouping.MODEL, UsageGrouping.ALIAS):
                extra = r.model_id
            elif grouping in (UsageGrouping.HOUR, UsageGrouping.HOUR_ALL):
                extra = _utc_hour(r.started_at).isoformat()
            client = "" if grouping is UsageGrouping.HOUR_ALL else r.client_id
            alias = r.alias if grouping is UsageGrouping.ALIAS and r.alias else ""
            key = (client, extra, r.cost.currency, r.charge.currency, alias)
            groups.setdefault(key, []).append(r)
        totals = []
        for (client_id, extra, cost_currency, charge_currency, alias), records in sorted(
            groups.items()
        ):
            tokens = TokenUsage()
            for r in records:
                tokens = tokens + r.usage
            totals.append(
                UsageTotals(
                    client_id=client_id,
                    requests=len(records),
                    tokens=tokens,
                    cost=sum_money([r.cost for r in records], cost_currency),
                    charge=sum_money([r.charge for r in records], charge_currency),
                    model_id=extra
                    if grouping in (UsageGrouping.MODEL, UsageGrouping.ALIAS)
                    else None,
                    hour=datetime.fromisoformat(extra)
                    if extra and grouping in (UsageGrouping.HOUR, UsageGrouping.HOUR_ALL)
                    else None,
                    alias=alias or None,
                )
            )
        return totals


def _utc_hour(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class FakeLedgerRepository(_Repository):
    async def append(self, entry: LedgerEntry) -> bool:
        key = (entry.client_id, entry.kind, entry.reference)
        if any((e.client_id, e.kind, e.reference) == key for e in self._data.ledger):
            return False
        self._data.ledger.append(entry)
        return True

    async def entries(self, client_id: str) -> Sequence[LedgerEntry]:
        return [e for e in self._data.ledger if e.client_id == client_id]

    async def balance(self, client_id: str, currency: str) -> Money:
        amounts = [
            e.amount.amount
            for e in self._data.ledger
            if e.client_id == client_id and e.amount.currency == currency
        ]
        return Money(exact_sum(*amounts), currency)


class FakeJournalRepository(_Repository):
    async def start(self, entry: JournalEntry) -> bool:
        if entry.request_id in self._data.journal:
            return False
        self._data.journal[entry.request_id] = entry
        return True

    async def finish(self, request_id: str, state: JournalState) -> bool:
        entry = self._data.journal.get(request_id)
        if entry is None:
            raise NotFound(f"no journal entry {request_id}")
        if entry.state is not JournalState.STARTED:
            return False
        self._data.journal[request_id] = replace(entry, state=state)
        return True

    async def checkpoint(self, request_id: str, output_chars: int) -> None:
        entry = self._data.journal.get(request_id)
        if entry is not None and entry.state is JournalState.STARTED:
            self._data.journal[request_id] = replace(entry, output_chars=output_chars)

    async def unsettled(
        self, started_before: datetime, live_at: datetime | None = None
    ) -> Sequence[JournalEntry]:
        if live_at is None:
            live: set[str] | None = None
        else:
            leases = self._data.process_leases.values()
            live = {lease.process_id for lease in leases if lease.is_live(live_at)}
        entries = [
            e
            for e in self._data.journal.values()
            if (live is None and e.state is JournalState.STARTED and e.started_at < started_before)
            or (live is not None and is_orphaned(e, live, started_before))
        ]
        return sorted(entries, key=lambda e: (e.started_at, e.request_id))


class FakeLeaseRepository(_Repository):
    async def renew(self, lease: ProcessLease) -> None:
        self._data.process_leases[lease.process_id] = lease

    async def release(self, process_id: str) -> None:
        self._data.process_leases.pop(process_id, None)

    async def live(self, now: datetime) -> Sequence[ProcessLease]:
        leases = self._data.process_leases.values()
        return sorted((x for x in leases if x.is_live(now)), key=lambda x: x.process_id)

    async def purge(self, expired_before: datetime) -> int:
        gone = [k for k, x in self._data.process_leases.items() if x.expires_at < expired_before]
        for key in gone:
            del self._data.process_leases[key]
        return len(gone)


class FakeIdempotencyRepository(_Repository):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        existing = self._data.idempotency.get((record.client_id, record.key))
        if existing is None:
            self._data.idempotency[(record.client_id, record.key)] = record
        return existing

    async def get(self, client_id: str, key: str) -> IdempotencyRecord | None:
        return self._data.idempotency.get((client_id, key))

    async def put(self, record: IdempotencyRecord) -> None:
        self._data.idempotency[(record.client_id, record.key)] = record

    async def delete(self, client_id: str, key: str) -> None:
        self._data.idempotency.pop((client_id, key), None)


class FakeStaffTokenRepository(_Repository):
    async def add(self, token: StaffToken) -> None:
        tokens = self._data.staff_tokens
        if token.id in tokens or any(t.digest == token.digest for t in tokens.values()):
            raise Conflict(f"staff token {token.id} exists")
        tokens[token.id] = token

    async def get(self, token_id: str) -> StaffToken | None:
        return self._data.staff_tokens.get(token_id)

    async def by_digest(self, digest: str) -> StaffToken | None:
        return next((t for t in self._data.staff_tokens.values() if t.digest == digest), None)

    async def list(self) -> Sequence[StaffToken]:
        return sorted(self._data.staff_tokens.values(), key=lambda t: (t.created_at, t.id))

    async def update(self, token: StaffToken) -> None:
        stored = self._data.staff_tokens.get(token.id)
        if stored is None:
            raise NotFound(f"no staff token {token.id}")
        self._data.staff_tokens[token.id] = replace(
            stored, name=token.name, role=token.role, revoked_at=token.revoked_at
        )


class FakePortalTokenRepository(_Repository):
    async def add(self, token: PortalToken) -> None:
        tokens = self._data.portal_tokens
        if token.id in tokens or any(t.digest == token.digest for t in tokens.values()):
            raise Conflict(f"portal token {token.id} exists")
        if token.client_id not in self._data.clients:
            raise NotFound(f"no client {token.client_id}")
        tokens[token.id] = token

    async def get(self, token_id: str) -> PortalToken | None:
        return self._data.portal_tokens.get(token_id)

    async def by_digest(self, digest: str) -> PortalToken | None:
        return next((t for t in self._data.portal_tokens.values() if t.digest == digest), None)

    async def for_client(self, client_id: str) -> Sequence[PortalToken]:
        tokens = [t for t in self._data.portal_tokens.values() if t.client_id == client_id]
        return sorted(tokens, key=lambda t: (t.created_at, t.id))

    async def update(self, token: PortalToken) -> None:
        stored = self._data.portal_tokens.get(token.id)
        if stored is None:
            raise NotFound(f"no portal token {token.id}")
        self._data.portal_tokens[token.id] = replace(
            stored, name=token.name, revoked_at=token.revoked_at
        )


class FakeAlertRepository(_Repository):
    async def raise_once(self, alert: Alert) -> bool:
        if any(a.dedupe_key == alert.dedupe_key for a in self._data.alerts.values()):
            return False
        self._data.alerts[alert.id] = alert
        return True

    async def get(self, alert_id: str) -> Alert | None:
        return self._data.alerts.get(alert_id)

    async def recent(
        self,
        *,
        client_ids: Sequence[str] | None = None,
        unacknowledged_only: bool = False,
        limit: int = 100,
    ) -> list[Alert]:
        chosen = [
            a
            for a in self._data.alerts.values()
            if (client_ids is None or a.client_id in client_ids)
            and not (unacknowledged_only and a.acknowledged)
        ]
        chosen.sort(key=lambda a: (a.created_at, a.id), reverse=True)
        return chosen[:limit]

    async def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert | None:
        alert = self._data.alerts.get(alert_id)
        if alert is not None and not alert.acknowledged:
            alert = self._data.alerts[alert_id] = replace(
                alert, acknowledged_at=at, acknowledged_by=by
            )
        return alert

    async def undispatched(self, limit: int) -> list[Alert]:
        pending = [a for a in self._data.alerts.values() if a.dispatched_at is None]
        return sorted(pending, key=lambda a: (a.created_at, a.id))[:limit]

    async def mark_dispatched(self, alert_ids: Sequence[str], at: datetime) -> None:
        for alert_id in alert_ids:
            alert = self._data.alerts.get(alert_id)
            if alert is not None and alert.dispatched_at is None:
                self._data.alerts[alert_id] = replace(alert, dispatched_at=at)


class FakeBudgetRepository(_Repository):
    async def put(self, budget: Budget) -> None:
        stored = self._data.budgets.get(budget.scope)
        if stored is not None and stored.basis != budget.basis:
            self._forget(budget.scope)
        self._data.budgets[budget.scope] = budget

    async def remove(self, scope: str) -> bool:
        self._forget(scope)
        return self._data.budgets.pop(scope, None) is not None

    def _forget(self, scope: str) -> None:
        data = self._data
        data.counters = {k: v for k, v in data.counters.items() if k[0] != scope}
        data.holds = {k: v for k, v in data.holds.items() if k[1] != scope}
        data.budget_leases = {k: v for k, v in data.budget_leases.items() if k[1] != scope}

    async def all(self) -> Sequence[Budget]:
        return list(self._data.budgets.values())

    async def reserve(self, request_id: str, holds: Sequence[Hold], at: datetime) -> Reservation:
        counters = self._data.counters
        opened = []
        for hold in holds:  # check every hold first: a refusal writes nothing else
            key = (hold.scope, hold.period.start)
            if key not in counters:
                recorded = self._recorded(hold.budget, hold.period, hold.basis)
                counters[key] = (recorded, Decimal(0))
                if recorded:
                    opened.append(CounterMove(hold.scope, Decimal(0), recorded))
            spent, reserved = counters[key]
            limit = hold.budget.hard_limit()
            if limit is not None and spent + reserved + hold.amount > limit:
                return Reservation(Refusal(hold, spent, reserved), tuple(opened))
        for hold in holds:
            key = (hold.scope, hold.period.start)
            spent, reserved = counters[key]
            counters[key] = (spent, reserved + hold.amount)
            self._data.holds[(request_id, hold.scope)] = (hold.period.start, hold.amount)
        return Reservation(None, tuple(opened))

    async def settle(
        self, request_id: str, spends: Sequence[Spend], lease_owner: str | None = None
    ) -> list[CounterMove]:
        counters = self._data.counters
        for request, scope in [k for k in self._data.holds if k[0] == request_id]:
            start, amount = self._data.holds.pop((request, scope))
            spent, reserved = counters[(scope, start)]
            counters[(scope, start)] = (spent, reserved - amount)
        if lease_owner is not None:
            for spend in spends:
                taken = self._shrink((lease_owner, spend.scope, spend.period_start), spend.amount)
                key = (spend.scope, spend.period_start)
                if taken and key in counters:
                    counters[key] = (counters[key][0], counters[key][1] - taken)
        moves = []
        for spend in spends:
            key = (spend.scope, spend.period_start)
            if spend.amount == 0 or key not in counters:
                continue
            spent, reserved = counters[key]
            counters[key] = (spent + spend.amount, reserved)
            moves.append(CounterMove(spend.scope, spent, spent + spend.amount))
        return moves

    async def take_lease(self, process_id: str, hold: Hold, extra: Decimal) -> LeaseTaken:
        key = (process_id, hold.scope, hold.period.start)
        for amount in ([hold.amount + extra] if extra > 0 else []) + [hold.amount]:
            wanted = Hold(hold.budget, hold.period, amount, hold.basis)
            reservation = await self.reserve("", [wanted], hold.period.start)
            self._data.holds.pop(("", hold.scope), None)  # held by the lease, not a request
            if reservation.refusal is None:
                leased = self._data.budget_leases.get(key, Decimal(0)) + amount
                self._data.budget_leases[key] = leased
                return LeaseTaken(leased, None, reservation.opened)
        current = self._data.budget_leases.get(key, Decimal(0))
        return LeaseTaken(current, reservation.refusal, reservation.opened)

    async def return_lease(
        self, process_id: str, scope: str, period_start: datetime, amount: Decimal
    ) -> Decimal:
        key = (process_id, scope, period_start)
        given = self._shrink(key, amount)
        counter = self._data.counters.get((scope, period_start))
        if given and counter is not None:
            self._data.counters[(scope, period_start)] = (counter[0], counter[1] - given)
        return self._data.budget_leases.get(key, Decimal(0))

    async def reclaim_leases(self, live_at: datetime) -> int:
        live = {p for p, lease in self._data.process_leases.items() if lease.is_live(live_at)}
        dead = [(k, v) for k, v in self._data.budget_leases.items() if k[0] not in live]
        for key, amount in dead:
            await self.return_lease(*key, amount)
        return len(dead)

    def _shrink(self, key: tuple[str, str, datetime], amount: Decimal) -> Decimal:
        current = self._data.budget_leases.get(key, Decimal(0))
        taken = min(current, amount)
        if taken <= 0:
            return Decimal(0)
        if current - taken == 0:
            del self._data.budget_leases[key]
        else:
            self._data.budget_leases[key] = current - taken
        return taken

    async def status(
        self, budget: Budget, period: Period, basis: BudgetBasis
    ) -> tuple[Decimal, Decimal]:
        found = self._data.counters.get((budget.scope, period.start))
        return found or (self._recorded(budget, period, basis), Decimal(0))

    def _recorded(self, budget: Budget, period: Period, basis: BudgetBasis) -> Decimal:
        total = Decimal(0)
        for record in self._data.usage.values():
            mine = (
                record.api_key_id == budget.key_id
                if budget.key_id
                else record.client_id == budget.client_id
            )
            if mine and period.contains(record.started_at):
                total += record.cost.amount if basis is BudgetBasis.COST else record.charge.amount
        return total


class FakeWebhookRepository(_Repository):
    async def add(self, webhook: Webhook) -> None:
        if webhook.client_id is not None and webhook.client_id not in self._data.clients:
            raise NotFound(f"no client {webhook.client_id}")
        self._data.webhooks[webhook.id] = webhook

    async def get(self, webhook_id: str) -> Webhook | None:
        return self._data.webhooks.get(webhook_id)

    async def find(
        self, *, client_id: str | None = None, include_disabled: bool = False
    ) -> list[Webhook]:
        chosen = [
            w
            for w in self._data.webhooks.values()
            if (client_id is None or w.client_id == client_id) and (include_disabled or w.is_active)
        ]
        return sorted(chosen, key=lambda w: (w.created_at, w.id))

    async def disable(self, webhook_id: str, at: datetime) -> Webhook | None:
        webhook = self._data.webhooks.get(webhook_id)
        if webhook is None:
            return None
        if webhook.is_active:
            webhook = self._data.webhooks[webhook_id] = replace(webhook, disabled_at=at)
        for d in list(self._data.deliveries.values()):
            if d.webhook_id == webhook_id and d.status is DeliveryStatus.PENDING:
                self._data.deliveries[d.id] = replace(d, status=DeliveryStatus.CANCELLED)
                self._data.leases.pop(d.id, None)
        return webhook

    async def add_delivery(self, delivery: Delivery) -> bool:
        pair = (delivery.alert_id, delivery.webhook_id)
        if any((d.alert_id, d.webhook_id) == pair for d in self._data.deliveries.values()):
            return False
        self._data.deliveries[delivery.id] = delivery
        return True

    def _due(self, now: datetime) -> list[Delivery]:
        due = [
            d
            for d in self._data.deliveries.values()
            if d.status is DeliveryStatus.PENDING
            and d.next_attempt_at <= now
            and (d.id not in self._data.leases or self._data.leases[d.id][1] <= now)
            and self._data.webhooks[d.webhook_id].is_active
        ]
        return sorted(due, key=lambda d: (d.next_attempt_at, d.id))

    async def any_due(self, now: datetime) -> bool:
        return bool(self._due(now))

    async def claim_due(
        self, now: datetime, lease_until: datetime, claim: str, limit: int
    ) -> list[Delivery]:
        claimed = []
        for d in self._due(now)[:limit]:
            d = self._data.deliveries[d.id] = replace(d, attempts=d.attempts + 1)
            self._data.leases[d.id] = (claim, lease_until)
            claimed.append(d)
        return claimed

    async def record(self, delivery: Delivery, claim: str) -> bool:
        lease = self._data.leases.get(delivery.id)
        if lease is None or lease[0] != claim:
            return False
        del self._data.leases[delivery.id]
        self._data.deliveries[delivery.id] = delivery
        return True

    async def deliveries(self, webhook_ids: Sequence[str], limit: int) -> list[Delivery]:
        newest = sorted(
            (d for d in self._data.deliveries.values() if d.webhook_id in webhook_ids),
            key=lambda d: (d.created_at, d.id),
            reverse=True,
        )
        kept: list[Delivery] = []
        for webhook_id in dict.fromkeys(d.webhook_id for d in newest):
            kept += [d for d in newest if d.webhook_id == webhook_id][:limit]
        return sorted(kept, key=lambda d: (d.created_at, d.id), reverse=True)


# ----------------------------------------------------------------------------- unit of work


class FakeUnitOfWork:
    """One "transaction" over the shared store: a private working copy, published by commit."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.working = store.copy()
        self.committed = False
        self.clients: ports.ClientRepository = FakeClientRepository(self)
        self.plans: ports.PlanRepository = FakePlanRepository(self)
        self.keys: ports.ApiKeyRepository = FakeApiKeyRepository(self)
        self.catalog: ports.CatalogRepository = FakeCatalogRepository(self)
        self.usage: ports.UsageRepository = FakeUsageRepository(self)
        self.ledger: ports.LedgerRepository = FakeLedgerRepository(self)
        self.journal: ports.JournalRepository = FakeJournalRepository(self)
        self.leases: ports.LeaseRepository = FakeLeaseRepository(self)
        self.idempotency: ports.IdempotencyRepository = FakeIdempotencyRepository(self)
        self.staff_tokens: ports.StaffTokenRepository = FakeStaffTokenRepository(self)
        self.portal_tokens: ports.PortalTokenRepository = FakePortalTokenRepository(self)
        self.alerts: ports.AlertRepository = FakeAlertRepository(self)
        self.budgets: ports.BudgetRepository = FakeBudgetRepository(self)
        self.webhooks: ports.WebhookRepository = FakeWebhookRepository(self)

    async def __aenter__(self) -> Self:
        self.working = self.store.copy()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.working = self.store.copy()  # whatever was not committed is gone

    async def commit(self) -> None:
        self.store.load(self.working)
        self.committed = True

    async def rollback(self) -> None:
        """Discard what was not committed (a no-op right after a commit)."""
        self.working = self.store.copy()


class FakeUnitOfWorkFactory:
    """Every unit of work it makes shares `store`; `made` keeps them for assertions."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.made: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store)
        self.made.append(uow)
        return uow


if TYPE_CHECKING:  # mypy checks that the fakes satisfy the ports
    _clock: ports.Clock = FrozenClock()
    _hasher: ports.KeyHasher = FakeKeyHasher()
    _uow: ports.UnitOfWork = FakeUnitOfWork(InMemoryStore())
    _factory: ports.UnitOfWorkFactory = FakeUnitOfWorkFactory()
