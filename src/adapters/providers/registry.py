"""The configured providers, by the provider part of `provider/model`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable
from weakref import WeakKeyDictionary

from domain.byok.credentials import UpstreamCredential
from domain.providers import (
    ModelProvider,
    NativeGeminiProvider,
    NativeMessagesProvider,
    NativeResponsesProvider,
    ProviderRegistry,
)

_P = TypeVar("_P")


@runtime_checkable
class Credentialed(Protocol):
    """An adapter that can send a client's own credential instead of the agency's."""

    def with_credential(self, credential: UpstreamCredential) -> Any: ...


class StaticProviderRegistry(ProviderRegistry):
    def __init__(
        self,
        chat: Mapping[str, ModelProvider],
        native_messages: Mapping[str, NativeMessagesProvider] | None = None,
        native_responses: Mapping[str, NativeResponsesProvider] | None = None,
        native_gemini: Mapping[str, NativeGeminiProvider] | None = None,
    ) -> None:
        self._chat = dict(chat)
        self._native = dict(native_messages or {})
        self._responses = dict(native_responses or {})
        self._gemini = dict(native_gemini or {})
        # Per credential while it is in use: dropped with it (a removed key leaves memory
        # once the configuration of the revision that had it is gone).
        self._views: WeakKeyDictionary[UpstreamCredential, StaticProviderRegistry] = (
            WeakKeyDictionary()
        )

    def chat(self, provider: str) -> ModelProvider | None:
        return self._chat.get(provider)

    def native_messages(self, provider: str) -> NativeMessagesProvider | None:
        return self._native.get(provider)

    def native_responses(self, provider: str) -> NativeResponsesProvider | None:
        return self._responses.get(provider)

    def native_gemini(self, provider: str) -> NativeGeminiProvider | None:
        return self._gemini.get(provider)

    def with_credential(self, credential: UpstreamCredential) -> ProviderRegistry:
        """The registry as a call with a client's own credential sees it: its provider's
        adapter with that credential (kept per credential, so a call builds nothing; the
        same pooled session), every other provider as configured."""
        view = self._views.get(credential)
        if view is None:
            view = self._views[credential] = self._view(credential)
        return view

    def _view(self, credential: UpstreamCredential) -> StaticProviderRegistry:
        name = credential.provider

        def swap(table: Mapping[str, _P]) -> dict[str, _P]:
            found = dict(table)
            adapter = found.get(name)
            if isinstance(adapter, Credentialed):
                found[name] = adapter.with_credential(credential)
            else:
                found.pop(name, None)  # an adapter without credentials cannot serve it
            return found

        return StaticProviderRegistry(
            swap(self._chat), swap(self._native), swap(self._responses), swap(self._gemini)
        )

    async def aclose(self) -> None:
        for provider in self._chat.values():
            await provider.aclose()
