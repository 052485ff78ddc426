"""OpenAI's Responses API relayed untranslated (`/v1/responses` for the `openai` provider when
it serves `/responses`): the request passes with the upstream model name and without the keys
a client must not control; the answer and the stream events pass as sent. Usage is read from
the Response's `usage` (on `response.completed`, `.incomplete` or `.failed` in a stream)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from adapters.providers.http import PrefetchedStream, iter_sse, sse_json
from domain.catalog.models import Model
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure

# Parameters that make OpenAI keep state under the agency's account, where another client
# could reach it: the gateway sends `store: false` and refuses these before the call.
STATEFUL = ("previous_response_id", "conversation", "prompt", "background")
_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def usage_from_responses(usage: Any) -> TokenUsage | None:
    """A Response's `usage` in the product's convention: input_tokens includes the cached
    read, output_tokens the reasoning; a part larger than its total is capped to the total."""
    if not isinstance(usage, dict):
        return None
    prompt = _count(usage.get("input_tokens"))
    output = _count(usage.get("output_tokens"))
    if prompt is None and output is None:
        return None
    prompt, output = prompt or 0, output or 0
    input_details = usage.get("input_tokens_details")
    output_details = usage.get("output_tokens_details")
    cached = _count(input_details.get("cached_tokens")) if isinstance(input_details, dict) else 0
    reasoning = (
        _count(output_details.get("reasoning_tokens")) if isinstance(output_details, dict) else 0
    )
    return TokenUsage(
        input_tokens=prompt,
        output_tokens=output,
        cached_input_tokens=min(cached or 0, prompt),
        reasoning_tokens=min(reasoning or 0, output),
    )


def upstream_responses_body(model: Model, body: JSON, denied: frozenset[str], stream: bool) -> JSON:
    out = {k: v for k, v in body.items() if k not in denied}
    out["model"] = model.upstream_name
    out["store"] = False  # nothing kept upstream under the agency's account
    if stream:
        out["stream"] = True
    else:
        out.pop("stream", None)
        out.pop("stream_options", None)
    return out


class OpenAIResponsesStream(PrefetchedStream[tuple[str, JSON]]):
    """A relayed Responses stream of `(event_name, data)` pairs; `usage` from the final event."""

    async def _items(self) -> AsyncGenerator[tuple[str, JSON], None]:
        provider = self._provider
        try:
            async for event in iter_sse(self._response, provider, self._timeouts):
                if event.data == "[DONE]":
                    return
                data = sse_json(event, provider)
                if not isinstance(data, dict):
                    raise ProviderError(
                        ProviderFailure.BAD_RESPONSE, f"{provider} sent a non-object stream event"
                    )
                kind = data.get("type")
                name = kind if isinstance(kind, str) else event.event
                if name == "error":
                    raise ProviderError(
                        ProviderFailure.STATUS,
                        f"{provider} reported an error mid-stream",
                        status=500,
                        body={"error": data},
                        usage=self.usage,
                    )
                if name in _FINAL:
                    response = data.get("response")
                    usage = response.get("usage") if isinstance(response, dict) else None
                    parsed = usage_from_responses(usage)
                    if parsed is not None:
                        self.usage = parsed
                yield name, data
        finally:
            self._response.release()
