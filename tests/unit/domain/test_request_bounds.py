"""The hold covers what a provider bills, for requests of every shape (hypothesis): chat with
system prompts, tools, tool calls and results, images, audio and n; embeddings batches with
token arrays; Anthropic messages with system, tools, tool use and images; each sent to OpenAI,
Anthropic and Gemini models (translated where the gateway translates). The usage comes from
tests/upstreams/billing.py, the adversarial billing the fake upstreams use."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

from api.rest.errors import ApiError
from api.rest.responses_format import responses_to_chat_request
from domain.billing.money import Money
from domain.billing.plans import PercentageMargin, PlanVersion
from domain.budgets.limits import Budget, BudgetMode, hold_amount
from domain.catalog.models import Model, PriceVersion
from domain.errors import ValidationError
from domain.metering.estimates import estimate_usage
from domain.metering.media import image_size
from domain.metering.request_bounds import (
    RequestBound,
    chat_bound,
    embeddings_bound,
    gemini_bound,
    gemini_embeddings_bound,
    messages_bound,
    responses_bound,
)
from domain.metering.tokens import TokenUsage
from formats.anthropic.from_chat import openai_to_anthropic_request
from formats.anthropic.to_chat import anthropic_to_openai_request
from formats.gemini.from_chat import chat_request_to_gemini
from formats.gemini.to_chat import embeddings_to_openai_request, gemini_to_openai_request
from tests.upstreams import billing

NOW = datetime(2026, 3, 15, tzinfo=UTC)


def _model(model_id: str, upstream: str, max_out: int, window: int) -> Model:
    return Model(model_id, model_id.partition("/")[0], upstream, max_output_tokens=max_out,
                 context_window=window)  # fmt: skip


MINI = _model("openai/gpt-4o-mini", "gpt-4o-mini", 16384, 128_000)
GPT4O = _model("openai/gpt-4o", "gpt-4o", 16384, 128_000)
HAIKU = _model("anthropic/claude-haiku-4-5", "claude-haiku-4-5", 64000, 200_000)
FLASH = _model("google/gemini-2.5-flash", "gemini-2.5-flash", 65536, 1_048_576)
EMBED = Model("openai/te3", "openai", "te3", max_output_tokens=1, context_window=8191)
PLAN = PlanVersion("p", "c", PercentageMargin(Decimal(30)), NOW, NOW)
BUDGET = Budget("c", None, Money(Decimal(1000)), BudgetMode.HARD, NOW)


def price(model: Model) -> PriceVersion:
    return PriceVersion(model.id, NOW, input=Decimal("1.1"), output=Decimal("4.4"),
                        cached_input=Decimal("0.3"), cache_write=Decimal("1.4"))  # fmt: skip


def hold(model: Model, bound: RequestBound) -> Decimal:
    return hold_amount(BUDGET, PLAN, [(model, price(model))], bound)


def charged(model: Model, usage: TokenUsage) -> Decimal:
    return PLAN.plan.charge(price(model).cost(usage)).amount


def png(width: int, height: int) -> str:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    body = struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + body).decode()


# --- strategies ---------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
IMAGES = st.builds(png, st.integers(1, 5000), st.integers(1, 5000))
AUDIO = st.binary(max_size=3000).map(lambda b: base64.b64encode(b).decode())


def openai_parts() -> st.SearchStrategy[list[dict[str, Any]]]:
    text = TEXT.map(lambda t: {"type": "text", "text": t or "."})
    image = st.builds(
        lambda url, detail: {"type": "image_url", "image_url": {"url": url, "detail": detail}},
        IMAGES,
        st.sampled_from(["low", "high", "auto"]),
    )
    audio = AUDIO.map(
        lambda d: {"type": "input_audio", "input_audio": {"data": d, "format": "wav"}}
    )
    return st.lists(st.one_of(text, text, image, audio), min_size=1, max_size=4)


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.dictionaries(TEXT, inner, max_size=3)


SCHEMA = st.recursive(st.one_of(TEXT, st.integers(), st.booleans()), _nested, max_leaves=8)
TOOLS = st.lists(
    st.builds(
        lambda name, description, props: {
            "type": "function",
            "function": {
                "name": f"f{name}",
                "description": description,
                "parameters": {"type": "object", "properties": {"p": props}},
            },
        },
        st.integers(0, 99),
        TEXT,
        SCHEMA,
    ),
    max_size=3,
)


@st.composite
def chat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(TEXT) or "."})
    for turn in range(draw(st.integers(1, 3))):
        content = draw(st.one_of(TEXT.map(lambda t: t or "."), openai_parts()))
        messages.append({"role": "user", "content": content})
        if draw(st.booleans()):
            arguments = json.dumps({"q": draw(TEXT)}, ensure_ascii=draw(st.booleans()))
            call = {"id": f"c{turn}", "type": "function",
                    "function": {"name": "f1", "arguments": arguments}}  # fmt: skip
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            messages.append({"role": "tool", "tool_call_id": f"c{turn}", "content": draw(TEXT)})
            messages.append({"role": "user", "content": "go on"})
    body: dict[str, Any] = {"model": "m", "messages": messages,
                            "max_tokens": draw(st.integers(1, 5000))}  # fmt: skip
    if tools := draw(TOOLS):
        body["tools"] = tools
    if draw(st.booleans()):
        body["n"] = draw(st.integers(1, 8))
    if draw(st.booleans()):
        schema = {"type": "object", "properties": {"a": draw(SCHEMA)}}
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "s", "schema": schema}}  # fmt: skip
    return body


@st.composite
def anthropic_bodies(draw: st.DrawFn) -> dict[str, Any]:
    image = IMAGES.map(lambda url: {"type": "image", "source": {
        "type": "base64", "media_type": "image/png", "data": url.partition(",")[2]}})  # fmt: skip
    text = TEXT.map(lambda t: {"type": "text", "text": t or "."})
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": draw(st.lists(st.one_of(text, image), min_size=1, max_size=3))}
    ]
    if draw(st.booleans()):
        arguments = draw(st.dictionaries(TEXT, st.one_of(TEXT, SCHEMA), max_size=30))
        use = {"type": "tool_use", "id": "t1", "name": "f", "input": arguments}
        result = {"type": "tool_result", "tool_use_id": "t1", "content": draw(TEXT)}
        messages += [{"role": "assistant", "content": [use]}, {"role": "user", "content": [result]}]
    body: dict[str, Any] = {"model": "m", "max_tokens": draw(st.integers(1, 5000)),
                            "messages": messages}  # fmt: skip
    if draw(st.booleans()):
        body["system"] = draw(TEXT) or "."
    if draw(st.booleans()):
        body["tools"] = [{"name": "f", "description": draw(TEXT),
                          "input_schema": {"type": "object", "properties": {"q": draw(SCHEMA)}}}]  # fmt: skip
    return body


@st.composite
def responses_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Responses API requests: instructions, string or item-list input (text and image parts,
    assistant output_text, function calls and their outputs), function tools."""
    text = TEXT.map(lambda t: {"type": "input_text", "text": t or "."})
    image = st.builds(
        lambda url, detail: {"type": "input_image", "image_url": url, "detail": detail},
        IMAGES,
        st.sampled_from(["low", "high", "auto"]),
    )
    body: dict[str, Any] = {"model": "m", "max_output_tokens": draw(st.integers(1, 5000))}
    if draw(st.booleans()):
        body["input"] = draw(TEXT) or "."
    else:
        items: list[dict[str, Any]] = []
        for turn in range(draw(st.integers(1, 3))):
            content = draw(st.one_of(TEXT.map(lambda t: t or "."),
                                     st.lists(st.one_of(text, text, image), min_size=1, max_size=3)))  # fmt: skip
            items.append({"role": draw(st.sampled_from(["user", "user", "developer"])),
                          "content": content})  # fmt: skip
            if draw(st.booleans()):
                reply = {"type": "output_text", "text": draw(TEXT) or "."}
                items.append({"type": "message", "role": "assistant", "content": [reply]})
            if draw(st.booleans()):
                arguments = json.dumps({"q": draw(TEXT)}, ensure_ascii=draw(st.booleans()))
                items.append({"type": "function_call", "call_id": f"c{turn}", "name": "f1",
                              "arguments": arguments})  # fmt: skip
                items.append({"type": "function_call_output", "call_id": f"c{turn}",
                              "output": draw(TEXT)})  # fmt: skip
                items.append({"role": "user", "content": "go on"})
        body["input"] = items
    if draw(st.booleans()):
        body["instructions"] = draw(TEXT)
    if tools := draw(TOOLS):
        body["tools"] = [{"type": "function", **t["function"]} for t in tools]
    return body


def gemini_parts() -> st.SearchStrategy[list[dict[str, Any]]]:
    text = TEXT.map(lambda t: {"text": t or "."})
    image = IMAGES.map(
        lambda url: {"inlineData": {"mimeType": "image/png", "data": url.rpartition(",")[2]}}
    )
    audio = AUDIO.map(lambda d: {"inlineData": {"mimeType": "audio/wav", "data": d}})
    return st.lists(st.one_of(text, text, image, audio), min_size=1, max_size=4)


@st.composite
def gemini_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A generateContent body: system instruction, text/image/audio parts, function calls and
    responses, function declarations, candidateCount x maxOutputTokens."""
    contents: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 3))):
        contents.append({"role": "user", "parts": draw(gemini_parts())})
        if draw(st.booleans()):
            args = draw(st.dictionaries(TEXT, st.one_of(TEXT, SCHEMA), max_size=5))
            call = {"functionCall": {"name": "lookup", "args": args}}
            contents.append({"role": "model", "parts": [{"text": draw(TEXT) or "."}, call]})
            result = {"functionResponse": {"name": "lookup", "response": {"r": draw(TEXT)}}}
            contents.append({"role": "user", "parts": [result]})
    config: dict[str, Any] = {"maxOutputTokens": draw(st.integers(1, 5000))}
    if draw(st.booleans()):
        config["candidateCount"] = draw(st.integers(1, 8))
    body: dict[str, Any] = {"contents": contents, "generationConfig": config}
    if draw(st.booleans()):
        body["systemInstruction"] = {"parts": [{"text": draw(TEXT)}]}
    tools = draw(TOOLS)
    if tools:
        body["tools"] = [{"functionDeclarations": [t["function"] for t in tools]}]
    return body


EMBEDDING_INPUTS = st.one_of(
    TEXT.filter(bool),
    st.lists(TEXT.filter(bool), min_size=1, max_size=20),
    st.lists(st.integers(0, 100_000), min_size=1, max_size=50),
    st.lists(st.lists(st.integers(0, 100_000), min_size=1, max_size=30), min_size=1, max_size=5),
)

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def translated(translate: Callable[..., dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """The body as the adapter sends it; one the adapter refuses (400) is never billed."""
    try:
        if translate is openai_to_anthropic_request:
            return translate(body, "haiku")
        return translate(body)
    except ValidationError:
        reject()
        raise


# --- properties ---------------------------------------------------------------------------


@PROPERTY
@given(chat_bodies())
def test_openai_chat_never_bills_past_its_hold(body: dict[str, Any]) -> None:
    bound = chat_bound(body, body["max_tokens"], body.get("n", 1))
    for model in (MINI, GPT4O):
        sent = {**body, "model": model.upstream_name}
        usage = TokenUsage(
            input_tokens=billing.openai_prompt_tokens(sent),
            output_tokens=billing.openai_completion_tokens(sent),
        )
        assert charged(model, usage) <= hold(model, bound)


@PROPERTY
@given(chat_bodies(), st.booleans())
def test_chat_translated_to_gemini_never_bills_past_its_hold(
    body: dict[str, Any], thinks: bool
) -> None:
    bound = chat_bound(body, body["max_tokens"], body.get("n", 1))
    sent = translated(chat_request_to_gemini, body)
    candidates = billing.gemini_candidate_tokens(sent, FLASH.max_output_tokens)
    thoughts = body.get("n", 1) * FLASH.max_output_tokens if thinks else 0
    usage = TokenUsage(
        input_tokens=billing.gemini_prompt_tokens(sent),
        output_tokens=candidates + thoughts,
        reasoning_tokens=thoughts,
    )
    assert charged(FLASH, usage) <= hold(FLASH, bound)


@PROPERTY
@given(chat_bodies().filter(lambda b: "n" not in b or b["n"] == 1))
def test_chat_translated_to_anthropic_never_bills_past_its_hold(body: dict[str, Any]) -> None:
    bound = chat_bound(body, body["max_tokens"], 1)
    sent = translated(openai_to_anthropic_request, {k: v for k, v in body.items() if k != "n"})
    usage = TokenUsage(
        input_tokens=billing.anthropic_input_tokens(sent), output_tokens=sent["max_tokens"]
    )
    assert charged(HAIKU, usage) <= hold(HAIKU, bound)


@PROPERTY
@given(anthropic_bodies())
def test_anthropic_messages_never_bill_past_their_hold(body: dict[str, Any]) -> None:
    bound = messages_bound(body, body["max_tokens"])
    usage = TokenUsage(
        input_tokens=billing.anthropic_input_tokens(body), output_tokens=body["max_tokens"]
    )
    assert charged(HAIKU, usage) <= hold(HAIKU, bound)
    translated = anthropic_to_openai_request(body)  # an Anthropic body sent to OpenAI
    sent = {**translated, "model": MINI.upstream_name}
    usage = TokenUsage(
        input_tokens=billing.openai_prompt_tokens(sent),
        output_tokens=billing.openai_completion_tokens(sent),
    )
    assert charged(MINI, usage) <= hold(MINI, bound)


@PROPERTY
@given(responses_bodies(), st.booleans())
def test_responses_translated_to_every_provider_never_bill_past_their_hold(
    body: dict[str, Any], thinks: bool
) -> None:
    bound = responses_bound(body, body["max_output_tokens"])
    try:
        chat = responses_to_chat_request(body)
    except ApiError:
        reject()
    for model in (MINI, GPT4O):
        sent = {**chat, "model": model.upstream_name}
        usage = TokenUsage(
            input_tokens=billing.openai_prompt_tokens(sent),
            output_tokens=billing.openai_completion_tokens(sent),
        )
        assert charged(model, usage) <= hold(model, bound)
    to_anthropic = translated(openai_to_anthropic_request, chat)
    usage = TokenUsage(
        input_tokens=billing.anthropic_input_tokens(to_anthropic),
        output_tokens=to_anthropic["max_tokens"],
    )
    assert charged(HAIKU, usage) <= hold(HAIKU, bound)
    to_gemini = translated(chat_request_to_gemini, chat)
    thoughts = FLASH.max_output_tokens if thinks else 0
    candidates = billing.gemini_candidate_tokens(to_gemini, FLASH.max_output_tokens)
    usage = TokenUsage(
        input_tokens=billing.gemini_prompt_tokens(to_gemini),
        output_tokens=candidates + thoughts,
        reasoning_tokens=thoughts,
    )
    assert charged(FLASH, usage) <= hold(FLASH, bound)


@PROPERTY
@given(EMBEDDING_INPUTS)
def test_embeddings_never_bill_past_their_hold(value: Any) -> None:
    usage = TokenUsage(input_tokens=billing.openai_embedding_tokens(value))
    assert charged(EMBED, usage) <= hold(EMBED, embeddings_bound(value))


def _gemini_bound(body: dict[str, Any]) -> RequestBound:
    config = body["generationConfig"]
    return gemini_bound(body, config["maxOutputTokens"], config.get("candidateCount", 1))


@PROPERTY
@given(gemini_bodies(), st.booleans())
def test_gemini_native_requests_never_bill_past_their_hold(
    body: dict[str, Any], thinks: bool
) -> None:
    bound = _gemini_bound(body)
    candidates = billing.gemini_candidate_tokens(body, FLASH.max_output_tokens)
    thoughts = bound.choices * FLASH.max_output_tokens if thinks else 0
    usage = TokenUsage(
        input_tokens=billing.gemini_prompt_tokens(body),
        output_tokens=candidates + thoughts,
        reasoning_tokens=thoughts,
    )
    assert charged(FLASH, usage) <= hold(FLASH, bound)


# Found by the property below: control characters in a function call's arguments and in a
# function response, which a translation to OpenAI sends as escaped JSON strings (6 bytes each).
_ESCAPED_PAYLOADS = {
    "contents": [
        {"role": "user", "parts": [{"text": "."}]},
        {
            "role": "model",
            "parts": [{"functionCall": {"name": "lookup", "args": {"k\x1f\x1d\x00": "\n" * 40}}}],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "lookup", "response": {"r": "\x1f" * 80}}}],
        },
    ],
    "generationConfig": {"maxOutputTokens": 1},
}


@PROPERTY
@example(_ESCAPED_PAYLOADS)
@given(gemini_bodies())
def test_gemini_requests_translated_to_openai_never_bill_past_their_hold(
    body: dict[str, Any],
) -> None:
    bound = _gemini_bound(body)
    for model in (MINI, GPT4O):
        upstream = model.upstream_name
        sent = translated(lambda b, m=upstream: gemini_to_openai_request(b, m, False), body)
        usage = TokenUsage(
            input_tokens=billing.openai_prompt_tokens(sent),
            output_tokens=billing.openai_completion_tokens(sent),
        )
        assert charged(model, usage) <= hold(model, bound)


@PROPERTY
@given(st.lists(st.lists(TEXT, min_size=1, max_size=3), min_size=1, max_size=10))
def test_gemini_embedding_batches_never_bill_past_their_hold(texts: list[list[str]]) -> None:
    contents = [{"parts": [{"text": t} for t in parts]} for parts in texts]
    bound = gemini_embeddings_bound(contents)
    sent = embeddings_to_openai_request([{"content": c} for c in contents], EMBED.upstream_name)
    usage = TokenUsage(input_tokens=billing.openai_embedding_tokens(sent["input"]))
    assert charged(EMBED, usage) <= hold(EMBED, bound)
    estimate = TokenUsage(input_tokens=sum(-(-len("".join(p)) // 4) for p in texts))
    assert charged(EMBED, estimate) <= hold(EMBED, bound)


def test_image_sizes_are_read_from_their_headers() -> None:
    assert image_size(png(1024, 77)) == (1024, 77)
    assert image_size("https://example.com/a.png") is None


@PROPERTY
@given(chat_bodies(), st.integers(0, 10**7))
def test_an_estimate_stays_inside_the_hold(body: dict[str, Any], output_chars: int) -> None:
    """When a provider reports nothing, the estimate (4 characters a token) is capped by the
    same bounds, so even a prompt longer than the context window in bytes stays inside."""
    bound = chat_bound(body, body["max_tokens"], body.get("n", 1))
    for model in (MINI, FLASH, _model("openai/tiny", "tiny", 50, 10)):
        usage = estimate_usage(
            bound.prompt_chars,
            output_chars,
            bound.output_tokens(model),
            bound.prompt_tokens(model),
        )
        assert charged(model, usage) <= hold(model, bound)


def test_a_tool_input_counts_as_the_escaped_json_a_translation_sends() -> None:
    """Translated to OpenAI, a tool_use input becomes an `arguments` string with non-ASCII
    characters escaped (`\\u00e9`: 6 bytes for 2): the bound counts that form."""
    turns = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"q": "é" * 1000}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
    ]  # fmt: skip
    body = {"model": "m", "max_tokens": 10, "messages": turns}
    sent = {**anthropic_to_openai_request(body), "model": MINI.upstream_name}
    usage = TokenUsage(
        input_tokens=billing.openai_prompt_tokens(sent),
        output_tokens=billing.openai_completion_tokens(sent),
    )
    assert charged(MINI, usage) <= hold(MINI, messages_bound(body, 10))


def test_a_part_whose_type_is_not_a_string_is_counted_not_crashed_on() -> None:
    """Found by the HTTP fuzzer: `{"type": {...}}` in a content part was looked up in a set
    of media types (TypeError, a 500) instead of being counted like any other JSON."""
    body = {"messages": [{"role": "user", "content": [{"type": {"a": 1}}, {"type": ["b"]}]}]}
    bound = messages_bound(body, 10)
    assert bound.prompt_chars > 0
