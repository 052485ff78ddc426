"""What a model call is asked and what it answers: the kind of call, the request with its bound,
a completed answer or a relayed stream."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from domain.metering.request_bounds import RequestBound
from domain.providers import (
    JSON,
)
from domain.runtime_ports import RelayedStream
from domain.usecases.grants import PricedModel


class CallKind(StrEnum):
    CHAT = "chat"
    EMBEDDING = "embedding"
    MESSAGES = "messages"  # Anthropic-native, relayed untranslated
    RESPONSES = "responses"  # OpenAI's Responses API, relayed untranslated
    GEMINI = "gemini"  # Gemini-native generateContent, relayed untranslated
    GEMINI_EMBED = "gemini_embed"  # Gemini-native embedContent
    GEMINI_BATCH_EMBED = "gemini_batch_embed"  # Gemini-native batchEmbedContents


GEMINI_KINDS = frozenset({CallKind.GEMINI, CallKind.GEMINI_EMBED, CallKind.GEMINI_BATCH_EMBED})


# `gen_ai.operation.name` of each kind (GenAI semantic conventions' well-known values)
OPERATIONS = MappingProxyType(
    {
        CallKind.CHAT: "chat",
        CallKind.MESSAGES: "chat",
        CallKind.RESPONSES: "chat",
        CallKind.GEMINI: "generate_content",
        CallKind.EMBEDDING: "embeddings",
        CallKind.GEMINI_EMBED: "embeddings",
        CallKind.GEMINI_BATCH_EMBED: "embeddings",
    }
)


@dataclass(frozen=True, slots=True)
class CallRequest:
    kind: CallKind
    body: JSON
    bound: RequestBound  # what the request can bill at most (the hold, the estimates)

    @property
    def prompt_chars(self) -> int:
        """Size of the prompt, for the estimate when a provider reports nothing."""
        return self.bound.prompt_chars


@dataclass(frozen=True, slots=True)
class Completed:
    body: JSON
    answered_by: PricedModel


@dataclass(frozen=True, slots=True)
class Streaming:
    relay: RelayedStream
    answered_by: PricedModel
