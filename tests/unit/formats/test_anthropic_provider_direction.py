"""Golden cases for OpenAI chat <-> Anthropic Messages translation (the forward direction)."""

from __future__ import annotations

import json

import pytest

from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from formats.anthropic.answers import (
    StreamUsage,
    anthropic_to_openai_response,
    usage_from_anthropic,
)
from formats.anthropic.from_chat import openai_to_anthropic_request
from formats.anthropic.streams import AnthropicToOpenAIStream
from tests.upstreams.anthropic_fake import AnthropicScript, ToolCall, stream_events, validate

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def test_system_and_developer_messages_become_the_system_prompt() -> None:
    body = {
        "model": "anthropic/claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Hi"},
        ],
        "max_tokens": 100,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": "END",
        "user": "end-user-7",
        "stream": True,
        "stream_options": {"include_usage": True},
        "presence_penalty": 0.5,
        "seed": 3,
        "api_base": "http://169.254.169.254",
    }
    assert openai_to_anthropic_request(body, "claude-sonnet-4-5-20250929", 8192) == {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 100,
        "system": "Be brief.\n\nAnswer in French.",
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "end-user-7"},
    }


def test_system_cache_control_is_kept_as_blocks() -> None:
    cached = {"type": "text", "text": "Long manual", "cache_control": {"type": "ephemeral"}}
    body = {
        "messages": [
            {"role": "system", "content": [cached]},
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ]
    }
    out = openai_to_anthropic_request(body, "c", 10)
    assert out["system"] == [cached, {"type": "text", "text": "Be brief."}]
    assert validate(out) is None


def test_max_tokens_defaults_to_the_models_maximum_and_prefers_max_completion_tokens() -> None:
    messages = [{"role": "user", "content": "Hi"}]
    assert openai_to_anthropic_request({"messages": messages}, "c", 8192)["max_tokens"] == 8192
    both = {"messages": messages, "max_tokens": 10, "max_completion_tokens": 20}
    assert openai_to_anthropic_request(both, "c", 8192)["max_tokens"] == 20


def test_multi_turn_tools_round_trip_merges_tool_results_into_one_user_turn() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {
                "role": "tool",
                "tool_call_id": "call_2",
                "content": [{"type": "text", "text": "24C"}],
            },
            {"role": "user", "content": "Which is warmer?"},
        ],
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
        "parallel_tool_calls": False,
    }
    out = openai_to_anthropic_request(body, "claude", 1024)
    assert out["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "24C"},
                {"type": "text", "text": "Which is warmer?"},
            ],
        },
    ]
    assert out["tools"] == [
        {
            "name": "weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "description": "Current weather",
        }
    ]
    assert out["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert validate(out) is None  # the strict fake accepts it, as Anthropic would


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        (
            {"type": "function", "function": {"name": "weather"}},
            {"type": "tool", "name": "weather"},
        ),
    ],
)
def test_tool_choice(choice: object, expected: dict[str, object]) -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER_TOOL]}
    body["tool_choice"] = choice
    assert openai_to_anthropic_request(body, "c", 10)["tool_choice"] == expected


def test_images_data_urls_become_base64_and_http_urls_stay_urls() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ]
    }
    out = openai_to_anthropic_request(body, "c", 10)
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": "Compare"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    assert validate(out) is None


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}},
        {"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AAAA"}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    ],
)
def test_unsupported_parts_are_refused(part: dict[str, object]) -> None:
    body = {"messages": [{"role": "user", "content": [part]}]}
    with pytest.raises(ValidationError):
        openai_to_anthropic_request(body, "c", 10)


def test_n_above_one_and_bad_tool_arguments_are_refused() -> None:
    with pytest.raises(ValidationError):
        openai_to_anthropic_request(
            {"messages": [{"role": "user", "content": "x"}], "n": 2}, "c", 1
        )
    bad_call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
    body = {
        "messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": "", "tool_calls": [bad_call]},
        ]
    }
    with pytest.raises(ValidationError):
        openai_to_anthropic_request(body, "c", 1)


# ---------------------------------------------------------------- usage


def test_usage_adds_the_cache_classes_to_input_once() -> None:
    usage = {
        "input_tokens": 100,
        "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 300,
        "output_tokens": 50,
    }
    assert usage_from_anthropic(usage) == TokenUsage(
        input_tokens=2400, output_tokens=50, cached_input_tokens=2000, cache_write_tokens=300
    )


def test_usage_absent_is_none_but_explicit_zero_is_a_report() -> None:
    assert usage_from_anthropic(None) is None
    assert usage_from_anthropic({"input_tokens": 0, "output_tokens": 0}) == TokenUsage()


def test_thinking_tokens_are_reasoning_within_output() -> None:
    usage = {
        "input_tokens": 5,
        "output_tokens": 40,
        "output_tokens_details": {"thinking_tokens": 30},
    }
    assert usage_from_anthropic(usage) == TokenUsage(
        input_tokens=5, output_tokens=40, reasoning_tokens=30
    )


def test_stream_usage_takes_the_latest_cumulative_values_never_sums() -> None:
    tracker = StreamUsage()
    tracker.update(
        {
            "input_tokens": 10,
            "cache_read_input_tokens": 90,
            "cache_creation_input_tokens": 5,
            "output_tokens": 1,
        }
    )
    tracker.update({"output_tokens": 20})
    tracker.update({"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 35})
    assert tracker.usage == TokenUsage(
        input_tokens=105, output_tokens=35, cached_input_tokens=90, cache_write_tokens=5
    )


# ---------------------------------------------------------------- response


def test_response_with_text_and_tool_use() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "cache_read_input_tokens": 20,
            "cache_creation_input_tokens": 30,
            "output_tokens": 5,
        },
    }
    out = anthropic_to_openai_response(body, "anthropic/claude-sonnet-4-5")
    assert out["id"] == "msg_1"
    assert out["object"] == "chat.completion"
    assert out["model"] == "anthropic/claude-sonnet-4-5"
    assert out["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Let me check.",
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ]
    assert out["usage"] == {
        "prompt_tokens": 60,
        "completion_tokens": 5,
        "total_tokens": 65,
        "prompt_tokens_details": {"cached_tokens": 20},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
    ],
)
def test_stop_reasons(stop_reason: str, finish: str) -> None:
    body = {"id": "m", "content": [{"type": "text", "text": "x"}], "stop_reason": stop_reason}
    assert anthropic_to_openai_response(body, "a/b")["choices"][0]["finish_reason"] == finish


# ---------------------------------------------------------------- stream


def test_full_event_sequence_translates_to_openai_chunks() -> None:
    script = AnthropicScript(
        text="Hi there!",
        tool=ToolCall("weather", {"city": "Paris"}, id="toolu_9"),
        thinking="let me think",
        input_tokens=10,
        cache_read=200,
        cache_write=30,
        output_tokens=42,
    )
    stream = AnthropicToOpenAIStream("anthropic/claude-sonnet-4-5", created=1700000000)
    chunks = []
    for name, data in stream_events(script, "claude-sonnet-4-5", "msg_7"):
        chunks.extend(stream.feed(name, data))

    assert all(c["id"] == "msg_7" and c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["created"] == 1700000000 for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Hi there!"  # thinking is not relayed
    calls = [
        d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert calls[0] == {
        "index": 0,
        "id": "toolu_9",
        "type": "function",
        "function": {"name": "weather", "arguments": ""},
    }
    assert all(call["index"] == 0 for call in calls)
    arguments = "".join(call["function"]["arguments"] for call in calls)
    assert json.loads(arguments) == {"city": "Paris"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 240,
        "completion_tokens": 42,
        "total_tokens": 282,
        "prompt_tokens_details": {"cached_tokens": 200},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    assert stream.finished
    assert stream.stream_usage.usage == TokenUsage(
        input_tokens=240, output_tokens=42, cached_input_tokens=200, cache_write_tokens=30
    )


def test_stream_with_usage_only_in_message_start_and_output_in_delta() -> None:
    script = AnthropicScript(text="ok", output_tokens=3, delta_repeats_input=False)
    stream = AnthropicToOpenAIStream("a/b")
    for name, data in stream_events(script, "b", "msg_1"):
        stream.feed(name, data)
    assert stream.stream_usage.usage == TokenUsage(input_tokens=12, output_tokens=3)
