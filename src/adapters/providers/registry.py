"""The configured providers, by the provider part of `provider/model`."""

from __future__ import annotations

from collections.abc import Mapping

from domain.providers import (
    ModelProvider,
    NativeGeminiProvider,
    NativeMessagesProvider,
    NativeResponsesProvider,
    ProviderRegistry,
)


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

    def chat(self, provider: str) -> ModelProvider | None:
        return self._chat.get(provider)

    def native_messages(self, provider: str) -> NativeMessagesProvider | None:
        return self._native.get(provider)

    def native_responses(self, provider: str) -> NativeResponsesProvider | None:
        return self._responses.get(provider)

    def native_gemini(self, provider: str) -> NativeGeminiProvider | None:
        return self._gemini.get(provider)

    async def aclose(self) -> None:
        for provider in self._chat.values():
            await provider.aclose()
