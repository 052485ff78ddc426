"""A client's credential over the agency's adapters (adapters/providers/registry.py): the same
pooled upstream, that credential's headers and base URL, one view per credential while it is
in use, gone with it (a removed key does not stay in memory)."""

from __future__ import annotations

import gc

from adapters.providers.anthropic import AnthropicProvider
from adapters.providers.openai import OpenAICompatibleProvider
from adapters.providers.registry import StaticProviderRegistry
from domain.byok.credentials import UpstreamCredential
from domain.providers import Timeouts


def registry() -> StaticProviderRegistry:
    openai = OpenAICompatibleProvider("openai", "https://api.example/v1", "sk-agency", Timeouts())
    anthropic = AnthropicProvider("anthropic", "https://claude.example", "ant-agency", Timeouts())
    return StaticProviderRegistry(
        {"openai": openai, "anthropic": anthropic}, {"anthropic": anthropic}, {"openai": openai}
    )


def test_a_view_sends_the_clients_headers_over_the_same_upstream() -> None:
    agency = registry()
    credential = UpstreamCredential(
        "c1", "openai", "sk-client", "https://vllm.example/v1", "org-1", "proj-1"
    )

    view = agency.with_credential(credential)

    own, theirs = view.chat("openai"), agency.chat("openai")
    assert isinstance(own, OpenAICompatibleProvider)
    assert isinstance(theirs, OpenAICompatibleProvider)
    assert own._upstream is theirs._upstream  # one pooled session per provider
    assert own._headers["authorization"] == "Bearer sk-client"
    assert own._headers["openai-organization"] == "org-1"
    assert own._headers["openai-project"] == "proj-1"
    assert str(own._chat_url) == "https://vllm.example/v1/chat/completions"
    assert theirs._headers["authorization"] == "Bearer sk-agency"
    assert view.native_responses("openai") is not None
    assert view.chat("anthropic") is agency.chat("anthropic")  # other providers unchanged
    assert agency.with_credential(credential) is view  # built once per credential


def test_an_anthropic_view_keeps_the_default_base_url() -> None:
    agency = registry()
    view = agency.with_credential(UpstreamCredential("c2", "anthropic", "ant-client"))
    own = view.native_messages("anthropic")
    assert isinstance(own, AnthropicProvider)
    assert own._headers["x-api-key"] == "ant-client"
    assert str(own._url) == "https://claude.example/v1/messages"


def test_views_go_with_their_credential() -> None:
    agency = registry()
    credential = UpstreamCredential("c3", "openai", "sk-client")
    agency.with_credential(credential)
    del credential
    gc.collect()
    assert len(agency._views) == 0
