"""A process's budget lease in memory (domain/budgets/leases.py): holds never take more than the
lease has free, settling moves at most what is leased, and the sizing window stays bounded
however long the lease lives."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.budgets.leases import SHARE_CAP, SIZING_SECONDS, Headroom
from domain.budgets.limits import Budget, BudgetMode

LIMIT = Decimal("10")
BUDGET = Budget("c1", None, Money(LIMIT, "USD"), BudgetMode.HARD, datetime(2026, 1, 1, tzinfo=UTC))
PERIOD = month_period("2026-01", ZoneInfo("UTC"))
AMOUNTS = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(3), places=6)
STEPS = st.lists(
    st.tuples(st.sampled_from(["take", "settle", "top_up"]), AMOUNTS, st.floats(0, 0.5)),
    max_size=200,
)


@given(STEPS)
def test_holds_stay_inside_the_lease_and_settling_moves_at_most_what_is_leased(
    steps: list[tuple[str, Decimal, float]],
) -> None:
    room = Headroom(BUDGET, PERIOD)
    holds: list[Decimal] = []
    now = 0.0
    for action, amount, pause in steps:
        now += pause
        if action == "top_up":
            room.leased += amount
        elif action == "take":
            free = room.free
            if room.take(amount, now):
                holds.append(amount)
                assert amount <= free
            else:
                assert amount > free
        elif holds:
            hold, leased = holds.pop(0), room.leased
            spent = min(amount, hold)
            room.settle(hold, spent)
            assert room.leased == leased - min(spent, max(leased, Decimal(0)))
        assert room.in_flight == sum(holds, Decimal(0))
        assert room.free == room.leased - room.in_flight
        # trimmed at every hold: never more than a window's worth of the holds before it
        assert all(room.last_used - at <= SIZING_SECONDS for at, _ in room.recent)


def test_a_top_up_asks_for_a_second_of_recent_holds_at_most_a_tenth_of_the_limit() -> None:
    room = Headroom(BUDGET, PERIOD, leased=Decimal(100))
    for second in range(3):
        room.take(Decimal("0.2"), float(second))
    assert room.slack(2.5) == Decimal("0.2")  # only the hold of the last second
    for _ in range(20):
        room.take(Decimal(1), 3.0)
    assert room.slack(3.0) == LIMIT * SHARE_CAP


def test_a_claim_waiting_for_its_top_up_counts_as_in_flight() -> None:
    room = Headroom(BUDGET, PERIOD, leased=Decimal(1))
    room.claim(Decimal(3), 0.0)
    assert room.missing == Decimal(2)
    assert not room.take(Decimal("0.5"), 0.0)  # what the top-up brings is the claim's
    room.leased += Decimal(2)
    assert room.missing == 0
