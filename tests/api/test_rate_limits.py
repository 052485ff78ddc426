"""Per-key rate limits over HTTP: OpenAI's headers on every call of a limited key, 429
`rate_limit_exceeded` with Retry-After when over, none of it for keys without limits."""

from __future__ import annotations

import httpx

from tests.api.conftest import Admin, Gateway

HI = [{"role": "user", "content": "hi"}]


async def _call(http: httpx.AsyncClient, secret: str, max_tokens: int = 10) -> httpx.Response:
    return await http.post(
        "/v1/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HI, "max_tokens": max_tokens},
        headers={"authorization": f"Bearer {secret}"},
    )


async def test_requests_per_minute_with_headers_and_retry_after(
    gateway: Gateway, admin: Admin
) -> None:
    _, secret = await admin.client_with_key(rpm_limit=2, tpm_limit=10_000)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        first, second, third = [await _call(http, secret) for _ in range(3)]

    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert first.headers["x-ratelimit-reset-requests"].endswith("s")
    assert first.headers["x-ratelimit-limit-tokens"] == "10000"
    # the prompt estimate is the body's JSON (90 bytes) at 4 a token: 23, plus max_tokens 10
    assert first.headers["x-ratelimit-remaining-tokens"] == "9967"
    error = third.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert int(third.headers["retry-after"]) >= 1
    assert third.headers["x-ratelimit-remaining-requests"] == "0"
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        listed = [
            await http.get("/v1/models", headers={"authorization": f"Bearer {secret}"})
            for _ in range(2)
        ]
    for response in listed:  # reported, never taken
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining-requests"] == "0"
        assert response.headers["x-ratelimit-limit-tokens"] == "10000"


async def test_tokens_per_minute_count_every_choice(gateway: Gateway, admin: Admin) -> None:
    _, secret = await admin.client_with_key(tpm_limit=10_000)
    body = {"model": "openai/gpt-4o-mini", "messages": HI, "max_tokens": 10, "n": 3}
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        response = await http.post(
            "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {secret}"}
        )
    assert response.status_code == 200
    # 96 bytes of JSON at 4 a token (24) plus 3 choices of 10 tokens
    assert response.headers["x-ratelimit-remaining-tokens"] == str(10_000 - 24 - 30)


async def test_tokens_per_minute_count_the_prompt_and_max_tokens(
    gateway: Gateway, admin: Admin
) -> None:
    _, secret = await admin.client_with_key(tpm_limit=100)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        assert (await _call(http, secret, max_tokens=60)).status_code == 200
        refused = await _call(http, secret, max_tokens=60)
        too_big = await _call(http, secret, max_tokens=500)
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "tokens"
    assert "x-ratelimit-limit-requests" not in refused.headers
    assert too_big.status_code == 429


async def test_keys_without_limits_carry_no_headers_and_changes_apply_at_once(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        free = await _call(http, secret)
        [key] = await admin.container.keys().for_client(client_id)
        await admin.container.keys().set_rate_limits(key.id, 1, None)
        limited = [await _call(http, secret) for _ in range(2)]
    assert free.status_code == 200
    assert not any(h.startswith("x-ratelimit") for h in free.headers)
    assert [r.status_code for r in limited] == [200, 429]
