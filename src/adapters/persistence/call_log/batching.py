"""What both call logs share: how many writes one transaction commits and how many may wait
before callers wait for room (back-pressure)."""

from __future__ import annotations

MAX_BATCH = 512  # writes per transaction
MAX_PENDING = 8192  # writes queued or in flight before callers wait for room
