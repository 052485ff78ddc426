"""Token guessing is slowed down on every route that checks a token, over real HTTP (SQLite
and PostgreSQL): after a burst of failures from one address, or with one token prefix, the
next tries get 429 with Retry-After in the route's own format, before any token is checked;
successful requests leave nothing behind. Addresses are told apart as a reverse proxy on
loopback tells them (X-Forwarded-For, which uvicorn trusts from 127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import anthropic
import httpx
import openai
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.throttle import FailureThrottle, ThrottlePolicy
from tests.api.conftest import ADMIN_TOKEN, Gateway
from tests.support.servers import serve_in_thread

CSRF = {"x-bizgraph-request": "1"}
BURST = ThrottlePolicy().burst  # the default policy, as production runs it
WRONG_STAFF = "bzs_" + "w" * 43
WRONG_KEY = "bzk_live_" + "k" * 43


@pytest.fixture(scope="module")
def throttled(gateway: Gateway) -> Iterator[tuple[str, FailureThrottle]]:
    """A second app on the session's database with the default throttle (the session's own
    gateway runs a permissive one), so what happens here stays here; each test guesses from
    addresses of its own."""
    app: Starlette = create_app(replace(gateway.settings, auth_throttle=ThrottlePolicy()))
    with serve_in_thread(app) as url:
        yield url, app.state.auth_throttle


def from_address(address: str) -> dict[str, str]:
    return {"x-forwarded-for": address}


def test_sign_in_guesses_are_cut_off_after_the_burst_even_for_the_right_token(
    throttled: tuple[str, FailureThrottle],
) -> None:
    url, _ = throttled
    headers = CSRF | from_address("198.51.100.10")
    with httpx.Client(base_url=url, headers=headers) as http:
        for n in range(BURST):
            guess = http.post("/auth/login", json={"token": f"bzs_guess{n:03d}" + "g" * 36})
            assert guess.status_code == 401
        refused = http.post("/auth/login", json={"token": "bzs_guess999" + "g" * 36})
        right_but_throttled = http.post("/auth/login", json={"token": ADMIN_TOKEN})

    for answer in (refused, right_but_throttled):
        assert answer.status_code == 429
        assert answer.json()["error"]["code"] == "too_many_failed_attempts"
        assert "retry after" in answer.json()["error"]["message"]
        assert 1 <= int(answer.headers["retry-after"]) <= 6
        assert "set-cookie" not in answer.headers
    with httpx.Client(base_url=url, headers=CSRF | from_address("198.51.100.11")) as http:
        assert http.post("/auth/login", json={"token": ADMIN_TOKEN}).status_code == 200


def test_bearer_guesses_on_graphql_and_v1_get_429_in_each_routes_format(
    throttled: tuple[str, FailureThrottle],
) -> None:
    url, _ = throttled
    query = {"query": "{ me { kind } }"}
    with httpx.Client(base_url=url, headers=from_address("198.51.100.20")) as http:
        for n in range(BURST):
            token = f"bzs_graphql{n:03d}" + "g" * 33
            answer = http.post("/graphql", json=query, headers={"authorization": f"Bearer {token}"})
            assert answer.status_code == 401
        graphql = http.post(
            "/graphql", json=query, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    assert graphql.status_code == 429
    assert graphql.json()["errors"][0]["extensions"]["code"] == "too_many_failed_attempts"
    assert int(graphql.headers["retry-after"]) >= 1

    guesser = openai.OpenAI(
        base_url=url + "/v1",
        api_key=WRONG_KEY,
        max_retries=0,
        default_headers=from_address("198.51.100.21"),
    )
    for _ in range(BURST):
        with pytest.raises(openai.AuthenticationError):
            guesser.models.list()
    with pytest.raises(openai.RateLimitError) as limited:
        guesser.models.list()
    assert limited.value.code == "too_many_failed_attempts"
    assert int(limited.value.response.headers["retry-after"]) >= 1

    claude = anthropic.Anthropic(
        base_url=url,
        api_key="bzk_live_" + "a" * 43,
        max_retries=0,
        default_headers=from_address("198.51.100.22"),
    )
    message = {
        "model": "demo/chat",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
    }
    for _ in range(BURST):
        with pytest.raises(anthropic.AuthenticationError):
            claude.messages.create(**message)  # type: ignore[call-overload]
    with pytest.raises(anthropic.RateLimitError) as refused:
        claude.messages.create(**message)  # type: ignore[call-overload]
    assert refused.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_one_token_prefix_is_cut_off_from_every_address(
    throttled: tuple[str, FailureThrottle],
) -> None:
    url, _ = throttled
    known = "bzk_live_Target"  # the part of a key the apps display
    with httpx.Client(base_url=url) as http:
        for n in range(BURST):
            answer = http.get(
                "/v1/models",
                headers={"authorization": f"Bearer {known}{n:04d}" + "t" * 30}
                | from_address(f"203.0.113.{n}"),
            )
            assert answer.status_code == 401
        elsewhere = http.get(
            "/v1/models",
            headers={"authorization": f"Bearer {known}9999" + "t" * 30}
            | from_address("203.0.113.99"),
        )
    assert elsewhere.status_code == 429
    assert elsewhere.json()["error"]["code"] == "too_many_failed_attempts"


def test_successful_requests_are_never_counted(throttled: tuple[str, FailureThrottle]) -> None:
    url, throttle = throttled
    before = len(throttle)
    owner = {"authorization": f"Bearer {ADMIN_TOKEN}"} | from_address("198.51.100.30")
    with httpx.Client(base_url=url, headers=owner) as http:
        for _ in range(3 * BURST):
            assert http.post("/graphql", json={"query": "{ me { kind } }"}).status_code == 200
        assert http.get("/healthz").status_code == 200
    assert len(throttle) == before
