"""`POST /v1/responses` through the official openai SDK (`responses.create`, `create(stream=
True)`, `responses.stream()`), translated to each provider: the right output, and exactly one
usage record per call whose cost equals tokens x catalog prices to the last digit."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from domain.billing.money import Money
from domain.metering.usage import CallStatus, UsageSource
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.api.test_budget_bounds import assert_nothing_spent, assert_refused, budgeted, post
from tests.upstreams.anthropic_fake import AnthropicScript, ToolCall
from tests.upstreams.openai_fake import openai_usage

M = Decimal(1_000_000)
SONNET = "anthropic/claude-sonnet-4-5"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def sonnet_cost(uncached: int, cache_read: int, output: int) -> Money:
    return Money((uncached * Decimal(3) + cache_read * Decimal("0.30") + output * Decimal(15)) / M)


async def test_the_demo_model_answers_all_three_sdk_calls(sdks: Sdks, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    client = sdks.openai(secret)
    asked: dict[str, Any] = {"model": "demo/chat", "input": "Hello", "instructions": "Be kind"}

    plain = client.responses.create(**asked)
    events = list(client.responses.create(**asked, stream=True))
    with client.responses.stream(**asked) as stream:
        final = stream.get_final_response()

    assert plain.status == "completed"
    assert plain.output_text
    assert plain.id.startswith("resp_")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == plain.output_text == final.output_text
    records = await admin.usage(client_id)
    assert len(records) == 3
    assert plain.usage is not None
    assert {r.usage.output_tokens for r in records} == {plain.usage.output_tokens}
    assert records[0].usage.input_tokens == plain.usage.input_tokens


async def test_anthropic_is_translated_and_billed_exactly(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(
        AnthropicScript(text="Hi from Claude", input_tokens=12, cache_read=100, output_tokens=7),
        AnthropicScript(text="Streamed Claude", input_tokens=20, output_tokens=5),
    )
    client = sdks.openai(secret)
    user_turn = {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}

    answer = client.responses.create(
        model=SONNET,
        instructions="Be brief",
        input=[user_turn],  # type: ignore[list-item]
        max_output_tokens=50,
        temperature=0.2,
    )
    with client.responses.stream(model=SONNET, input="Hi again") as stream:
        streamed = stream.get_final_response()

    assert answer.output_text == "Hi from Claude"
    assert answer.usage is not None
    assert (answer.usage.input_tokens, answer.usage.input_tokens_details.cached_tokens) == (
        112,
        100,
    )
    assert answer.usage.output_tokens == 7
    assert streamed.output_text == "Streamed Claude"
    assert streamed.usage is not None
    assert streamed.usage.total_tokens == 25
    first, second = upstreams.anthropic.requests
    assert first.body["system"] in ("Be brief", [{"type": "text", "text": "Be brief"}])
    assert (first.body["max_tokens"], first.body["temperature"]) == (50, 0.2)
    assert second.body["stream"] is True
    records = sorted(await admin.usage(client_id), key=lambda r: r.usage.output_tokens)
    assert [r.cost for r in records] == [sonnet_cost(20, 0, 5), sonnet_cost(12, 100, 7)]
    assert all(r.source is UsageSource.REPORTED for r in records)


async def test_a_function_call_round_trip(sdks: Sdks, upstreams: Upstreams, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(
        AnthropicScript(text="", tool=ToolCall("get_weather", {"city": "Paris"}, "toolu_01Paris")),
        AnthropicScript(text="Sunny in Paris"),
    )
    client = sdks.openai(secret)

    asked = client.responses.create(
        model=SONNET,
        input="Weather in Paris?",
        tools=[TOOL],  # type: ignore[list-item]
        tool_choice="auto",
    )
    [call] = asked.output
    assert call.type == "function_call"
    assert (call.name, json.loads(call.arguments), call.call_id) == (
        "get_weather",
        {"city": "Paris"},
        "toolu_01Paris",
    )
    answered = client.responses.create(
        model=SONNET,
        tools=[TOOL],  # type: ignore[list-item]
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            call.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )

    assert answered.output_text == "Sunny in Paris"
    turns = upstreams.anthropic.requests[-1].body["messages"]
    assert turns[1]["content"][-1]["type"] == "tool_use"
    assert turns[1]["content"][-1]["id"] == "toolu_01Paris"
    assert turns[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "toolu_01Paris",
        "content": "sunny",
    }
    assert len(await admin.usage(client_id)) == 2


async def test_a_streamed_function_call_comes_as_its_events(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(
        AnthropicScript(text="Let me look.", tool=ToolCall("get_weather", {"city": "Oslo"}))
    )

    with sdks.openai(secret).responses.stream(
        model=SONNET,
        input="Weather in Oslo?",
        tools=[TOOL],  # type: ignore[list-item]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()

    assert [item.type for item in final.output] == ["message", "function_call"]
    assert final.output_text == "Let me look."
    call = final.output[1]
    assert call.type == "function_call"
    assert json.loads(call.arguments) == {"city": "Oslo"}
    assert "response.function_call_arguments.delta" in kinds
    assert "response.function_call_arguments.done" in kinds
    assert kinds.count("response.output_item.done") == 2


async def test_the_output_limit_makes_the_response_incomplete(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(
        AnthropicScript(text="Cut", stop_reason="max_tokens"),
        AnthropicScript(text="Cut", stop_reason="max_tokens"),
    )
    client = sdks.openai(secret)

    answer = client.responses.create(model=SONNET, input="Long story", max_output_tokens=16)
    events = list(client.responses.create(model=SONNET, input="Long", stream=True))

    assert answer.status == "incomplete"
    assert answer.incomplete_details is not None
    assert answer.incomplete_details.reason == "max_output_tokens"
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.incomplete_details is not None
    assert last.response.incomplete_details.reason == "max_output_tokens"


async def test_a_gemini_stream_is_billed_once(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.gemini
    script.reply, script.chunks = "a b c d e f", 3
    script.prompt_tokens, script.output_tokens = 12, 7
    script.thoughts_tokens, script.cached_tokens = 5, 4

    events = list(
        sdks.openai(secret).responses.create(
            model="google/gemini-2.5-flash", input="Letters", stream=True
        )
    )
    plain = sdks.openai(secret).responses.create(model="google/gemini-2.5-flash", input="Again")

    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "a b c d e f" == plain.output_text
    completed = events[-1]
    assert completed.type == "response.completed"
    usage = completed.response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.input_tokens_details.cached_tokens) == (12, 4)
    assert (usage.output_tokens, usage.output_tokens_details.reasoning_tokens) == (12, 5)
    records = await admin.usage(client_id)
    assert len(records) == 2  # one for the stream (not one per cumulative chunk), one plain
    cost = Money((8 * Decimal("0.30") + 4 * Decimal("0.03") + 12 * Decimal("2.50")) / M)
    assert [r.cost for r in records] == [cost, cost]


@pytest.mark.parametrize(
    ("model", "limit"),
    # 20,000 prompt tokens with margin: 0.078 on Sonnet (translated), 0.0039 on gpt-4o-mini
    # (relayed natively)
    [(SONNET, "0.01"), ("openai/gpt-4o-mini", "0.001")],
)
async def test_a_hard_budget_refuses_before_the_provider_is_called(
    gateway: Gateway, upstreams: Upstreams, admin: Admin, model: str, limit: str
) -> None:
    client_id, secret = await budgeted(admin, limit)
    big = "y" * 20_000
    body = {
        "model": model,
        "max_output_tokens": 10,
        "instructions": "be brief",
        "tools": [{**TOOL, "description": big}],
        "input": "hi",
    }

    response = await post(gateway, secret, "/v1/responses", body)

    assert_refused(response)
    assert upstreams.anthropic.requests == []
    assert upstreams.openai.requests == []
    await assert_nothing_spent(admin, client_id)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": 42}, "input"),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"input": [{"role": "user", "content": [{"type": "input_text"}]}]}, None),
        ({"input": [{"type": "reasoning", "summary": []}]}, "input[0].type"),
        ({"input": "x", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"input": "x", "background": True}, "background"),
        ({"input": "x", "conversation": "conv_1"}, "conversation"),
        ({"input": "x", "prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"input": "x", "tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"input": "x", "tools": {"type": "function"}}, "tools"),
        ({"input": "x", "tool_choice": {"type": "file_search"}}, "tool_choice"),
        ({"input": "x", "max_output_tokens": "10"}, None),
        ({"input": "x", "temperature": "hot"}, "temperature"),
        ({"input": "x", "store": "yes"}, "store"),
        ({"input": "x", "instructions": ["a"]}, "instructions"),
    ],
)
async def test_malformed_requests_get_a_400_naming_the_parameter(
    gateway: Gateway, upstreams: Upstreams, admin: Admin, body: dict[str, Any], param: str | None
) -> None:
    client_id, secret = await admin.client_with_key()

    response = await post(gateway, secret, "/v1/responses", {"model": SONNET, **body})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param
    assert upstreams.anthropic.requests == []
    assert await admin.usage(client_id) == []


async def test_store_is_accepted_but_nothing_is_kept(sdks: Sdks, admin: Admin) -> None:
    _, secret = await admin.client_with_key()
    client = sdks.openai(secret)

    answer = client.responses.create(model="demo/chat", input="Hi", store=True)

    assert answer.store is False
    with pytest.raises(openai.NotFoundError, match="does not store responses"):
        client.responses.retrieve(answer.id)
    with pytest.raises(openai.NotFoundError, match="does not store responses"):
        client.responses.delete(answer.id)


async def test_an_unknown_key_is_refused_in_openai_format(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.post(
            "/v1/responses",
            json={"model": "demo/chat", "input": "hi"},
            headers={"authorization": "Bearer bzk_wrong"},
        )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response.headers["x-request-id"]


async def test_an_idempotency_key_bills_a_response_once(gateway: Gateway, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    body = {"model": "demo/chat", "input": "Hello"}
    headers = {"authorization": f"Bearer {secret}", "idempotency-key": "resp-once-1"}

    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        first = await http.post("/v1/responses", json=body, headers=headers)
        again = await http.post("/v1/responses", json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert first.headers["x-request-id"].startswith("req_")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(await admin.usage(client_id)) == 1


# --- OpenAI: relayed natively --------------------------------------------------------------


def test_the_fake_speaks_the_responses_api_to_the_official_sdk(upstreams: Upstreams) -> None:
    upstreams.openai.reply = "straight from the fake"
    with openai.OpenAI(
        base_url=upstreams.urls["openai"] + "/v1", api_key=upstreams.openai.api_key, max_retries=0
    ) as client:
        plain = client.responses.create(model="gpt-4o-mini", input="hi")
        with client.responses.stream(model="gpt-4o-mini", input="hi") as stream:
            final = stream.get_final_response()

    assert plain.output_text == final.output_text == "straight from the fake"
    assert final.usage is not None
    assert final.usage.input_tokens == 12


async def test_openai_is_relayed_natively_and_billed_by_class(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.reply = "Native answer"
    upstreams.openai.usage = openai_usage(1000, 300, cached=400, reasoning=100)
    client = sdks.openai(secret)

    plain = client.responses.create(model="openai/gpt-4o-mini", input="Think", store=True)
    with client.responses.stream(model="openai/gpt-4o-mini", input="Think") as stream:
        final = stream.get_final_response()

    assert plain.output_text == final.output_text == "Native answer"
    assert plain.model == final.model == "openai/gpt-4o-mini"
    sent = [r for r in upstreams.openai.requests if r.path == "/v1/responses"]
    assert len(sent) == 2
    assert all(r.body is not None and r.body["model"] == "gpt-4o-mini" for r in sent)
    assert all(r.body is not None and r.body["store"] is False for r in sent)
    assert all(r.header("authorization") == f"Bearer {upstreams.openai.api_key}" for r in sent)
    records = await admin.usage(client_id)
    assert len(records) == 2
    cost = (600 * Decimal("0.15") + 400 * Decimal("0.075") + 300 * Decimal("0.60")) / M
    assert [r.cost for r in records] == [Money(cost), Money(cost)]
    assert all(
        (r.usage.input_tokens, r.usage.cached_input_tokens, r.usage.reasoning_tokens)
        == (1000, 400, 100)
        for r in records
    )


async def test_a_native_call_refuses_state_before_the_provider(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()

    response = await post(
        gateway,
        secret,
        "/v1/responses",
        {"model": "openai/gpt-4o-mini", "input": "x", "previous_response_id": "resp_other"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "previous_response_id"
    assert upstreams.openai.requests == []
    assert await admin.usage(client_id) == []


async def test_a_model_with_a_fallback_elsewhere_is_translated(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    _, secret = await admin.client_with_key()
    upstreams.openai.reply = "Through chat"

    answer = sdks.openai(secret).responses.create(model="openai/reasoner", input="Think")

    assert answer.output_text == "Through chat"
    assert [r.path for r in upstreams.openai.requests] == ["/v1/chat/completions"]


async def test_a_native_stream_broken_upstream_ends_with_an_error_event_billed_once(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.openai.reply = "one two three four"
    upstreams.openai.break_after = 2

    events = list(
        sdks.openai(secret).responses.create(model="openai/gpt-4o-mini", input="x", stream=True)
    )

    assert [e.delta for e in events if e.type == "response.output_text.delta"] == ["one", " two"]
    last = events[-1]
    assert last.type == "error"
    assert last.sequence_number == events[-2].sequence_number + 1
    [record] = await admin.usage(client_id)
    assert record.status is CallStatus.FAILED
    assert record.source is UsageSource.ESTIMATED
    assert record.usage.output_tokens > 0


async def test_a_translated_stream_broken_upstream_ends_with_response_failed(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    upstreams.anthropic.enqueue(AnthropicScript(text="one two three four", drop_after=4))

    events = list(sdks.openai(secret).responses.create(model=SONNET, input="x", stream=True))

    last = events[-1]
    assert last.type == "response.failed"
    assert last.response.error is not None
    assert last.response.error.code == "server_error"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    [record] = await admin.usage(client_id)
    assert record.status is CallStatus.FAILED


async def test_a_client_that_hangs_up_is_billed_what_gemini_billed(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.gemini
    script.reply, script.chunks, script.chunk_delay = "a b c d e f", 3, 0.2
    script.prompt_tokens, script.output_tokens = 12, 7
    body = {"model": "google/gemini-2.5-flash", "input": "Letters", "stream": True}

    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
        http.stream(
            "POST", "/v1/responses", json=body, headers={"authorization": f"Bearer {secret}"}
        ) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if "response.output_text.delta" in line:
                break  # hang up after the first words

    records = []
    for _ in range(100):  # the drain settles after the upstream ends
        if records := await admin.usage(client_id):
            break
        await asyncio.sleep(0.1)
    [record] = records
    assert record.source is UsageSource.REPORTED
    assert (record.usage.input_tokens, record.usage.output_tokens) == (12, 7)
    assert record.cost == Money((12 * Decimal("0.30") + 7 * Decimal("2.50")) / M)
