"""Token buckets for requests and tokens per minute."""

from __future__ import annotations

import pytest

from api.rest.ratelimit_headers import duration, rate_limit_headers
from domain.metering.ratelimits import Level, admit


def test_a_full_bucket_admits_then_refuses_with_the_wait() -> None:
    requests = tokens = None
    for _ in range(3):
        admission, requests, tokens = admit(requests, tokens, 0.0, 3, None, 0)
        assert admission.allowed
    admission, requests, tokens = admit(requests, tokens, 0.0, 3, None, 0)
    assert not admission.allowed
    assert admission.retry_after == pytest.approx(20.0)  # one request refills in 60/3 s
    assert admission.requests is not None
    assert admission.requests.remaining == 0
    later, _, _ = admit(requests, tokens, 20.0, 3, None, 0)
    assert later.allowed


def test_both_buckets_must_fit_and_a_refusal_takes_nothing() -> None:
    requests, tokens = Level(10, 0.0), Level(100, 0.0)
    admission, new_requests, new_tokens = admit(requests, tokens, 0.0, 10, 1000, 200)
    assert not admission.allowed
    assert admission.retry_after == pytest.approx(6.0)  # 100 tokens at 1000/min
    assert new_requests == Level(10, 0.0)
    assert new_tokens == Level(100, 0.0)


def test_a_request_larger_than_the_minute_never_fits() -> None:
    admission, _, _ = admit(None, None, 0.0, None, 100, 101)
    assert not admission.allowed
    assert admission.retry_after == float("inf")


def test_headers_in_openai_format() -> None:
    admission, _, _ = admit(None, None, 0.0, 60, 1000, 100)
    assert rate_limit_headers(admission) == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "900",
        "x-ratelimit-reset-tokens": "6s",
    }
    assert [duration(s) for s in (0.12, 1.5, 360, 61.25)] == ["120ms", "1.5s", "6m0s", "1m1.25s"]
