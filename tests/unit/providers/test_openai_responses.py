"""The native Responses relay: usage read by class, what is sent upstream, and which upstreams
serve `/responses` (OPENAI_RESPONSES_API)."""

from __future__ import annotations

from adapters.providers.openai import DENIED_BODY_KEYS
from adapters.providers.openai_responses import upstream_responses_body
from api.container.model_providers import build_providers
from api.settings import load_settings
from domain.catalog.models import Model
from domain.metering.tokens import TokenUsage
from formats.responses.answers import usage_from_responses

BASE = {
    "BIZGRAPH_SECRET_KEY": "responses-settings-secret-0123456789abcdef",
    "BIZGRAPH_DATABASE_URL": "sqlite:///x.db",
    "OPENAI_API_KEY": "sk-test",
}


def test_usage_is_read_by_class_and_parts_are_capped_to_their_totals() -> None:
    usage = {
        "input_tokens": 1000,
        "input_tokens_details": {"cached_tokens": 400},
        "output_tokens": 300,
        "output_tokens_details": {"reasoning_tokens": 100},
        "total_tokens": 1300,
    }
    assert usage_from_responses(usage) == TokenUsage(1000, 300, 400, reasoning_tokens=100)
    odd = {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 9}, "output_tokens": 0}
    assert usage_from_responses(odd) == TokenUsage(5, 0, 5)
    assert usage_from_responses(None) is None
    assert usage_from_responses({"total_tokens": 3}) is None


def test_the_upstream_body_keeps_nothing_stored_and_no_client_controlled_key() -> None:
    model = Model("openai/gpt-4o-mini", "openai", "gpt-4o-mini-2024-07-18")
    body = {"model": "openai/gpt-4o-mini", "input": "hi", "store": True, "api_base": "http://x"}

    sent = upstream_responses_body(model, {**body, "stream": True}, DENIED_BODY_KEYS, False)

    assert sent == {"model": "gpt-4o-mini-2024-07-18", "input": "hi", "store": False}


def test_openai_itself_serves_responses_and_a_compatible_server_only_when_told() -> None:
    assert build_providers(load_settings(BASE)).native_responses("openai") is not None
    compatible = BASE | {"OPENAI_BASE_URL": "http://vllm:8000/v1"}
    assert build_providers(load_settings(compatible)).native_responses("openai") is None
    told = compatible | {"OPENAI_RESPONSES_API": "true"}
    assert build_providers(load_settings(told)).native_responses("openai") is not None
    assert build_providers(load_settings(BASE)).native_responses("anthropic") is None
