"""Gemini's native API relayed untranslated (`/v1beta/models/...` on the gateway): the client's
body goes upstream with only the model replaced by the catalog's upstream name, and the usage
is read from `usageMetadata` with the same rules as the translated path (gemini_translate.py):
cumulative in streams, the last report wins."""

from __future__ import annotations

from adapters.providers.gemini_embeddings import estimate_embedding_tokens
from domain.metering.tokens import TokenUsage
from domain.providers import JSON
from formats.gemini.answers import objects_in, usage_from_gemini
from formats.gemini.streams import raise_stream_error


def with_model(body: JSON, resource: str) -> JSON:
    """The body with its `model` field (if any) naming the upstream model (`models/{name}`)."""
    return {**body, "model": resource} if "model" in body else dict(body)


def count_tokens_body(body: JSON, resource: str) -> JSON:
    """A `countTokens` body: its nested `generateContentRequest.model` names the upstream."""
    nested = body.get("generateContentRequest")
    if isinstance(nested, dict):
        return {**body, "generateContentRequest": {**nested, "model": resource}}
    return dict(body)


def batch_embed_body(body: JSON, resource: str) -> JSON:
    """A `batchEmbedContents` body whose every request names the upstream model (Gemini
    requires each to match the model in the URL)."""
    requests = [
        {**request, "model": resource} if isinstance(request, dict) else request
        for request in body.get("requests") or ()
    ]
    return {**body, "requests": requests}


def embedded_texts(body: JSON, batch: bool) -> list[str]:
    """The text of each content embedded, for the usage estimate (Gemini reports none)."""
    contents = (
        [r.get("content") for r in objects_in(body.get("requests"))]
        if batch
        else [body.get("content")]
    )
    texts = []
    for content in contents:
        parts = objects_in(content.get("parts")) if isinstance(content, dict) else []
        texts.append("".join(p["text"] for p in parts if isinstance(p.get("text"), str)))
    return texts


def embedding_usage(body: JSON, batch: bool) -> TokenUsage:
    return TokenUsage(input_tokens=estimate_embedding_tokens(embedded_texts(body, batch)))


class GeminiPassthrough:
    """The stream 'translator' of the native relay: each event passes unchanged; the usage is
    the last `usageMetadata` seen (cumulative: it replaces, never adds)."""

    def __init__(self) -> None:
        self.usage: TokenUsage | None = None

    def feed(self, event: JSON) -> list[JSON]:
        raise_stream_error(event, self.usage)
        if "usageMetadata" in event:
            self.usage = usage_from_gemini(event["usageMetadata"])
        return [event]

    def finish(self) -> list[JSON]:
        return []
