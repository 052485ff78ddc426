"""Gemini's native format <-> OpenAI chat, for Gemini-API calls answered by other providers."""

from __future__ import annotations

from typing import Any

import pytest

from api.rest.gemini_format import status_name
from domain.errors import ValidationError
from formats.gemini.answers import openai_to_gemini_response
from formats.gemini.checks import check_generate
from formats.gemini.streams import OpenAIToGeminiStream
from formats.gemini.to_chat import gemini_to_openai_request


def test_a_tool_call_answer_becomes_a_function_call_part() -> None:
    body = {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function",
                         "function": {"name": "f", "arguments": '{"a": 1}'}}
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 6,
                  "completion_tokens_details": {"reasoning_tokens": 2}},
    }  # fmt: skip

    out = openai_to_gemini_response(body, "demo/chat")

    [candidate] = out["candidates"]
    assert candidate["content"]["parts"] == [
        {"functionCall": {"id": "c1", "name": "f", "args": {"a": 1}}}
    ]
    assert candidate["finishReason"] == "STOP"
    assert out["usageMetadata"] == {
        "promptTokenCount": 10,
        "candidatesTokenCount": 4,
        "thoughtsTokenCount": 2,
        "totalTokenCount": 16,
    }


def test_a_stream_passes_text_and_holds_tool_calls_and_usage_for_the_last_event() -> None:
    translator = OpenAIToGeminiStream("demo/chat")
    chunks: list[dict[str, Any]] = [
        {"id": "x", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}]}}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": ": 2}"}}]}, "finish_reason": "tool_calls"}]},
        {"id": "x", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
    ]  # fmt: skip

    events = [e for chunk in chunks for e in translator.feed(chunk)] + translator.finish()

    assert [e["candidates"][0]["content"]["parts"] for e in events] == [
        [{"text": "Hi"}],
        [{"functionCall": {"id": "c1", "name": "f", "args": {"a": 2}}}],
    ]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"]["candidatesTokenCount"] == 4
    assert "usageMetadata" not in events[0]


def test_generation_config_and_candidates_are_translated() -> None:
    body = {
        "contents": [{"parts": [{"text": "a"}, {"text": "b"}]}],
        "generationConfig": {"candidateCount": 2, "maxOutputTokens": 9, "seed": 4,
                             "responseMimeType": "application/json"},
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
        "tools": [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {"type": "object"}}]}],
    }  # fmt: skip

    out = gemini_to_openai_request(body, "demo/chat", stream=True)

    assert out["messages"] == [{"role": "user", "content": "ab"}]
    assert (out["n"], out["max_tokens"], out["seed"], out["stream"]) == (2, 9, 4, True)
    assert out["response_format"] == {"type": "json_object"}
    assert out["tool_choice"] == {"type": "function", "function": {"name": "f"}}


@pytest.mark.parametrize(
    "body",
    [
        {"contents": [{"parts": [{"fileData": {"fileUri": "gs://x"}}]}]},
        {"contents": [{"parts": [{"text": "x"}]}], "tools": [{"googleSearch": {}}]},
        {"contents": [{"parts": [{"inlineData": {"mimeType": "video/mp4", "data": "AAAA"}}]}]},
        {"contents": [{"parts": [{"functionCall": {"name": "f", "args": []}}]}]},
    ],
)
def test_what_only_google_serves_is_a_clear_refusal_when_translated(body: dict[str, Any]) -> None:
    check_generate(body)
    with pytest.raises(ValidationError):
        gemini_to_openai_request(body, "demo/chat", stream=False)


def test_status_names_follow_google() -> None:
    assert [status_name(s) for s in (400, 401, 403, 404, 429, 503, 599)] == [
        "INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND",
        "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL",
    ]  # fmt: skip
