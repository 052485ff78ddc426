"""Each provider through the official SDKs: the right content, and exactly one usage record
whose cost equals tokens x catalog prices to the last digit."""

from __future__ import annotations

from decimal import Decimal

from domain.billing.money import Money
from domain.metering.usage import CallStatus, UsageSource
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.upstreams.anthropic_fake import AnthropicScript
from tests.upstreams.openai_fake import openai_usage

M = Decimal(1_000_000)
MARGIN = Decimal("1.3")  # the default test plan: percentage_margin(30)


async def test_openai_cached_tokens_are_billed_at_the_cached_price(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.reply = "Bonjour"
    upstreams.openai.usage = openai_usage(1000, 300, cached=400, reasoning=100)

    answer = sdks.openai(secret).chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}]
    )

    assert answer.choices[0].message.content == "Bonjour"
    [record] = await admin.usage(client_id)
    cost = (600 * Decimal("0.15") + 400 * Decimal("0.075") + 300 * Decimal("0.60")) / M
    assert record.cost == Money(cost)
    assert record.charge == Money(cost * MARGIN)
    assert (record.usage.input_tokens, record.usage.cached_input_tokens) == (1000, 400)
    assert (record.usage.output_tokens, record.usage.reasoning_tokens) == (300, 100)
    assert record.source is UsageSource.REPORTED
    [entry] = await admin.ledger(client_id)
    assert entry.amount == record.charge


async def test_a_reasoning_price_replaces_the_output_price_for_reasoning_tokens(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.usage = openai_usage(1000, 300, cached=400, reasoning=100)

    sdks.openai(secret).chat.completions.create(
        model="openai/reasoner", messages=[{"role": "user", "content": "Think"}]
    )

    [record] = await admin.usage(client_id)
    cost = (
        600 * Decimal("1.1") + 400 * Decimal("0.275") + 200 * Decimal("4.4") + 100 * Decimal("3.3")
    ) / M
    assert record.cost == Money(cost)


async def test_openai_stream_passes_the_usage_chunk_only_when_asked(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.reply = "one two three"
    upstreams.openai.usage = openai_usage(20, 3)
    messages = [{"role": "user", "content": "Count"}]
    client = sdks.openai(secret)

    plain = list(
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=messages, stream=True)
    )  # type: ignore[arg-type]
    with_usage = list(
        client.chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=messages,
            stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in plain if c.choices)
    assert text == "one two three"
    assert all(c.usage is None for c in plain)
    assert with_usage[-1].usage is not None
    assert with_usage[-1].usage.prompt_tokens == 20
    assert upstreams.openai.last.body["stream_options"] == {"include_usage": True}
    records = await admin.usage(client_id)
    assert len(records) == 2
    assert all(r.cost == Money((20 * Decimal("0.15") + 3 * Decimal("0.60")) / M) for r in records)


async def test_anthropic_through_the_openai_format_bills_each_cache_class_once(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(
        AnthropicScript(
            text="Hi from Claude", input_tokens=12, cache_read=100, cache_write=50, output_tokens=7
        )
    )

    answer = sdks.openai(secret).chat.completions.create(
        model="anthropic/claude-sonnet-4-5",
        messages=[{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}],
    )

    assert answer.choices[0].message.content == "Hi from Claude"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == 162
    [record] = await admin.usage(client_id)
    cost = (12 * Decimal(3) + 100 * Decimal("0.30") + 50 * Decimal("3.75") + 7 * Decimal(15)) / M
    assert record.cost == Money(cost)
    assert record.usage.input_tokens == 162
    sent = upstreams.anthropic.requests[-1]
    assert sent.body["system"] in ("Be brief", [{"type": "text", "text": "Be brief"}])
    assert sent.headers["x-api-key"] == upstreams.anthropic.api_key


async def test_gemini_stream_is_billed_from_the_last_cumulative_report(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.gemini
    script.reply, script.chunks = "a b c d e f", 3
    script.prompt_tokens, script.output_tokens = 12, 7
    script.thoughts_tokens, script.cached_tokens = 5, 4

    chunks = list(
        sdks.openai(secret).chat.completions.create(
            model="google/gemini-2.5-flash",
            messages=[{"role": "user", "content": "Letters"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "a b c d e f"
    [record] = await admin.usage(client_id)
    cost = (8 * Decimal("0.30") + 4 * Decimal("0.03") + 12 * Decimal("2.50")) / M
    assert record.cost == Money(cost)
    assert (record.usage.output_tokens, record.usage.reasoning_tokens) == (12, 5)
    assert "key" not in script.last.query if hasattr(script.last, "query") else True


async def test_the_anthropic_sdk_on_v1_messages_is_relayed_natively(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(
        AnthropicScript(text="Native", input_tokens=30, cache_read=10, output_tokens=4),
        AnthropicScript(text="Native stream", input_tokens=30, output_tokens=6),
    )
    client = sdks.anthropic(secret)

    message = client.messages.create(
        model="anthropic/claude-sonnet-4-5",
        max_tokens=100,
        messages=[{"role": "user", "content": "Hello"}],
    )
    with client.messages.stream(
        model="anthropic/claude-sonnet-4-5",
        max_tokens=100,
        messages=[{"role": "user", "content": "Hello"}],
    ) as stream:
        streamed = stream.get_final_text()

    assert message.content[0].text == "Native"  # type: ignore[union-attr]
    assert message.usage.cache_read_input_tokens == 10
    assert streamed == "Native stream"
    records = sorted(await admin.usage(client_id), key=lambda r: r.usage.output_tokens)
    assert [r.usage.input_tokens for r in records] == [40, 30]
    assert records[0].cost == Money((30 * Decimal(3) + 10 * Decimal("0.30") + 4 * Decimal(15)) / M)
    assert records[1].cost == Money((30 * Decimal(3) + 6 * Decimal(15)) / M)
    assert all(
        r.headers.get("x-api-key") == upstreams.anthropic.api_key
        for r in upstreams.anthropic.requests
    )


async def test_the_anthropic_sdk_reaches_the_demo_model_through_translation(
    sdks: Sdks, gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    client = sdks.anthropic(secret)

    message = client.messages.create(
        model="demo/chat", max_tokens=200, messages=[{"role": "user", "content": "Hello"}]
    )
    with client.messages.stream(
        model="demo/chat", max_tokens=200, messages=[{"role": "user", "content": "Hello"}]
    ) as stream:
        streamed = stream.get_final_text()

    assert message.content[0].text  # type: ignore[union-attr]
    assert streamed == message.content[0].text  # type: ignore[union-attr]
    records = await admin.usage(client_id)
    assert len(records) == 2
    assert records[0].usage == records[1].usage
    assert message.usage.output_tokens == records[0].usage.output_tokens


async def test_embeddings_are_metered(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()

    result = sdks.openai(secret).embeddings.create(
        model="openai/text-embedding-3-small", input=["hello", "world"]
    )

    assert len(result.data) == 2
    [record] = await admin.usage(client_id)
    assert record.status is CallStatus.SUCCEEDED
    tokens = record.usage.input_tokens
    assert tokens > 0
    assert record.cost == Money(tokens * Decimal("0.02") / M)
