"""The failure throttle: a burst of failures, then a steady trickle, per address and per token
prefix; a truthful Retry-After; nothing kept for requests that never failed; bounded memory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from api.throttle import FailureThrottle, ThrottlePolicy, address_key, token_prefix

POLICY = ThrottlePolicy(burst=5, per_minute=6, max_entries=1000)  # one drains every 10 s
KEY = "bzk_live_AbCdEf" + "x" * 37


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_failures_then_one_per_drain_interval() -> None:
    clock = Clock()
    throttle = FailureThrottle(POLICY, clock)
    for _ in range(5):
        assert throttle.retry_after("198.51.100.7", KEY) is None
        throttle.failed("198.51.100.7", KEY)

    assert throttle.retry_after("198.51.100.7", KEY) == 10
    clock.now += 9
    assert throttle.retry_after("198.51.100.7", KEY) == 1
    clock.now += 1
    assert throttle.retry_after("198.51.100.7", KEY) is None
    throttle.failed("198.51.100.7", KEY)
    assert throttle.retry_after("198.51.100.7", KEY) == 10


def test_an_address_is_throttled_whatever_token_it_tries_next() -> None:
    throttle = FailureThrottle(POLICY, Clock())
    for n in range(5):
        throttle.failed("198.51.100.7", f"bzs_guess{n:02d}" + "y" * 30)

    assert throttle.retry_after("198.51.100.7", "bzs_another" + "z" * 30) == 10
    assert throttle.retry_after("198.51.100.7", None) == 10
    assert throttle.retry_after("198.51.100.8", "bzs_another" + "z" * 30) is None


def test_a_token_prefix_is_throttled_from_every_address() -> None:
    throttle = FailureThrottle(POLICY, Clock())
    for n in range(5):
        throttle.failed(f"203.0.113.{n}", KEY[:-1] + str(n))  # same displayed prefix

    assert throttle.retry_after("203.0.113.200", KEY) == 10
    assert throttle.retry_after("203.0.113.200", "bzk_live_Other0" + "x" * 37) is None


def test_requests_that_never_failed_leave_nothing_behind() -> None:
    throttle = FailureThrottle(POLICY, Clock())
    for n in range(100):
        assert throttle.retry_after(f"192.0.2.{n}", KEY) is None
    assert len(throttle) == 0


def test_drained_buckets_are_forgotten_and_memory_stays_bounded() -> None:
    clock = Clock()
    throttle = FailureThrottle(ThrottlePolicy(burst=5, per_minute=6, max_entries=50), clock)
    for n in range(500):
        throttle.failed(f"2001:db8:{n:x}::1", f"bzp_{n:06d}" + "q" * 30)
    assert len(throttle) == 50

    clock.now += 3600
    throttle.failed("192.0.2.1", None)
    newest = "2001:db8:1f3::1", "bzp_000499" + "q" * 30
    assert throttle.retry_after(*newest) is None
    assert len(throttle) == 48  # the two looked up had drained: dropped


def test_keys_identify_a_host_or_a_token_without_its_secret_part() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert address_key(None) == "-"
    assert token_prefix(KEY) == "bzk_live_AbCdEf"
    assert token_prefix("bzs_AbCdEfGhIj" + "x" * 30) == "bzs_AbCdEf"
    assert token_prefix("some-bootstrap-owner-token") == "some-boo"


Event = tuple[float, int, int]  # seconds later, which address, which token


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 30), st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=200
    )
)
def test_no_address_gets_more_tries_than_the_burst_and_the_drain_allow(events: list[Event]) -> None:
    """Whatever the timing, a guesser that keeps failing is admitted at most `burst` times
    plus one per drain interval, and waiting the Retry-After is always enough."""
    clock = Clock()
    throttle = FailureThrottle(POLICY, clock)
    start = clock.now
    admitted = {0: 0, 1: 0, 2: 0}
    for later, who, which in events:
        clock.now += later
        address, token = f"198.51.100.{who}", f"bzk_live_tok{which:03d}" + "x" * 37
        wait = throttle.retry_after(address, token)
        if wait is None:
            admitted[who] += 1
            throttle.failed(address, token)
        else:
            assert wait >= 1
            clock.now += wait  # a client that waits as told is heard again
            assert throttle.retry_after(address, token) is None
    elapsed_minutes = (clock.now - start) / 60
    for count in admitted.values():
        assert count <= POLICY.burst + POLICY.per_minute * elapsed_minutes + 1
