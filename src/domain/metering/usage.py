"""One usage record per provider attempt: what was used, what it cost, what the client owes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.billing.money import Money
from domain.metering.tokens import TokenUsage
from domain.timeutil import require_aware


class CallStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class UsageSource(StrEnum):
    REPORTED = "reported"  # the provider's own counts
    ESTIMATED = "estimated"  # the provider reported none; capped at max_tokens


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Unique on (request_id, attempt): a retried settle never bills twice."""

    id: str
    request_id: str
    attempt: int
    client_id: str
    api_key_id: str
    model_id: str
    provider: str
    usage: TokenUsage
    cost: Money
    charge: Money
    price_version_id: str
    plan_version_id: str | None
    started_at: datetime
    latency_ms: int
    status: CallStatus
    source: UsageSource
    alias: str | None = None  # the alias the client called (domain/catalog/aliases.py); None: none
    # Made with the client's own provider key (docs/byok.md): `cost` is then zero (the agency
    # pays nothing) and `list_cost` what the catalog's list price says the provider billed.
    byok: bool = False
    list_cost: Money | None = None

    def __post_init__(self) -> None:
        require_aware(self.started_at, "started_at")


class UsageGrouping(StrEnum):
    CLIENT = "client"
    MODEL = "model"  # per client and model
    HOUR = "hour"  # per client and UTC hour
    HOUR_ALL = "hour_all"  # the asked clients together, per UTC hour (client_id "")
    ALIAS = "alias"  # per client, alias and answering model; calls without an alias left out


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Usage records aggregated by the store: one group's counts and exact sums."""

    client_id: str
    requests: int
    tokens: TokenUsage
    cost: Money
    charge: Money
    model_id: str | None = None  # groupings MODEL and ALIAS
    hour: datetime | None = None  # grouping HOUR: the UTC hour's start
    alias: str | None = None  # grouping ALIAS

    def __post_init__(self) -> None:
        if self.hour is not None:
            require_aware(self.hour, "hour")
