"""What the use cases need from the application runtime (src/runtime/, owned by the container):
a pool that relays provider streams, a group commit for the per-call writes, and snapshots of
the configuration a call is authorized against. Ports only: the machinery, and any state it
keeps, lives in the runtime, one instance per application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from domain.access.keys import ApiKey
from domain.billing.clients import Client
from domain.billing.exchange import RateBook
from domain.billing.plans import PlanTimeline
from domain.budgets.limits import Budget
from domain.catalog.aliases import AliasTable
from domain.catalog.models import Model, PriceHistory
from domain.metering.tokens import TokenUsage
from domain.ports import UnitOfWork
from domain.providers import ProviderError

T = TypeVar("T")
Job = Callable[[UnitOfWork], Awaitable[Any]]


class MeteredStream(Protocol):
    @property
    def usage(self) -> TokenUsage | None: ...

    def __aiter__(self) -> AsyncIterator[Any]: ...
    async def aclose(self) -> None: ...


class Outcome:
    """What the pump learned: characters relayed, whether it broke, whether it was cut short."""

    def __init__(self) -> None:
        self.output_chars = 0
        self.error: ProviderError | None = None
        self.cut_short = False


class RelayedStream(Protocol):
    """A provider stream read to its end in a task of its own; iterate it to receive its
    items (docs/metering.md)."""

    @property
    def outcome(self) -> Outcome: ...

    def __aiter__(self) -> AsyncIterator[Any]: ...
    async def wait_settled(self) -> None: ...


class Relays(Protocol):
    def start(
        self,
        stream: MeteredStream,
        first: Any,
        chars_of: Callable[[Any], int],
        settle: Callable[[Outcome], Awaitable[None]],
        drain_seconds: float,
        *,
        checkpoint: Callable[[int], None] | None = None,
        checkpoint_seconds: float = 2.0,
    ) -> RelayedStream:
        """Start relaying `stream` (its `first` item already read); `settle` is called once
        it ended, whatever the client did."""
        ...


class Writes(Protocol):
    """Write jobs, each committed in a transaction (shared with concurrent jobs)."""

    async def run(self, job: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Return once the job's transaction committed."""
        ...

    def defer(self, key: Hashable, job: Job) -> None:
        """Write with the next batch, without waiting; a later job under the same key
        replaces one not yet written. Best effort."""
        ...

    @property
    def waiting(self) -> int:
        """Jobs queued and not yet taken into a transaction."""
        ...

    async def flush(self) -> None:
        """Return once every job queued so far has been committed (or has failed)."""
        ...


class Snapshot(Protocol):
    """The configuration a call is authorized against (keys, clients, the catalog, plans,
    budgets), as of one revision."""

    async def key(self, digest: str) -> ApiKey | None: ...
    async def client(self, client_id: str) -> Client | None: ...
    async def model(self, model_id: str) -> Model | None: ...
    async def models(self) -> Sequence[Model]: ...
    async def prices(self, model_id: str) -> PriceHistory: ...
    async def plans(self, client_id: str) -> PlanTimeline: ...
    async def budgets(self) -> Mapping[str, Budget]: ...
    async def aliases(self) -> AliasTable: ...
    async def rates(self) -> RateBook:
        """The exchange rates (docs/currencies.md): one read per revision."""
        ...


class Snapshots(Protocol):
    async def snapshot(self) -> Snapshot:
        """The snapshot of the current revision (cached while the revision holds)."""
        ...

    def uncached(self) -> Snapshot:
        """A snapshot of its own that reads the database on each miss (crash recovery)."""
        ...
