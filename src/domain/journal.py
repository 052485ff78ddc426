"""The call journal: a row written before the provider call, settled after it.

A row still `started` after a crash is a call whose outcome is unknown; recovery settles it
(see docs/metering.md for the policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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

    def __post_init__(self) -> None:
        require_aware(self.started_at, "started_at")
