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
from tests.api.graphql_support import create_client, issue_key, owner
from tests.support.servers import serve_in_thread

CSRF = {"x-bizgraph-request": "1"}
BURST = ThrottlePolicy().burst  # the default burst, as production runs it
# A drain slow enough that the tests' own pace (however loaded the machine) refills nothing;
# the drain itself is tested with a fake clock in tests/unit/test_throttle.py.
POLICY = ThrottlePolicy(burst=BURST, per_minute=0.01)
WRONG_STAFF = "bzs_" + "w" * 43
WRONG_KEY = "bzk_live_" + "k" * 43


@pytest.fixture(scope="module")
def throttled(gateway: Gateway) -> Iterator[tuple[str, FailureThrottle]]:
    """A second app on the session's database with the default burst (the session's own
    gateway runs a permissive one), so what happens here stays here; each test guesses from
    addresses of its own."""
    app: Starlette = create_app(replace(gateway.settings, auth_throttle=POLICY))
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
        assert int(answer.headers["retry-after"]) >= 1
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


def test_one_staff_or_portal_token_prefix_is_cut_off_from_every_address(
    throttled: tuple[str, FailureThrottle],
) -> None:
    url, _ = throttled
    known = "bzs_Target"  # the part of a staff token the admin app displays
    query = {"query": "{ me { kind } }"}
    with httpx.Client(base_url=url) as http:
        for n in range(BURST):
            answer = http.post(
                "/graphql",
                json=query,
                headers={"authorization": f"Bearer {known}{n:04d}" + "t" * 30}
                | from_address(f"203.0.113.{n}"),
            )
            assert answer.status_code == 401
        elsewhere = http.post(
            "/graphql",
            json=query,
            headers={"authorization": f"Bearer {known}9999" + "t" * 30}
            | from_address("203.0.113.99"),
        )
        signing_in = http.post(
            "/auth/login",
            json={"token": f"{known}8888" + "t" * 30},
            headers=CSRF | from_address("203.0.113.98"),
        )
    assert elsewhere.status_code == 429
    assert elsewhere.json()["errors"][0]["extensions"]["code"] == "too_many_failed_attempts"
    assert signing_in.status_code == 429


def test_a_client_keys_shown_prefix_cannot_be_used_to_block_its_calls(
    throttled: tuple[str, FailureThrottle], gateway: Gateway
) -> None:
    """Anyone who saw a key's prefix (the client's own portal shows it) may spam wrong keys
    with it from many addresses: the key's own calls still go through."""
    url, _ = throttled
    admin = owner(gateway)
    key = issue_key(
        admin, create_client(admin, "Throttle prefix", {"fixedPrice": {"monthlyPrice": "1"}})
    )
    shown = key[: len("bzk_live_") + 6]
    with httpx.Client(base_url=url) as http:
        for n in range(2 * BURST):
            wrong = http.get(
                "/v1/models",
                headers={"authorization": f"Bearer {shown}{n:04d}" + "w" * 30}
                | from_address(f"192.0.2.{n}"),
            )
            assert wrong.status_code == 401
        mine = http.get(
            "/v1/models", headers={"authorization": f"Bearer {key}"} | from_address("198.51.100.40")
        )
    assert mine.status_code == 200


def test_successful_requests_are_never_counted(throttled: tuple[str, FailureThrottle]) -> None:
    url, throttle = throttled
    before = len(throttle)
    owner = {"authorization": f"Bearer {ADMIN_TOKEN}"} | from_address("198.51.100.30")
    with httpx.Client(base_url=url, headers=owner) as http:
        for _ in range(3 * BURST):
            assert http.post("/graphql", json={"query": "{ me { kind } }"}).status_code == 200
        assert http.get("/healthz").status_code == 200
    assert len(throttle) == before


@pytest.mark.parametrize(
    ("address", "send_key"),
    [("198.51.100.50", "header"), ("198.51.100.51", "query")],
)
def test_key_guesses_on_the_gemini_routes_are_throttled_in_googles_format(
    throttled: tuple[str, FailureThrottle], address: str, send_key: str
) -> None:
    """`x-goog-api-key` and `?key=` guesses count like bearer ones; the 429 is Google's."""
    url, _ = throttled
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    path = "/v1beta/models/demo/chat:generateContent"

    def guess(http: httpx.Client, n: int) -> httpx.Response:
        key = f"{WRONG_KEY}{n:03d}"
        if send_key == "query":
            return http.post(path, json=body, params={"key": key})
        return http.post(path, json=body, headers={"x-goog-api-key": key})

    with httpx.Client(base_url=url, headers=from_address(address)) as http:
        for n in range(BURST):
            assert guess(http, n).status_code == 401
        refused = guess(http, 999)

    assert refused.status_code == 429
    assert refused.headers["retry-after"]
    assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
