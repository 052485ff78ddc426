"""The gateway routes a catalog model can be called through, shown with the catalog."""

from __future__ import annotations

from domain.catalog import models as catalog


def model_routes(kind: catalog.ModelKind) -> list[str]:
    """The gateway routes a model of this kind is called through (every provider: natively or
    translated, docs/responses.md and docs/gemini.md)."""
    if kind is catalog.ModelKind.EMBEDDING:
        return [
            "POST /v1/embeddings",
            "POST /v1beta/models/{model}:embedContent",
            "POST /v1beta/models/{model}:batchEmbedContents",
        ]
    return [
        "POST /v1/chat/completions",
        "POST /v1/responses",
        "POST /v1/messages",
        "POST /v1beta/models/{model}:generateContent",
        "POST /v1beta/models/{model}:streamGenerateContent",
    ]
