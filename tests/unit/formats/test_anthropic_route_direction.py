"""Golden cases for Anthropic Messages <-> OpenAI chat (the reverse direction, used by
`/v1/messages` when the model is not Anthropic's)."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message

from api.rest.messages_format import anthropic_error_body, anthropic_error_type
from domain.errors import ValidationError
from formats.anthropic.answers import openai_to_anthropic_response
from formats.anthropic.streams import OpenAIToAnthropicStream
from formats.anthropic.to_chat import anthropic_to_openai_request
from tests.upstreams.anthropic_fake import tool_result_request


def test_system_blocks_multi_turn_and_parameters() -> None:
    body = {
        "model": "openai/gpt-4o-mini",
        "max_tokens": 256,
        "system": [
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Answer in French."},
        ],
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "Bonjour"}]},
            {"role": "user", "content": [{"type": "text", "text": "Ça va ?"}]},
        ],
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "stream": True,
    }
    assert anthropic_to_openai_request(body) == {
        "model": "openai/gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief.\nAnswer in French."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": "Ça va ?"},
        ],
        "max_completion_tokens": 256,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["END"],
        "user": "u-1",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_tools_round_trip() -> None:
    body = tool_result_request("openai/gpt-4o")
    body["messages"][2]["content"].append({"type": "text", "text": "And tomorrow?"})
    body["tools"] = [
        {
            "name": "weather",
            "description": "Current weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    body["tool_choice"] = {"type": "any", "disable_parallel_tool_use": True}
    out = anthropic_to_openai_request(body)
    assert out["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "user", "content": "And tomorrow?"},
    ]
    assert out["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "description": "Current weather",
            },
        }
    ]
    assert out["tool_choice"] == "required"
    assert out["parallel_tool_calls"] is False


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: object) -> None:
    body = {
        "model": "m",
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "tool_choice": choice,
    }
    assert anthropic_to_openai_request(body)["tool_choice"] == expected


def test_images_and_tool_result_blocks() -> None:
    body = {
        "model": "m",
        "max_tokens": 1,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
                ],
            }
        ],
    }
    assert anthropic_to_openai_request(body)["messages"][0]["content"] == [
        {"type": "text", "text": "Compare"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.jpg"}},
    ]


def test_unsupported_blocks_and_server_tools_are_refused() -> None:
    document = {"type": "document", "source": {"type": "text", "data": "x"}}
    with pytest.raises(ValidationError):
        anthropic_to_openai_request({"messages": [{"role": "user", "content": [document]}]})
    body = {
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
    }
    with pytest.raises(ValidationError):
        anthropic_to_openai_request(body)


def test_response_with_text_tool_call_and_cached_usage() -> None:
    body = {
        "id": "chatcmpl-abc",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Checking.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 20,
            "total_tokens": 1020,
            "prompt_tokens_details": {"cached_tokens": 800},
        },
    }
    out = openai_to_anthropic_response(body, "openai/gpt-4o")
    assert out == {
        "id": "msg_chatcmpl-abc",
        "type": "message",
        "role": "assistant",
        "model": "openai/gpt-4o",
        "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 200,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 800,
            "output_tokens": 20,
        },
    }
    Message.model_validate(out)  # the anthropic SDK's own model accepts it


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("content_filter", "refusal"),
    ],
)
def test_stop_reasons(finish: str, stop: str) -> None:
    body = {"id": "x", "choices": [{"message": {"content": "a"}, "finish_reason": finish}]}
    assert openai_to_anthropic_response(body, "m")["stop_reason"] == stop


def test_malformed_tool_arguments_are_kept_as_raw_text() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
    body = {"id": "x", "choices": [{"message": {"tool_calls": [call]}, "finish_reason": "stop"}]}
    block = openai_to_anthropic_response(body, "m")["content"][0]
    assert block["input"] == {"_raw_arguments": "{oops"}


def _chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices, **extra}


OPENAI_STREAM = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Let me "}),
    _chunk({"content": "check."}),
    _chunk(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": ""},
                }
            ]
        }
    ),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
    _chunk(
        {
            "tool_calls": [
                {"index": 1, "id": "call_2", "function": {"name": "time", "arguments": "{}"}}
            ]
        }
    ),
    _chunk({}, "tool_calls"),
    _chunk(
        None,
        usage={
            "prompt_tokens": 50,
            "completion_tokens": 9,
            "total_tokens": 59,
            "prompt_tokens_details": {"cached_tokens": 30},
        },
    ),
]


def _translate() -> list[tuple[str, dict[str, Any]]]:
    stream = OpenAIToAnthropicStream("openai/gpt-4o")
    events = [event for chunk in OPENAI_STREAM for event in stream.feed(chunk)]
    events.extend(stream.finish())
    assert stream.finish() == []  # finishing twice sends nothing more
    return events


def test_stream_event_sequence() -> None:
    events = _translate()
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    assert events[0][1]["message"]["id"] == "msg_chatcmpl-1"
    assert events[5][1] == {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "tool_use", "id": "call_1", "name": "weather", "input": {}},
    }
    assert events[12][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {
            "input_tokens": 20,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 30,
            "output_tokens": 9,
        },
    }


def test_stream_accumulates_in_the_anthropic_sdk() -> None:
    """The SDK's own accumulator (what `messages.stream()` uses) rebuilds the message."""
    snapshot = None
    buffers: dict[int, bytes] = {}
    for _name, data in _translate():
        snapshot = accumulate_event(event=data, current_snapshot=snapshot, json_bufs=buffers)  # type: ignore[arg-type]
    assert snapshot is not None
    blocks = [block.model_dump(exclude_none=True) for block in snapshot.content]
    assert blocks[0] == {"type": "text", "text": "Let me check."}
    assert blocks[1]["input"] == {"city": "Paris"}
    assert blocks[2]["name"] == "time"
    assert snapshot.stop_reason == "tool_use"
    assert snapshot.usage.output_tokens == 9
    assert snapshot.usage.input_tokens == 20
    assert snapshot.usage.cache_read_input_tokens == 30


def test_empty_stream_still_opens_and_closes_a_message() -> None:
    stream = OpenAIToAnthropicStream("m", message_id="msg_fixed")
    events = stream.finish()
    assert [name for name, _ in events] == ["message_start", "message_delta", "message_stop"]
    assert events[0][1]["message"]["id"] == "msg_fixed"
    assert events[1][1]["delta"]["stop_reason"] == "end_turn"


def test_error_body_and_types() -> None:
    assert anthropic_error_body("overloaded_error", "busy") == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "busy"},
    }
    assert anthropic_error_type(401) == "authentication_error"
    assert anthropic_error_type(429) == "rate_limit_error"
    assert anthropic_error_type(502) == "api_error"
    assert anthropic_error_type(529) == "overloaded_error"
    assert anthropic_error_type(422) == "invalid_request_error"
