"""Golden cases for the OpenAI <-> Gemini translation (no network)."""

from __future__ import annotations

import base64
import itertools
import struct
from typing import Any

import pytest

from adapters.providers.gemini_embeddings import (
    embeddings_request_to_gemini,
    embeddings_response_to_openai,
    estimate_embedding_tokens,
)
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.providers import ProviderError, ProviderFailure
from formats.gemini.answers import chat_response_to_openai, usage_from_gemini
from formats.gemini.from_chat import chat_request_to_gemini
from formats.gemini.streams import GeminiToOpenAIStream
from formats.gemini.tables import finish_reason

JSON = dict[str, Any]
PNG = "iVBORw0KGgo="


def ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"call_{next(counter)}"


# --- request ---------------------------------------------------------------------------------


def test_a_full_conversation_translates_to_the_golden_gemini_request() -> None:
    body = {
        "model": "google/gemini-2.5-flash",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": "https://x.test/cat.webp?s=1"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q": "cat"}'},
                        "extra_content": {"google": {"thought_signature": "sig=="}},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "weather", "arguments": ""},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_a", "content": "a cat"},
            {"role": "tool", "tool_call_id": "call_b", "content": '{"temp": 21}'},
            {"role": "user", "content": "Thanks"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Search",
                    "parameters": {
                        "type": "object",
                        "properties": {"q": {"type": "string"}},
                        "additionalProperties": False,
                    },
                },
            },
            {"type": "function", "function": {"name": "weather"}},
        ],
        "tool_choice": "required",
        "max_tokens": 256,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": "END",
        "n": 2,
        "seed": 7,
        "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
        "stream_options": {"include_usage": True},
        "user": "ignored",
    }
    assert chat_request_to_gemini(body) == {
        "systemInstruction": {"parts": [{"text": "Be terse."}, {"text": "Answer in French."}]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "What is in these pictures?"},
                    {"inlineData": {"mimeType": "image/png", "data": PNG}},
                    {
                        "fileData": {
                            "mimeType": "image/webp",
                            "fileUri": "https://x.test/cat.webp?s=1",
                        }
                    },
                ],
            },
            {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {"name": "lookup", "args": {"q": "cat"}},
                        "thoughtSignature": "sig==",
                    },
                    {"functionCall": {"name": "weather", "args": {}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "lookup", "response": {"content": "a cat"}}},
                    {"functionResponse": {"name": "weather", "response": {"temp": 21}}},
                    {"text": "Thanks"},
                ],
            },
        ],
        "generationConfig": {
            "maxOutputTokens": 256,
            "temperature": 0.2,
            "topP": 0.9,
            "seed": 7,
            "candidateCount": 2,
            "stopSequences": ["END"],
            "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object"},
        },
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "lookup",
                        "description": "Search",
                        "parametersJsonSchema": {
                            "type": "object",
                            "properties": {"q": {"type": "string"}},
                            "additionalProperties": False,
                        },
                    },
                    {"name": "weather"},
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
    }


def test_a_plain_user_message_gives_a_minimal_request() -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    assert chat_request_to_gemini(body) == {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]
    }


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    body = {
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 10,
        "max_completion_tokens": 99,
    }
    assert chat_request_to_gemini(body)["generationConfig"] == {"maxOutputTokens": 99}


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("none", {"mode": "NONE"}),
        ("auto", {"mode": "AUTO"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "f"}},
            {"mode": "ANY", "allowedFunctionNames": ["f"]},
        ),
    ],
)
def test_tool_choice_maps_to_a_function_calling_mode(choice: Any, config: JSON) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "tool_choice": choice}
    assert chat_request_to_gemini(body)["toolConfig"] == {"functionCallingConfig": config}


def test_audio_and_inline_files_become_inline_data() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                    {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE"}},
                ],
            }
        ]
    }
    assert chat_request_to_gemini(body)["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "audio/wav", "data": "UklG"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}},
    ]


def test_an_image_url_of_unknown_type_is_sent_as_jpeg() -> None:
    part = {"type": "image_url", "image_url": {"url": "https://x.test/photo"}}
    body = {"messages": [{"role": "user", "content": [part]}]}
    file_data = chat_request_to_gemini(body)["contents"][0]["parts"][0]["fileData"]
    assert file_data == {"mimeType": "image/jpeg", "fileUri": "https://x.test/photo"}


@pytest.mark.parametrize(
    ("messages", "why"),
    [
        ([], "non-empty"),
        ([{"role": "system", "content": "only a system prompt"}], "at least one"),
        ([{"role": "robot", "content": "hi"}], "role"),
        ([{"role": "tool", "tool_call_id": "nope", "content": "x"}], "unknown tool_call_id"),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y"}}],
                }
            ],
            "data: or http",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:image/png,raw"}}],
                }
            ],
            "base64",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}],
                }
            ],
            "valid JSON",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1]"}}],
                }
            ],
            "JSON object",
        ),
    ],
)
def test_requests_gemini_cannot_express_are_refused(messages: list[Any], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        chat_request_to_gemini({"messages": messages})


def test_non_function_tools_are_refused() -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "web_search"}]}
    with pytest.raises(ValidationError, match="function tools"):
        chat_request_to_gemini(body)


# --- usage -----------------------------------------------------------------------------------


def test_usage_follows_the_product_convention() -> None:
    meta = {
        "promptTokenCount": 100,
        "toolUsePromptTokenCount": 5,
        "cachedContentTokenCount": 40,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "totalTokenCount": 155,
    }
    assert usage_from_gemini(meta) == TokenUsage(
        input_tokens=105, cached_input_tokens=40, output_tokens=50, reasoning_tokens=30
    )


def test_missing_usage_is_none_but_omitted_counts_are_zero() -> None:
    assert usage_from_gemini(None) is None
    assert usage_from_gemini({}) == TokenUsage()
    assert usage_from_gemini({"promptTokenCount": 0, "candidatesTokenCount": 0}) == TokenUsage()
    assert usage_from_gemini({"promptTokenCount": 9}) == TokenUsage(input_tokens=9)


@pytest.mark.parametrize(
    "meta",
    [
        {"promptTokenCount": "9"},
        {"promptTokenCount": -1},
        {"candidatesTokenCount": True},
        {"promptTokenCount": 5, "cachedContentTokenCount": 6},
    ],
)
def test_garbage_usage_is_a_bad_response(meta: JSON) -> None:
    with pytest.raises(ProviderError) as caught:
        usage_from_gemini(meta)
    assert caught.value.failure is ProviderFailure.BAD_RESPONSE


# --- response --------------------------------------------------------------------------------


def test_a_text_answer_with_thoughts_and_cache_translates_to_the_golden_completion() -> None:
    response = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Let me think...", "thought": True},
                        {"text": "Bonjour"},
                        {"text": " le monde"},
                    ],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 50,
            "cachedContentTokenCount": 32,
            "candidatesTokenCount": 4,
            "thoughtsTokenCount": 11,
            "totalTokenCount": 65,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "abc123",
    }
    assert chat_response_to_openai(response, "google/gemini-2.5-flash", created=1700000000) == {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "google/gemini-2.5-flash",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Bonjour le monde", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": 50,
            "completion_tokens": 15,
            "total_tokens": 65,
            "prompt_tokens_details": {"cached_tokens": 32},
            "completion_tokens_details": {"reasoning_tokens": 11},
        },
    }


def test_function_calls_become_tool_calls_with_generated_ids() -> None:
    response = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {
                            "functionCall": {"name": "lookup", "args": {"q": "cat"}},
                            "thoughtSignature": "s1",
                        },
                        {"functionCall": {"name": "noargs"}},
                    ],
                },
                "finishReason": "STOP",
            }
        ],
    }
    body = chat_response_to_openai(response, "m", created=1, new_id=ids())
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"q":"cat"}'},
            "extra_content": {"google": {"thought_signature": "s1"}},
        },
        {"id": "call_2", "type": "function", "function": {"name": "noargs", "arguments": "{}"}},
    ]
    assert "usage" not in body  # no usageMetadata: no report, not zeros


def test_a_tool_call_survives_the_round_trip_with_its_signature() -> None:
    response = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "S"}
                    ]
                },
                "finishReason": "STOP",
            }
        ]
    }
    message = chat_response_to_openai(response, "m")["choices"][0]["message"]
    call_id = message["tool_calls"][0]["id"]
    again = chat_request_to_gemini(
        {
            "messages": [
                {"role": "user", "content": "go"},
                message,
                {"role": "tool", "tool_call_id": call_id, "content": "ok"},
            ]
        }
    )
    assert again["contents"][1]["parts"] == [
        {"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "S"}
    ]
    assert again["contents"][2]["parts"] == [
        {"functionResponse": {"name": "f", "response": {"content": "ok"}}}
    ]


@pytest.mark.parametrize(
    ("reason", "calls", "expected"),
    [
        ("STOP", False, "stop"),
        ("STOP", True, "tool_calls"),
        ("MAX_TOKENS", False, "length"),
        ("MAX_TOKENS", True, "length"),
        ("SAFETY", False, "content_filter"),
        ("RECITATION", False, "content_filter"),
        ("PROHIBITED_CONTENT", False, "content_filter"),
        ("SPII", False, "content_filter"),
        ("BLOCKLIST", False, "content_filter"),
        ("OTHER", False, "stop"),
        ("MALFORMED_FUNCTION_CALL", False, "stop"),
        (None, False, "stop"),
    ],
)
def test_finish_reasons_map_to_openai(reason: str | None, calls: bool, expected: str) -> None:
    assert finish_reason(reason, calls) == expected


def test_a_blocked_prompt_is_a_content_filter_choice() -> None:
    response = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 8},
    }
    body = chat_response_to_openai(response, "m")
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": None, "refusal": None},
            "finish_reason": "content_filter",
            "logprobs": None,
        }
    ]
    assert body["usage"]["prompt_tokens"] == 8


def test_several_candidates_become_several_choices() -> None:
    response = {
        "candidates": [
            {"content": {"parts": [{"text": "A"}]}, "finishReason": "STOP", "index": 0},
            {"content": {"parts": [{"text": "B"}]}, "finishReason": "MAX_TOKENS", "index": 1},
        ]
    }
    choices = chat_response_to_openai(response, "m")["choices"]
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in choices] == [
        (0, "A", "stop"),
        (1, "B", "length"),
    ]


# --- streaming -------------------------------------------------------------------------------


def _event(text: str | None, candidates: int, finish: str | None = None, **extra: Any) -> JSON:
    candidate: JSON = {
        "content": {"role": "model", "parts": [{"text": text}] if text else []},
        "index": 0,
    }
    if finish:
        candidate["finishReason"] = finish
    meta = {"promptTokenCount": 10, "candidatesTokenCount": candidates, "thoughtsTokenCount": 6}
    return {"candidates": [candidate], "usageMetadata": meta, "responseId": "r1", **extra}


def test_a_stream_translates_to_golden_chunks_with_the_last_cumulative_usage() -> None:
    stream = GeminiToOpenAIStream("google/gemini-2.5-flash", created=5)
    chunks = []
    for event in (_event("Hel", 2), _event("lo", 4), _event("!", 5, "STOP")):
        chunks.extend(stream.feed(event))
    chunks.extend(stream.finish())
    envelope = {
        "id": "chatcmpl-r1",
        "object": "chat.completion.chunk",
        "created": 5,
        "model": "google/gemini-2.5-flash",
    }

    def delta(d: JSON, reason: str | None = None) -> JSON:
        return {
            **envelope,
            "choices": [{"index": 0, "delta": d, "finish_reason": reason, "logprobs": None}],
        }

    assert chunks == [
        delta({"role": "assistant", "content": ""}),
        delta({"content": "Hel"}),
        delta({"content": "lo"}),
        delta({"content": "!"}),
        delta({}, "stop"),
        {
            **envelope,
            "choices": [],
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": 11,  # 5 + 6 thoughts; summing chunks would give 29
                "total_tokens": 21,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 6},
            },
        },
    ]
    assert stream.usage == TokenUsage(input_tokens=10, output_tokens=11, reasoning_tokens=6)


def test_a_stream_without_usage_ends_without_a_usage_chunk() -> None:
    stream = GeminiToOpenAIStream("m")
    event = {"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}
    chunks = stream.feed(event)
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, "stop"]
    assert stream.finish() == []
    assert stream.usage is None


def test_a_streamed_function_call_is_one_tool_call_delta_and_finishes_as_tool_calls() -> None:
    stream = GeminiToOpenAIStream("m", new_id=ids())
    event = {
        "candidates": [
            {
                "content": {"parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
                "finishReason": "STOP",
            }
        ]
    }
    chunks = stream.feed(event)
    assert chunks[1]["choices"][0]["delta"] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "f", "arguments": '{"a":1}'},
            }
        ]
    }
    assert chunks[2]["choices"][0]["finish_reason"] == "tool_calls"


def test_an_in_band_error_event_raises_with_the_usage_so_far() -> None:
    stream = GeminiToOpenAIStream("m")
    stream.feed(_event("partial", 3))
    with pytest.raises(ProviderError) as caught:
        stream.feed({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})
    assert caught.value.status == 503
    assert caught.value.usage == TokenUsage(input_tokens=10, output_tokens=9, reasoning_tokens=6)
    assert not caught.value.is_client_error


def test_a_blocked_prompt_streams_a_content_filter_finish() -> None:
    stream = GeminiToOpenAIStream("m")
    chunks = stream.feed({"promptFeedback": {"blockReason": "SAFETY"}})
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, "content_filter"]


# --- embeddings ------------------------------------------------------------------------------


def test_embeddings_request_is_a_golden_batch() -> None:
    request, texts = embeddings_request_to_gemini(
        {"model": "x", "input": ["a", "bb"], "dimensions": 8}, "gemini-embedding-001"
    )
    assert texts == ["a", "bb"]
    assert request == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "a"}]},
                "outputDimensionality": 8,
            },
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "bb"}]},
                "outputDimensionality": 8,
            },
        ]
    }


@pytest.mark.parametrize(
    "body",
    [
        {"input": [1, 2, 3]},
        {"input": []},
        {"input": None},
        {"input": "x", "encoding_format": "hex"},
    ],
)
def test_embeddings_requests_gemini_cannot_serve_are_refused(body: JSON) -> None:
    with pytest.raises(ValidationError):
        embeddings_request_to_gemini(body, "m")


def test_embeddings_response_is_openai_shaped_with_an_estimated_usage() -> None:
    texts = ["abcde", "xy"]
    body, usage = embeddings_response_to_openai(
        {"embeddings": [{"values": [0.5, 1]}, {"values": [0.25, -1.0]}]}, "google/emb", texts
    )
    assert body == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.5, 1.0]},
            {"object": "embedding", "index": 1, "embedding": [0.25, -1.0]},
        ],
        "model": "google/emb",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},  # ceil(5/4) + ceil(2/4)
    }
    assert usage == TokenUsage(input_tokens=3)


def test_base64_embeddings_are_little_endian_float32() -> None:
    body, _ = embeddings_response_to_openai(
        {"embeddings": [{"values": [0.5, -2.0]}]}, "m", ["a"], "base64"
    )
    raw = base64.b64decode(body["data"][0]["embedding"])
    assert struct.unpack("<2f", raw) == (0.5, -2.0)


def test_the_token_estimate_is_a_ceiling_per_input() -> None:
    assert estimate_embedding_tokens(["", "a", "abcd", "abcde"]) == 0 + 1 + 1 + 2


def test_a_missing_embedding_is_a_bad_response() -> None:
    with pytest.raises(ProviderError) as caught:
        embeddings_response_to_openai({"embeddings": [{"values": [1.0]}]}, "m", ["a", "b"])
    assert caught.value.failure is ProviderFailure.BAD_RESPONSE
