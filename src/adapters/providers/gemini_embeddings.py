"""OpenAI embeddings requests and answers translated for Gemini's `batchEmbedContents`.

Gemini's embedding answers carry no token counts, so usage here is an estimate (about four
characters per token, domain.metering.estimates), flagged as such by the provider adapter.
"""

from __future__ import annotations

from typing import Any

from adapters.providers.openai import encode_embedding
from domain.errors import ValidationError
from domain.metering.estimates import tokens_in
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure
from formats.gemini.answers import objects_in
from formats.gemini.from_chat import positive_int


def estimate_embedding_tokens(texts: list[str]) -> int:
    """The estimate recorded for an embeddings call: Gemini reports no tokens here."""
    return sum(tokens_in(len(text)) for text in texts)


def embeddings_request_to_gemini(body: JSON, upstream_model: str) -> tuple[JSON, list[str]]:
    """An OpenAI embeddings request as a `batchEmbedContents` body, plus the input texts (kept
    for the estimate). Token-array inputs are refused: Gemini embeds text only."""
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ValidationError("input must be a string or a non-empty list of strings")
    if body.get("encoding_format") not in (None, "float", "base64"):
        raise ValidationError("encoding_format must be float or base64")
    extra: JSON = {}
    if body.get("dimensions") is not None:
        extra["outputDimensionality"] = positive_int(body["dimensions"], "dimensions")
    requests = [
        {"model": f"models/{upstream_model}", "content": {"parts": [{"text": text}]}, **extra}
        for text in texts
    ]
    return {"requests": requests}, texts


def _vector(embedding: JSON) -> list[float]:
    values = embedding.get("values")
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise ProviderError(ProviderFailure.BAD_RESPONSE, "gemini sent an invalid embedding")
    return [float(v) for v in values]


def embeddings_response_to_openai(
    response: JSON, model: str, texts: list[str], encoding_format: Any = None
) -> tuple[JSON, TokenUsage]:
    """A `batchEmbedContents` answer as an OpenAI embeddings body. The usage returned (and put
    in the body) is `estimate_embedding_tokens`, an estimate: Gemini reports no tokens here."""
    embeddings = objects_in(response.get("embeddings"))
    if len(embeddings) != len(texts):
        raise ProviderError(
            ProviderFailure.BAD_RESPONSE, "gemini answered a different number of embeddings"
        )
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": encode_embedding(_vector(e), encoding_format),
        }
        for i, e in enumerate(embeddings)
    ]
    tokens = estimate_embedding_tokens(texts)
    body: JSON = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return body, TokenUsage(input_tokens=tokens)
