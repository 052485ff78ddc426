"""Golden cases for OpenAI's usage object in the product's token convention."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.providers.openai import (
    DENIED_BODY_KEYS,
    inband_error,
    upstream_chat_body,
    usage_from_openai,
)
from domain.catalog.models import Model
from domain.metering.tokens import TokenUsage
from domain.providers import ProviderFailure

MODEL = Model(id="openai/gpt-4o", provider="openai", upstream_name="gpt-4o-2024-08-06")


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param(
            {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29},
            TokenUsage(input_tokens=19, output_tokens=10),
            id="plain",
        ),
        pytest.param(
            {
                "prompt_tokens": 2006,
                "completion_tokens": 300,
                "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            # prompt_tokens already includes the cached part: no double count
            TokenUsage(input_tokens=2006, output_tokens=300, cached_input_tokens=1920),
            id="cached",
        ),
        pytest.param(
            {
                "prompt_tokens": 75,
                "completion_tokens": 1186,
                "total_tokens": 1261,
                "completion_tokens_details": {"reasoning_tokens": 1024},
            },
            # reasoning is part of completion_tokens: output stays 1186
            TokenUsage(input_tokens=75, output_tokens=1186, reasoning_tokens=1024),
            id="reasoning",
        ),
        pytest.param(
            {
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "total_tokens": 0,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
            TokenUsage(),
            id="explicit-zeros",
        ),
        pytest.param(
            {
                "prompt_tokens": 8,
                "completion_tokens": 3,
                "prompt_tokens_details": None,
                "completion_tokens_details": None,
            },
            TokenUsage(input_tokens=8, output_tokens=3),
            id="null-details",
        ),
        pytest.param(
            {"prompt_tokens": 8, "completion_tokens": 3, "prompt_tokens_details": {}},
            TokenUsage(input_tokens=8, output_tokens=3),
            id="empty-details",
        ),
        pytest.param(
            {"prompt_tokens": 8, "prompt_tokens_details": {"cached_tokens": None}},
            TokenUsage(input_tokens=8),
            id="prompt-only-null-cached",
        ),
        pytest.param(
            {"prompt_tokens": 9, "total_tokens": 9},
            TokenUsage(input_tokens=9),
            id="embeddings",
        ),
        pytest.param(
            {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 50},
                "completion_tokens_details": {"reasoning_tokens": 9},
            },
            # a lax compatible server: parts are capped to the billed totals
            TokenUsage(
                input_tokens=10, output_tokens=5, cached_input_tokens=10, reasoning_tokens=5
            ),
            id="parts-over-totals",
        ),
    ],
)
def test_usage_golden_cases(usage: dict[str, Any], expected: TokenUsage) -> None:
    assert usage_from_openai(usage) == expected


@pytest.mark.parametrize(
    "usage",
    [
        pytest.param(None, id="none"),
        pytest.param({}, id="empty"),
        pytest.param({"total_tokens": 12}, id="total-only"),
        pytest.param({"prompt_tokens": None, "completion_tokens": None}, id="nulls"),
        pytest.param({"prompt_tokens": -1, "completion_tokens": "3"}, id="garbage"),
        pytest.param({"prompt_tokens": True}, id="bool"),
        pytest.param([1, 2], id="not-an-object"),
    ],
)
def test_no_usable_report_is_none(usage: Any) -> None:
    assert usage_from_openai(usage) is None


def test_upstream_body_streams_always_ask_for_usage_and_keep_client_options() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [],
        "stream": True,
        "stream_options": {"include_usage": False, "include_obfuscation": False},
        "api_base": "http://169.254.169.254",
    }

    out = upstream_chat_body(MODEL, body, stream=True)

    assert out["model"] == "gpt-4o-2024-08-06"
    assert out["stream_options"] == {"include_usage": True, "include_obfuscation": False}
    assert "api_base" not in out
    assert body["stream_options"] == {"include_usage": False, "include_obfuscation": False}


def test_upstream_body_unstreamed_drops_stream_keys() -> None:
    body = {"messages": [], "stream": True, "stream_options": {"include_usage": True}}

    out = upstream_chat_body(MODEL, body, stream=False)

    assert out == {"messages": [], "model": "gpt-4o-2024-08-06"}


def test_deny_list_covers_redirecting_and_credential_keys() -> None:
    assert {"api_base", "base_url", "api_key", "extra_headers"} <= DENIED_BODY_KEYS


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"error": {"message": "boom", "type": "server_error", "code": None}}, 500),
        ({"error": {"message": "bad", "type": "BadRequestError", "code": 400}}, 400),
        ({"error": "overloaded"}, 500),
    ],
)
def test_inband_error(payload: dict[str, Any], status: int) -> None:
    error = inband_error("openai", payload)

    assert error is not None
    assert error.failure is ProviderFailure.STATUS
    assert error.status == status
    assert error.body == payload


def test_null_error_is_no_error() -> None:
    assert inband_error("openai", {"error": None, "choices": []}) is None
