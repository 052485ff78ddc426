"""The lease rule: a journal row is settled by recovery when its owner holds no live lease, or
when it is older than any call can run; never while its owner renews its lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.metering.journal import JournalEntry, JournalState
from domain.metering.leases import LeaseTerms, ProcessLease, is_orphaned, renewed
from tests.fakes import FrozenClock

T0 = datetime(2026, 3, 15, 12, tzinfo=UTC)
TERMS = LeaseTerms(lease=timedelta(seconds=15), heartbeat=timedelta(seconds=5))
LONGEST = timedelta(minutes=12)


def entry(
    owner: str | None, started_at: datetime = T0, state: JournalState = JournalState.STARTED
) -> JournalEntry:
    return JournalEntry("req", "client", "key", "demo/chat", started_at, 100, state, owner)


def live_owners(leases: list[ProcessLease], now: datetime) -> set[str]:
    return {lease.process_id for lease in leases if lease.is_live(now)}


def test_a_lease_lives_until_it_expires_unless_renewed() -> None:
    clock = FrozenClock(T0)
    lease = renewed("p1", clock.now(), TERMS)
    assert lease.is_live(clock.advance(seconds=14.9))
    assert not lease.is_live(clock.advance(seconds=0.1))
    lease = renewed("p1", clock.now(), TERMS)  # a late heartbeat revives it
    assert lease.is_live(clock.now())


def test_a_dead_owners_call_is_orphaned_once_its_lease_ran_out() -> None:
    clock = FrozenClock(T0)
    leases = [renewed("dead", clock.now(), TERMS), renewed("alive", clock.now(), TERMS)]
    calls = [entry("dead"), entry("alive")]
    for _ in range(10):  # "alive" renews every heartbeat, "dead" stopped at T0
        now = clock.advance(TERMS.heartbeat)
        leases[1] = renewed("alive", now, TERMS)
        orphans = [
            c.owner for c in calls if is_orphaned(c, live_owners(leases, now), now - LONGEST)
        ]
        assert orphans == ([] if now < T0 + TERMS.lease else ["dead"])
    assert clock.now() - T0 <= LONGEST  # the live owner's call was never touched


def test_a_call_of_an_unknown_owner_is_orphaned_at_once() -> None:
    assert is_orphaned(entry("never-registered"), set(), T0 - LONGEST)


def test_the_safety_net_takes_any_call_older_than_the_longest_call() -> None:
    old = entry("alive", started_at=T0 - LONGEST - timedelta(seconds=1))
    assert is_orphaned(old, {"alive"}, T0 - LONGEST)
    assert not is_orphaned(entry("alive", started_at=T0 - LONGEST), {"alive"}, T0 - LONGEST)


def test_rows_without_owner_wait_for_the_safety_net() -> None:
    """Written before leases existed, perhaps by an older process still serving them."""
    assert not is_orphaned(entry(None), set(), T0 - LONGEST)
    assert is_orphaned(entry(None, T0 - LONGEST * 2), set(), T0 - LONGEST)


@given(
    state=st.sampled_from(list(JournalState)),
    owner=st.sampled_from([None, "alive", "dead"]),
    age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=1)),
)
def test_only_open_calls_are_ever_settled_and_live_ones_only_past_the_safety_net(
    state: JournalState, owner: str | None, age: timedelta
) -> None:
    row = entry(owner, T0 - age, state)
    orphaned = is_orphaned(row, {"alive"}, T0 - LONGEST)
    if state is not JournalState.STARTED:
        assert not orphaned
    elif age > LONGEST:
        assert orphaned
    else:
        assert orphaned == (owner == "dead")


def test_terms_refuse_a_lease_shorter_than_two_heartbeats() -> None:
    with pytest.raises(ValueError, match="two heartbeats"):
        LeaseTerms(lease=timedelta(seconds=9), heartbeat=timedelta(seconds=5))
    with pytest.raises(ValueError, match="positive"):
        LeaseTerms(lease=timedelta(seconds=10), heartbeat=timedelta(0))
    assert TERMS.settled_within <= timedelta(seconds=30)  # the default meets the target
