"""OpenAI's Responses API relayed untranslated (`/v1/responses` for the `openai` provider when
it serves `/responses`): the request passes with the upstream model name and without the keys
a client must not control; the answer and the stream events pass as sent. Usage is read from
the Response's `usage` (on `response.completed`, `.incomplete` or `.failed` in a stream) by
`formats.responses.answers.usage_from_responses`."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from adapters.providers.http import PrefetchedStream, iter_sse, sse_json
from domain.catalog.models import Model
from domain.providers import JSON, ProviderError, ProviderFailure
from formats.responses.answers import usage_from_responses

_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


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
