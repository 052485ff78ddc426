"""Gemini's native API through the official google-genai SDK: relayed untranslated to Google
models (the strict fake), translated for the demo model, each call leaving one usage record
whose cost is exact; errors in Google's format, the client's key never forwarded."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from google.genai import errors, types

from domain.billing.money import Money
from domain.metering.usage import CallStatus, UsageSource
from domain.usecases.budgets import BudgetInput
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.api.test_fallbacks_and_streams import _usage_when_settled
from tests.upstreams import billing
from tests.upstreams.openai_fake import openai_usage

M = Decimal(1_000_000)
# google/gemini-2.5-flash: input 0.30, cached input 0.03, output 2.50 per million
FLASH_COST = (8 * Decimal("0.30") + 4 * Decimal("0.03") + 12 * Decimal("2.50")) / M


def _script(upstreams: Upstreams) -> None:
    script = upstreams.gemini
    script.reply, script.chunks = "a b c d e f", 3
    script.prompt_tokens, script.output_tokens = 12, 7
    script.thoughts_tokens, script.cached_tokens = 5, 4


async def test_generate_content_is_relayed_natively_and_billed_exactly(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    _script(upstreams)

    answer = sdks.gemini(secret).models.generate_content(
        model="gemini-2.5-flash",
        contents="Letters",
        config=types.GenerateContentConfig(system_instruction="Be brief", max_output_tokens=50),
    )

    assert answer.text == "a b c d e f"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.thoughts_token_count == 5
    [record] = await admin.usage(client_id)
    assert record.model_id == "google/gemini-2.5-flash"
    assert record.cost == Money(FLASH_COST)
    assert (record.usage.input_tokens, record.usage.cached_input_tokens) == (12, 4)
    assert (record.usage.output_tokens, record.usage.reasoning_tokens) == (12, 5)
    sent = upstreams.gemini.last
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.body["systemInstruction"]["parts"] == [{"text": "Be brief"}]
    assert sent.body["generationConfig"] == {"maxOutputTokens": 50}
    assert sent.header("x-goog-api-key") == upstreams.gemini.api_key
    assert secret not in str(sent.headers)
    assert "key" not in sent.query


async def test_a_native_stream_is_billed_once_from_the_last_cumulative_report(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    _script(upstreams)

    chunks = list(
        sdks.gemini(secret, "v1").models.generate_content_stream(
            model="models/gemini-2.5-flash", contents="Letters"
        )
    )

    assert "".join(c.text or "" for c in chunks) == "a b c d e f"
    last = chunks[-1].usage_metadata
    assert last is not None
    assert last.candidates_token_count == 7
    [record] = await admin.usage(client_id)
    assert record.cost == Money(FLASH_COST)
    assert record.source is UsageSource.REPORTED
    assert upstreams.gemini.last.query == "alt=sse"


async def test_count_tokens_is_relayed_and_not_metered(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()

    counted = sdks.gemini(secret).models.count_tokens(model="gemini-2.5-flash", contents="Hello")

    contents = [{"role": "user", "parts": [{"text": "Hello"}]}]
    assert upstreams.gemini.last.body == {"contents": contents}
    assert counted.total_tokens == billing.gemini_prompt_tokens({"contents": contents})
    assert upstreams.gemini.last.path.endswith("gemini-2.5-flash:countTokens")
    assert await admin.usage(client_id) == []


async def test_embed_content_is_relayed_natively_and_billed_at_the_estimate(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()

    answer = sdks.gemini(secret).models.embed_content(
        model="gemini-embedding-001", contents=["hello world", "abc"]
    )

    assert answer.embeddings is not None
    assert [e.values[:2] for e in answer.embeddings if e.values] == [[11.0, 0.0], [3.0, 1.0]]
    sent = upstreams.gemini.last.body
    assert [r["model"] for r in sent["requests"]] == ["models/gemini-embedding-001"] * 2
    [record] = await admin.usage(client_id)
    assert record.source is UsageSource.ESTIMATED
    assert record.usage.input_tokens == 3 + 1  # ceil(11 / 4) + ceil(3 / 4)
    assert record.cost == Money(4 * Decimal("0.15") / M)


async def test_the_demo_model_answers_through_translation(
    sdks: Sdks, gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    client = sdks.gemini(secret)

    answer = client.models.generate_content(model="demo/chat", contents="Hello")
    streamed = list(client.models.generate_content_stream(model="demo/chat", contents="Hello"))
    counted = client.models.count_tokens(model="demo/chat", contents="Hello")
    embedded = client.models.embed_content(model="demo/embed", contents=["one", "two"])

    assert answer.text
    assert "".join(c.text for c in streamed if c.text is not None) == answer.text
    assert all(c.text is not None for c in streamed)  # as from Google: "" at the end
    assert answer.usage_metadata is not None
    records = await admin.usage(client_id)
    assert len(records) == 3  # generate, stream, embed: counting is free
    chats = [r for r in records if r.model_id == "demo/chat"]
    assert chats[0].usage == chats[1].usage
    assert answer.usage_metadata.candidates_token_count == chats[0].usage.output_tokens
    assert answer.usage_metadata.prompt_token_count == chats[0].usage.input_tokens
    expected = chats[0].usage.input_tokens * Decimal("0.50") + chats[
        0
    ].usage.output_tokens * Decimal("1.50")
    assert all(r.cost == Money(expected / M) for r in chats)
    last = streamed[-1].usage_metadata
    assert last is not None
    assert last.candidates_token_count == chats[1].usage.output_tokens
    assert counted.total_tokens is not None
    assert counted.total_tokens > 0
    assert embedded.embeddings is not None
    assert len(embedded.embeddings) == 2


async def test_a_bad_key_is_refused_in_googles_format(sdks: Sdks, gateway: Gateway) -> None:
    with pytest.raises(errors.ClientError) as raised:
        sdks.gemini("bzk_live_not-a-real-key-000000").models.generate_content(
            model="demo/chat", contents="Hi"
        )

    assert raised.value.code == 401
    assert raised.value.status == "UNAUTHENTICATED"


async def test_a_hard_budget_refuses_before_the_provider_is_called(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal("0.0001")))

    with pytest.raises(errors.ClientError) as raised:
        sdks.gemini(secret).models.generate_content(model="gemini-2.5-flash", contents="Hi")

    assert raised.value.code == 429
    assert raised.value.status == "RESOURCE_EXHAUSTED"
    assert upstreams.gemini.requests == []
    assert await admin.usage(client_id) == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"contents": "Hi"}',
        b'{"contents": []}',
        b'{"contents": [{"parts": "x"}]}',
        b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"maxOutputTokens": "9"}}',
        b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": []}',
        b'{"contents": [{"parts": [{"text": "x"}]}], "tools": {"a": 1}}',
    ],
)
async def test_malformed_input_is_a_400_in_googles_format(
    gateway: Gateway, admin: Admin, body: bytes
) -> None:
    _, secret = await admin.client_with_key()
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.post(
            "/v1beta/models/demo/chat:generateContent",
            content=body,
            headers={"x-goog-api-key": secret, "content-type": "application/json"},
        )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert response.headers["x-request-id"]


async def test_the_key_in_the_query_is_accepted_and_never_forwarded(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.post(
            "/v1beta/models/gemini-2.5-flash:generateContent", params={"key": secret}, json=body
        )
        unknown = await http.post(
            "/v1beta/models/gemini-2.5-flash:unknownMethod", params={"key": secret}, json=body
        )

    assert response.status_code == 200, response.text
    assert upstreams.gemini.last.query == ""
    assert len(upstreams.gemini.requests) == 1
    assert unknown.status_code == 404
    assert unknown.json()["error"]["status"] == "NOT_FOUND"
    assert len(await admin.usage(client_id)) == 1


async def test_an_openai_model_gets_the_request_translated_with_its_tools(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.reply = "It is sunny"
    upstreams.openai.usage = openai_usage(40, 5, cached=10)
    weather = types.FunctionDeclaration(
        name="weather",
        description="Weather in a city",
        parameters=types.Schema(
            type=types.Type.OBJECT, properties={"city": types.Schema(type=types.Type.STRING)}
        ),
    )
    contents = [
        types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
        types.Content(
            role="model",
            parts=[
                types.Part(function_call=types.FunctionCall(name="weather", args={"city": "Paris"}))
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        name="weather", response={"sky": "sun"}
                    )
                )
            ],
        ),
    ]

    answer = sdks.gemini(secret).models.generate_content(
        model="openai/gpt-4o-mini",
        contents=contents,
        config=types.GenerateContentConfig(
            system_instruction="Be brief",
            tools=[types.Tool(function_declarations=[weather])],
            temperature=0.5,
            top_p=0.9,
            stop_sequences=["END"],
            max_output_tokens=30,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        ),
    )

    assert answer.text == "It is sunny"
    sent = upstreams.openai.last.body
    assert sent["messages"][0] == {"role": "system", "content": "Be brief"}
    call = sent["messages"][2]["tool_calls"][0]
    assert call["function"] == {"name": "weather", "arguments": '{"city":"Paris"}'}
    assert sent["messages"][3] == {
        "role": "tool",
        "tool_call_id": call["id"],
        "content": '{"sky":"sun"}',
    }
    assert sent["tools"][0]["function"]["parameters"]["type"] == "object"
    assert (sent["temperature"], sent["top_p"], sent["stop"]) == (0.5, 0.9, ["END"])
    assert sent.get("max_tokens", sent.get("max_completion_tokens")) == 30
    [record] = await admin.usage(client_id)
    assert record.cost == Money(
        (30 * Decimal("0.15") + 10 * Decimal("0.075") + 5 * Decimal("0.60")) / M
    )
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.cached_content_token_count == 10


async def test_idempotency_and_the_body_limit_hold_on_gemini_routes(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    headers = {"x-goog-api-key": secret, "idempotency-key": "gem-1"}
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        first = await http.post(path, json=body, headers=headers)
        again = await http.post(path, json=body, headers=headers)
        huge = await http.post(
            path, content=b"x" * (gateway.settings.max_body_bytes + 1), headers=headers
        )

    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(upstreams.gemini.requests) == 1
    assert len(await admin.usage(client_id)) == 1
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == 413


async def test_a_client_that_leaves_a_native_stream_is_billed_what_google_billed(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.gemini
    script.reply, script.chunks, script.chunk_delay = "w " * 20, 10, 0.05
    script.prompt_tokens, script.output_tokens = 50, 40
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}

    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as http,
        http.stream(
            "POST",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            json=body,
            headers={"x-goog-api-key": secret},
        ) as response,
    ):
        async for _ in response.aiter_lines():
            break  # the client reads one line and goes away

    [record] = await _usage_when_settled(admin, client_id)
    assert record.source is UsageSource.REPORTED
    assert (record.usage.input_tokens, record.usage.output_tokens) == (50, 40)
    assert record.cost == Money((50 * Decimal("0.30") + 40 * Decimal("2.50")) / M)


async def test_a_native_stream_failing_midway_ends_with_googles_error_and_bills_once(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.gemini
    script.reply, script.chunks = "a b c", 3
    script.stream_error = {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}

    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        response = await http.post(
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            json=body,
            headers={"x-goog-api-key": secret},
        )

    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert len(events) == 2
    assert json.loads(events[-1])["error"]["status"] == "UNAVAILABLE"  # the provider failed: 502
    [record] = await _usage_when_settled(admin, client_id)
    assert record.status is CallStatus.FAILED


async def test_rate_limits_answer_resource_exhausted(
    sdks: Sdks, gateway: Gateway, admin: Admin
) -> None:
    _, secret = await admin.client_with_key(rpm_limit=1)
    client = sdks.gemini(secret)
    client.models.generate_content(model="demo/chat", contents="Hi")

    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model="demo/chat", contents="Hi")

    assert raised.value.code == 429
    assert raised.value.status == "RESOURCE_EXHAUSTED"


async def test_an_idempotency_key_is_bound_to_the_model_in_the_url_too(
    gateway: Gateway, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    headers = {"x-goog-api-key": secret, "idempotency-key": "gem-2"}
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        first = await http.post(
            "/v1beta/models/demo/chat:generateContent", json=body, headers=headers
        )
        other = await http.post(
            "/v1beta/models/openai/gpt-4o-mini:generateContent", json=body, headers=headers
        )
        embed = await http.post(
            "/v1beta/models/demo/chat:embedContent",
            json={"content": {"parts": [{"text": "x"}]}},
            headers={"x-goog-api-key": secret},
        )

    assert first.status_code == 200
    assert other.status_code == 422  # reused with another request: never the first's answer
    assert other.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert embed.status_code == 400
    assert ":generateContent" in embed.json()["error"]["message"]


@pytest.mark.parametrize(
    ("model", "native"), [("gemini-embedding-001", True), ("demo/embed", False)]
)
async def test_a_single_embed_content_is_served_natively_and_translated(
    gateway: Gateway, upstreams: Upstreams, admin: Admin, model: str, native: bool
) -> None:
    client_id, secret = await admin.client_with_key()
    body = {"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 3}
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.post(
            f"/v1/models/{model}:embedContent", json=body, headers={"x-goog-api-key": secret}
        )

    assert response.status_code == 200, response.text
    values = response.json()["embedding"]["values"]
    assert len(values) == 3
    [record] = await admin.usage(client_id)
    if native:
        assert values == [5.0, 0.0, 0.25]
        assert upstreams.gemini.last.path == "/v1beta/models/gemini-embedding-001:embedContent"
        assert record.usage.input_tokens == 2  # ceil(5 / 4), an estimate
        assert record.source is UsageSource.ESTIMATED
    else:
        assert upstreams.gemini.requests == []
        assert record.model_id == "demo/embed"
