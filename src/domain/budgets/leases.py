"""Budget leases: a process serves its calls' budget holds from memory, out of a slice of the
budget's headroom that it leased from the counter.

Why a hard limit still holds exactly: the lease's amount is part of the counter's `reserved`,
added by the same conditional update that used to take each call's hold
(`spent + reserved + slice <= limit`); a call holds only what is free in its process's lease
(leased minus the holds in flight); settling moves the call's spend out of the lease into
`spent`, in the transaction that writes its usage record. So `spent + reserved <= limit` at
every commit, and every hold in flight is inside a lease. What a process no longer needs goes
back to the counter when its lease has been idle a moment, and at shutdown; a process that dies
leaves its leases to recovery, which settles its calls out of them first, then returns the rest.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from domain.billing.money import exact_sum
from domain.billing.periods import Period
from domain.budgets.limits import Budget

SIZING_SECONDS = 1.0  # a top-up asks for about this long's worth of holds beyond the call's
SHARE_CAP = Decimal("0.1")  # and at most this share of the limit beyond what the call needs
IDLE_SECONDS = 2.0  # a lease unused this long gives its free part back


@dataclass(slots=True)
class Headroom:
    """This process's lease on one budget counter for one period."""

    budget: Budget
    period: Period
    leased: Decimal = Decimal(0)  # in the counter's `reserved` under this process's name
    in_flight: Decimal = Decimal(0)  # holds of this process's calls not settled yet
    last_used: float = 0.0
    stale: bool = False  # memory may disagree with the lease row: read it back before use
    recent: deque[tuple[float, Decimal]] = field(default_factory=deque)

    @property
    def free(self) -> Decimal:
        return exact_sum(self.leased, self.in_flight.copy_negate())

    def take(self, amount: Decimal, now: float) -> bool:
        """Hold `amount` for a call if the lease has it free."""
        if amount > self.free:
            return False
        self.claim(amount, now)
        return True

    def claim(self, amount: Decimal, now: float) -> None:
        """Hold `amount` whether or not it is free (a top-up is about to cover it): calls
        arriving meanwhile then cannot take what the top-up brings for this one."""
        self.in_flight = exact_sum(self.in_flight, amount)
        self.last_used = now
        self.recent.append((now, amount))
        self._forget_before(now - SIZING_SECONDS)  # bounded however long the lease lasts

    def _forget_before(self, moment: float) -> None:
        while self.recent and self.recent[0][0] < moment:
            self.recent.popleft()

    @property
    def missing(self) -> Decimal:
        """What the lease lacks to cover the holds in flight."""
        return max(self.free.copy_negate(), Decimal(0))

    def slack(self, now: float) -> Decimal:
        """How much more than the call needs a top-up asks for: the holds of the last second
        (so a busy lease is topped up about once a second), at most a tenth of the limit."""
        self._forget_before(now - SIZING_SECONDS)
        wanted = exact_sum(*(amount for _, amount in self.recent))
        limit = self.budget.hard_limit()
        return wanted if limit is None else min(wanted, limit * SHARE_CAP)

    def settle(self, hold: Decimal, spent: Decimal) -> None:
        """A call ends: its hold is free again, and its spend (at most what is leased) left
        the lease for the counter's `spent`, as the settlement's transaction did."""
        self.in_flight = exact_sum(self.in_flight, hold.copy_negate())
        moved = min(spent, max(self.leased, Decimal(0)))
        self.leased = exact_sum(self.leased, moved.copy_negate())

    def release(self, hold: Decimal) -> None:
        """A hold no call used (its journal row could not be written)."""
        self.in_flight = exact_sum(self.in_flight, hold.copy_negate())

    def idle(self, now: float, after: float = IDLE_SECONDS) -> bool:
        return self.free > 0 and now - self.last_used >= after
