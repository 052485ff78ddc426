"""The call journal: a row written before the provider call, settled after it.

A row still `started` after a crash is a call whose outcome is unknown; recovery settles it
(see docs/metering.md for the policy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.alerting.alerts import Alert
from domain.budgets.limits import CounterMove, Spend
from domain.invoicing.ledger import LedgerEntry
from domain.metering.estimates import estimate_usage
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord
from domain.timeutil import require_aware


class JournalState(StrEnum):
    STARTED = "started"
    SETTLED = "settled"
    ABANDONED = "abandoned"  # settled by recovery after a crash


@dataclass(frozen=True, slots=True)
class JournalEntry:
    request_id: str
    client_id: str
    api_key_id: str
    model_id: str
    started_at: datetime
    max_output_tokens: int
    state: JournalState = JournalState.STARTED
    owner: str | None = None  # the serving process's lease id; None: written before leases
    prompt_chars: int = 0  # the prompt's size, as the call measured it for its hold
    output_chars: int = 0  # output relayed so far, as last checkpointed (streams only)
    alias: str | None = None  # the alias the client called, for the usage record recovery writes

    def __post_init__(self) -> None:
        require_aware(self.started_at, "started_at")

    def crash_estimate(self) -> TokenUsage:
        """What a call cut by a crash is billed: the prompt it sent and the output it had
        relayed at its last checkpoint, never above max_tokens (docs/metering.md). The one
        place that turns the stored prompt size into tokens."""
        return estimate_usage(self.prompt_chars, self.output_chars, self.max_output_tokens)


@dataclass(frozen=True, slots=True)
class BudgetMoves:
    """What a budgeted call's settlement moves, from the records it actually adds: their spend
    on each budget's counter (out of `lease_owner`'s lease, at most what it holds, when set),
    and the alerts of the thresholds that spend crosses. Pure functions: a writer may run them
    on its own thread."""

    lease_owner: str | None
    spends: Callable[[Sequence[UsageRecord]], Sequence[Spend]]
    alerts: Callable[[Sequence[CounterMove]], Sequence[Alert]]


@dataclass(frozen=True, slots=True)
class Settlement:
    """What closing a call writes in one transaction: its journal row moves to `state`, and
    each attempt's usage record is added with its ledger entry (a record already stored is
    skipped with its entry), and with `budgets`, the spend moved on the budgets' counters.
    Nothing is written when the row was closed already."""

    request_id: str
    state: JournalState
    charges: tuple[tuple[UsageRecord, LedgerEntry], ...]
    budgets: BudgetMoves | None = None
