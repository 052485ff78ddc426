"""Ports: what the core needs from the outside world. Adapters implement these Protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from domain.access.keys import ApiKey
from domain.access.principals import PortalToken, StaffToken
from domain.alerting.alerts import Alert
from domain.alerting.webhooks import Delivery, SendResult, Webhook
from domain.billing.clients import Client
from domain.billing.money import Money
from domain.billing.periods import Period
from domain.billing.plans import PlanVersion
from domain.budgets.limits import (
    Budget,
    BudgetBasis,
    CounterMove,
    Hold,
    LeaseTaken,
    Reservation,
    Spend,
)
from domain.catalog.aliases import ModelAlias
from domain.catalog.models import Model, PriceHistory, PriceVersion
from domain.invoicing.ledger import LedgerEntry
from domain.metering.idempotency import IdempotencyRecord
from domain.metering.journal import JournalEntry, JournalState, Settlement
from domain.metering.leases import ProcessLease
from domain.metering.ratelimits import Admission
from domain.metering.usage import UsageGrouping, UsageRecord, UsageTotals


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class KeyHasher(Protocol):
    def digest(self, secret: str) -> str:
        """A keyed, deterministic digest of a secret (hex); the same secret always maps to the
        same digest under one server secret, and the digest reveals nothing of the secret."""
        ...


class ConfigRevision(Protocol):
    async def current(self) -> int:
        """The revision of keys, clients, plans, the catalog and budgets: every committed write
        to any of them, from any process, changes it. The database adapter reads it after the
        call began; runtime.lookups.RevisionWatch answers from a read begun at most a second
        earlier and after this process's last change."""
        ...


class ClientRepository(Protocol):
    async def add(self, client: Client) -> None: ...
    async def get(self, client_id: str) -> Client | None: ...
    async def list(self) -> Sequence[Client]: ...
    async def update(self, client: Client) -> None:
        """Overwrite the mutable fields (name, status, billing details) of a stored client."""
        ...


class PlanRepository(Protocol):
    async def add(self, version: PlanVersion) -> None: ...
    async def history(self, client_id: str) -> Sequence[PlanVersion]:
        """Every plan version of a client, in effective order."""
        ...

    async def histories(self, client_ids: Sequence[str]) -> Mapping[str, Sequence[PlanVersion]]:
        """The plan histories of several clients in one read, each in effective order; a
        client with no version maps to an empty sequence."""
        ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: str) -> ApiKey | None: ...
    async def by_digest(self, digest: str) -> ApiKey | None: ...
    async def for_client(self, client_id: str) -> Sequence[ApiKey]: ...
    async def for_clients(self, client_ids: Sequence[str]) -> Sequence[ApiKey]:
        """The keys of all those clients in one read, oldest first."""
        ...

    async def update(self, key: ApiKey) -> None:
        """Overwrite revocation, expiry, name, allow-list and limits of a stored key."""
        ...


class CatalogRepository(Protocol):
    async def save_model(self, model: Model) -> None:
        """Insert the model, or replace its settings when the id exists."""
        ...

    async def get_model(self, model_id: str) -> Model | None: ...
    async def models(self) -> Sequence[Model]: ...
    async def add_price(self, version: PriceVersion) -> None:
        """Add a price version; a second version at the same instant is a Conflict."""
        ...

    async def prices(self, model_id: str) -> PriceHistory: ...
    async def save_alias(self, alias: ModelAlias) -> None:
        """Insert the alias, or retarget it when (client_id, name) exists."""
        ...

    async def remove_alias(self, client_id: str | None, name: str) -> bool:
        """Delete the alias; False when there was none."""
        ...

    async def aliases(self) -> Sequence[ModelAlias]:
        """Every alias, agency-wide ones first, then by client and name."""
        ...


class UsageRepository(Protocol):
    async def add(self, record: UsageRecord) -> bool:
        """Store a record; False (and nothing written) if (request_id, attempt) exists."""
        ...

    async def for_request(self, request_id: str) -> Sequence[UsageRecord]: ...
    async def for_client(
        self, client_id: str, start: datetime, end: datetime
    ) -> Sequence[UsageRecord]:
        """The client's records with start <= started_at < end, oldest first."""
        ...

    async def estimated(
        self, client_id: str, start: datetime, end: datetime, limit: int
    ) -> Sequence[UsageRecord]:
        """The client's records flagged `estimated` with start <= started_at < end, newest
        first, at most `limit` (for reconciliation against the provider's console)."""
        ...

    async def totals(
        self,
        start: datetime,
        end: datetime,
        grouping: UsageGrouping,
        client_ids: Sequence[str] | None = None,
    ) -> Sequence[UsageTotals]:
        """Records with start <= started_at < end (of `client_ids`, or of every client when
        None) aggregated by the store, one row per client and currency pair, and per model or
        per UTC hour as `grouping` asks. Amounts are exact sums (never through a float);
        rows are ordered by client, then model or hour."""
        ...


class LedgerRepository(Protocol):
    async def append(self, entry: LedgerEntry) -> bool:
        """Append; False (and nothing written) if (client_id, kind, reference) exists.
        Entries are never updated or deleted."""
        ...

    async def entries(self, client_id: str) -> Sequence[LedgerEntry]: ...
    async def balance(self, client_id: str, currency: str) -> Money:
        """The exact sum of the client's entries in that currency."""
        ...


class JournalRepository(Protocol):
    async def start(self, entry: JournalEntry) -> bool:
        """Record a call about to reach a provider; False if the request id is known."""
        ...

    async def finish(self, request_id: str, state: JournalState) -> bool:
        """Close a `started` row; False (nothing changed) if it was already closed, so the
        first settlement of a call wins (a crash recovery, or the call itself). NotFound if
        there is no such row."""
        ...

    async def checkpoint(self, request_id: str, output_chars: int) -> None:
        """Record how much output a running stream has relayed; no-op once the row is closed."""
        ...

    async def unsettled(
        self, started_before: datetime, live_at: datetime | None = None
    ) -> Sequence[JournalEntry]:
        """Rows still `started` that recovery may settle, oldest first: those that began
        before `started_before` (any owner), and with `live_at`, those whose owner holds no
        lease live at that instant (`domain.metering.leases.is_orphaned`)."""
        ...


class CallLog(Protocol):
    """The per-call writes of the hot path: the journal row before the provider call, the
    settlement after it (with the budgets' moves). Each awaited write is durable when it
    returns; writes of concurrent calls may share a transaction."""

    async def open(self, entry: JournalEntry) -> None:
        """Write the `started` journal row (a known request id is left as it is)."""
        ...

    async def settle(self, settlement: Settlement) -> list[UsageRecord] | None:
        """Close the row, add the records and move the budgets (JournalRepository.finish's
        rules); the records added, or None when the row was closed already and nothing was
        written. Pre-lease per-call reservations are released by the unit of work's version
        only (crash recovery uses it)."""
        ...

    def checkpoint(self, request_id: str, output_chars: int) -> None:
        """Note a stream's relayed output with a later batch, without waiting; best effort."""
        ...

    async def flush(self) -> None:
        """Return once everything queued so far is written (used at shutdown)."""
        ...

    def backlog(self) -> tuple[int, int | None]:
        """Writes waiting now, and how many may wait before callers wait for room (None:
        no bound of its own)."""
        ...

    async def aclose(self) -> None:
        """Flush, then release what the log holds; later writes are refused."""
        ...


class LeaseRepository(Protocol):
    """One row per serving process, renewed by its heartbeat (domain/metering/leases.py)."""

    async def renew(self, lease: ProcessLease) -> None:
        """Insert or extend the process's lease."""
        ...

    async def release(self, process_id: str) -> None:
        """Remove the lease (clean shutdown): its open calls, if any, are orphans at once."""
        ...

    async def live(self, now: datetime) -> Sequence[ProcessLease]: ...
    async def purge(self, expired_before: datetime) -> int:
        """Forget leases that expired before the instant (their calls are orphans either way)."""
        ...


class IdempotencyRepository(Protocol):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Insert the record unless (client_id, key) exists; return the existing one, or None
        when this record was inserted."""
        ...

    async def get(self, client_id: str, key: str) -> IdempotencyRecord | None: ...
    async def put(self, record: IdempotencyRecord) -> None:
        """Insert or overwrite the record for (client_id, key)."""
        ...

    async def delete(self, client_id: str, key: str) -> None: ...


class StaffTokenRepository(Protocol):
    async def add(self, token: StaffToken) -> None:
        """Store a token; a second token with the same id or digest is a Conflict."""
        ...

    async def get(self, token_id: str) -> StaffToken | None: ...
    async def by_digest(self, digest: str) -> StaffToken | None: ...
    async def list(self) -> Sequence[StaffToken]:
        """Every staff token, oldest first."""
        ...

    async def update(self, token: StaffToken) -> None:
        """Overwrite name, role and revocation of a stored token (NotFound otherwise)."""
        ...


class PortalTokenRepository(Protocol):
    async def add(self, token: PortalToken) -> None:
        """Store a token; a second token with the same id or digest is a Conflict, an unknown
        client is NotFound."""
        ...

    async def get(self, token_id: str) -> PortalToken | None: ...
    async def by_digest(self, digest: str) -> PortalToken | None: ...
    async def for_client(self, client_id: str) -> Sequence[PortalToken]:
        """The client's portal tokens, oldest first."""
        ...

    async def update(self, token: PortalToken) -> None:
        """Overwrite name and revocation of a stored token (NotFound otherwise)."""
        ...


class AlertRepository(Protocol):
    async def raise_once(self, alert: Alert) -> bool:
        """Store the alert unless one with its dedupe key exists (in any process): True when
        stored. Never fails on a duplicate, so it can run inside a settlement transaction."""
        ...

    async def get(self, alert_id: str) -> Alert | None: ...

    async def recent(
        self,
        *,
        client_ids: Sequence[str] | None = None,
        unacknowledged_only: bool = False,
        limit: int = 100,
    ) -> list[Alert]:
        """Newest first; `client_ids=None` means every client."""
        ...

    async def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert | None:
        """Acknowledge once (a second call keeps the first acknowledgement); None if unknown."""
        ...

    async def undispatched(self, limit: int) -> list[Alert]:
        """Alerts not yet fanned out to webhooks, oldest first."""
        ...

    async def mark_dispatched(self, alert_ids: Sequence[str], at: datetime) -> None: ...


class BudgetRepository(Protocol):
    async def put(self, budget: Budget) -> None:
        """Insert the budget of its scope, or replace it; its counters are kept unless the
        basis changed (then they, and their holds, are forgotten and recounted when needed)."""
        ...

    async def remove(self, scope: str) -> bool:
        """Delete the budget of a scope, its counters and holds; False if there was none."""
        ...

    async def all(self) -> Sequence[Budget]:
        """Every budget (one read, cached per configuration revision by the gateway)."""
        ...

    async def reserve(self, request_id: str, holds: Sequence[Hold], at: datetime) -> Reservation:
        """Hold every amount or none, atomically with respect to other processes: a hold under
        a hard limit succeeds only if spent + reserved + amount <= limit. The first refused
        hold undoes the earlier ones and is returned. A counter missing for a period starts
        with the spend already recorded for its scope in that period (reported as opened)."""
        ...

    async def settle(
        self, request_id: str, spends: Sequence[Spend], lease_owner: str | None = None
    ) -> list[CounterMove]:
        """Release every hold of the request (once: a second settle releases nothing) and add
        each spend to its counter; the counters' spend before and after. With `lease_owner`,
        the call held from that process's lease: its spend (at most what the lease still has)
        moves from the lease into the spend."""
        ...

    async def take_lease(self, process_id: str, hold: Hold, extra: Decimal) -> LeaseTaken:
        """Add `hold.amount + extra` to the process's lease on the hold's counter if that fits
        the limit, else `hold.amount` alone, else nothing (with the Refusal)."""
        ...

    async def return_lease(
        self, process_id: str, scope: str, period_start: datetime, amount: Decimal
    ) -> Decimal:
        """Give up to `amount` of a lease back to its counter; the lease's amount afterwards."""
        ...

    async def reclaim_leases(self, live_at: datetime) -> int:
        """Give back the leases of processes holding no process lease live at that instant
        (settle their journaled calls first: their spend moves out of these leases)."""
        ...

    async def status(
        self, budget: Budget, period: Period, basis: BudgetBasis
    ) -> tuple[Decimal, Decimal]:
        """(spent, reserved) of the budget's counter for the period; with no counter yet, the
        spend recorded for its scope in the period and nothing reserved."""
        ...


class RateLimiter(Protocol):
    async def admit(
        self, key_id: str, rpm: int | None, tpm: int | None, tokens: int, take: bool = True
    ) -> Admission:
        """Take one request and `tokens` tokens from the key's minute buckets, or nothing
        (domain.metering.ratelimits.admit), atomically for every process sharing the limiter;
        `take=False` only reports the levels."""
        ...

    async def aclose(self) -> None: ...


class WebhookRepository(Protocol):
    async def add(self, webhook: Webhook) -> None:
        """Store a webhook (an unknown client is NotFound)."""
        ...

    async def get(self, webhook_id: str) -> Webhook | None: ...
    async def find(
        self, *, client_id: str | None = None, include_disabled: bool = False
    ) -> list[Webhook]:
        """Oldest first; `client_id` None means every webhook, else that client's only."""
        ...

    async def disable(self, webhook_id: str, at: datetime) -> Webhook | None:
        """Disable once (its pending deliveries are cancelled); None if unknown."""
        ...

    async def add_delivery(self, delivery: Delivery) -> bool:
        """Store the delivery unless one exists for its (alert, webhook): True when stored."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, claim: str, limit: int
    ) -> list[Delivery]:
        """Atomically claim pending deliveries due at `now` of active webhooks whose lease
        has expired (or was never taken), counting the attempt: no other claimer gets them
        until `lease_until`, in any process."""
        ...

    async def any_due(self, now: datetime) -> bool:
        """Whether `claim_due` would find something now (a cheap read before a write)."""
        ...

    async def record(self, delivery: Delivery, claim: str) -> bool:
        """Store an attempt's outcome and release the lease, if `claim` still holds it."""
        ...

    async def deliveries(self, webhook_ids: Sequence[str], limit: int) -> list[Delivery]:
        """The newest `limit` deliveries of each webhook, newest first."""
        ...


class WebhookSender(Protocol):
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """POST the body once with short timeouts; never raises for a network failure or a
        refused (non-public) destination, which come back as `SendResult.error`."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the block without `commit()` rolls back."""

    clients: ClientRepository
    plans: PlanRepository
    keys: ApiKeyRepository
    catalog: CatalogRepository
    usage: UsageRepository
    ledger: LedgerRepository
    journal: JournalRepository
    leases: LeaseRepository
    idempotency: IdempotencyRepository
    staff_tokens: StaffTokenRepository
    portal_tokens: PortalTokenRepository
    alerts: AlertRepository
    budgets: BudgetRepository
    webhooks: WebhookRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
