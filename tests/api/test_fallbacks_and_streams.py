"""Fallbacks before the first byte, and billing that survives a client leaving mid-stream."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import openai

from domain.billing.money import Money
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.upstreams.anthropic_fake import AnthropicScript

M = Decimal(1_000_000)
HELLO = [{"role": "user", "content": "Hello"}]


async def test_a_failing_model_falls_back_and_each_attempt_is_recorded_once(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.status = 503
    upstreams.anthropic.enqueue(
        AnthropicScript(text="Fallback here", input_tokens=10, output_tokens=5)
    )
    client = sdks.openai(secret)

    raw = client.chat.completions.with_raw_response.create(model="openai/flaky", messages=HELLO)  # type: ignore[arg-type]

    answer = raw.parse()
    assert answer.choices[0].message.content == "Fallback here"
    assert answer.model == "anthropic/claude-haiku-4-5"
    assert raw.headers["x-bizgraph-model"] == "anthropic/claude-haiku-4-5"
    first, second = sorted(await admin.usage(client_id), key=lambda r: r.attempt)
    assert (first.model_id, first.status, first.cost) == (
        "openai/flaky",
        CallStatus.FAILED,
        Money(Decimal(0)),
    )
    assert (second.attempt, second.model_id, second.status) == (
        2,
        "anthropic/claude-haiku-4-5",
        CallStatus.SUCCEEDED,
    )
    assert second.cost == Money((10 * Decimal(1) + 5 * Decimal(5)) / M)
    assert first.request_id == second.request_id == raw.headers["x-request-id"]


async def test_streams_fall_back_too_before_any_byte(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.status = 500
    upstreams.anthropic.enqueue(AnthropicScript(text="Streamed fallback", output_tokens=3))
    client = sdks.openai(secret)

    chunks = list(
        client.chat.completions.create(
            model="openai/flaky",
            messages=HELLO,  # type: ignore[arg-type]
            stream=True,
        )
    )

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Streamed fallback"
    )
    statuses = sorted((r.attempt, r.status) for r in await admin.usage(client_id))
    assert statuses == [(0, CallStatus.FAILED), (2, CallStatus.SUCCEEDED)]


async def _usage_when_settled(admin: Admin, client_id: str) -> list[UsageRecord]:
    for _ in range(100):
        records = await admin.usage(client_id)
        if records:
            return records
        await asyncio.sleep(0.1)
    raise AssertionError("the call was never settled")


async def test_a_client_that_leaves_mid_stream_is_billed_what_the_provider_billed(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.gemini
    script.reply, script.chunks, script.chunk_delay = "w " * 20, 10, 0.1
    script.prompt_tokens, script.output_tokens = 50, 40

    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        request = {"model": "google/gemini-2.5-flash", "messages": HELLO, "stream": True}
        async with http.stream(
            "POST",
            "/v1/chat/completions",
            json=request,
            headers={"authorization": f"Bearer {secret}"},
        ) as response:
            async for _ in response.aiter_lines():
                break  # the client reads one line and goes away

    [record] = await _usage_when_settled(admin, client_id)
    assert record.source is UsageSource.REPORTED
    assert (record.usage.input_tokens, record.usage.output_tokens) == (50, 40)
    assert record.cost == Money((50 * Decimal("0.30") + 40 * Decimal("2.50")) / M)


async def test_a_stream_cut_by_the_provider_is_estimated_and_capped(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.openai
    script.reply, script.break_after, script.usage = "word " * 50, 3, None

    client = sdks.openai(secret)
    received = []
    try:
        for chunk in client.chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=HELLO,
            stream=True,
            max_tokens=2,  # type: ignore[arg-type]
        ):
            received.append(chunk)
    except openai.APIError:
        pass

    [record] = await _usage_when_settled(admin, client_id)
    assert record.source is UsageSource.ESTIMATED
    assert record.status is CallStatus.FAILED
    assert 0 < record.usage.output_tokens <= 2
