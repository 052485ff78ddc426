"""Adapter for any OpenAI-compatible upstream (OpenAI, OpenRouter, vLLM, Ollama, ...).

The gateway already speaks OpenAI's format, so bodies and chunks pass through untouched except
for what billing and safety need: the model becomes the catalog's upstream name, keys that could
redirect the call or carry a credential are dropped, and streams always ask for the usage chunk
(`stream_options.include_usage`), which is relayed as-is for the API layer to strip if the client
did not ask for it.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import struct
from collections.abc import AsyncGenerator
from typing import Any

from yarl import URL

from adapters.providers.http import (
    PrefetchedStream,
    Timeouts,
    Upstream,
    iter_sse,
    outbound_headers,
    sse_json,
)
from adapters.providers.openai_responses import OpenAIResponsesStream, upstream_responses_body
from domain.byok.credentials import UpstreamCredential
from domain.catalog.models import Model
from domain.metering.tokens import TokenUsage
from domain.providers import JSON, ProviderError, ProviderFailure, ProviderResponse
from formats.responses.answers import usage_from_responses

# Body keys a client must never control: SDK/proxy options that would point the call elsewhere
# or smuggle a credential (the LiteLLM `api_base` class of SSRF). OpenAI itself rejects them.
DENIED_BODY_KEYS = frozenset(
    {
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "api_type",
        "organization",
        "project",
        "headers",
        "extra_headers",
        "extra_query",
        "custom_llm_provider",
        "azure_ad_token",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "vertex_credentials",
    }
)

_DONE = "[DONE]"


def _count(value: Any) -> int | None:
    """A token count as reported, or None when absent, null or not a non-negative int."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _detail(usage: JSON, details_key: str, key: str) -> int:
    details = usage.get(details_key)
    if not isinstance(details, dict):
        return 0
    return _count(details.get(key)) or 0


def usage_from_openai(usage: JSON | None) -> TokenUsage | None:
    """OpenAI's `usage` object in the product's token convention.

    `prompt_tokens` already includes the cached part and `completion_tokens` the reasoning part,
    so both map straight to the totals. None means nothing was reported (missing, null, or no
    token count at all); explicit zeros are a report. A part larger than its total (seen from
    some compatible servers) is capped to the total, since the totals are what was billed.
    """
    if not isinstance(usage, dict):
        return None
    prompt = _count(usage.get("prompt_tokens"))
    completion = _count(usage.get("completion_tokens"))
    if prompt is None and completion is None:
        return None
    input_tokens = prompt or 0
    output_tokens = completion or 0
    cached = min(_detail(usage, "prompt_tokens_details", "cached_tokens"), input_tokens)
    reasoning = min(_detail(usage, "completion_tokens_details", "reasoning_tokens"), output_tokens)
    return TokenUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
    )


def encode_embedding(vector: list[float], encoding_format: Any) -> list[float] | str:
    """An embedding as OpenAI sends it: a list of floats, or with `encoding_format: base64`
    (what the official SDKs ask for by default) little-endian float32 in base64."""
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def inband_error(provider: str, payload: JSON) -> ProviderError | None:
    """An `{"error": {...}}` object sent with a 2xx (mid-stream, or by lax compatible servers).

    The HTTP status was 2xx, so the error's own numeric code is used when it is one (vLLM sends
    it), otherwise 500: the upstream failed on its side.
    """
    error = payload.get("error")
    if error is None:
        return None
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) and 400 <= code <= 599 else 500
    return ProviderError(
        ProviderFailure.STATUS,
        f"{provider} reported an error (HTTP {status})",
        status=status,
        body=payload,
    )


def upstream_chat_body(model: Model, body: JSON, *, stream: bool) -> JSON:
    """The request sent upstream: denied keys dropped, the upstream model name, and for
    streams the usage chunk requested on top of whatever stream options the client set."""
    out = {k: v for k, v in body.items() if k not in DENIED_BODY_KEYS}
    out["model"] = model.upstream_name
    if stream:
        out["stream"] = True
        options = body.get("stream_options")
        merged = dict(options) if isinstance(options, dict) else {}
        merged["include_usage"] = True
        out["stream_options"] = merged
    else:
        # OpenAI refuses stream_options without stream: the non-streamed path owns both keys.
        out.pop("stream", None)
        out.pop("stream_options", None)
    return out


class OpenAIChatStream(PrefetchedStream[JSON]):
    """A relayed OpenAI chat stream of `chat.completion.chunk` objects."""

    async def _items(self) -> AsyncGenerator[JSON, None]:
        provider = self._provider
        try:
            async for event in iter_sse(self._response, provider, self._timeouts):
                if event.data == _DONE:
                    return
                chunk = sse_json(event, provider)
                if not isinstance(chunk, dict):
                    raise ProviderError(
                        ProviderFailure.BAD_RESPONSE, f"{provider} sent a non-object stream event"
                    )
                if "error" in chunk:
                    error = inband_error(provider, chunk)
                    if error is not None:
                        error.usage = self.usage
                        raise error
                usage = chunk.get("usage")
                if usage is not None:
                    parsed = usage_from_openai(usage)
                    if parsed is not None:
                        self.usage = parsed
                    if chunk.get("choices") is None:
                        chunk["choices"] = []  # vLLM sends the usage chunk with null choices
                yield chunk
        finally:
            self._response.release()


class OpenAICompatibleProvider:
    """Any upstream speaking OpenAI's REST API under `base_url` (which ends in `/v1`, as in the
    OpenAI SDK). Only the agency's own key is sent; no inbound header is ever forwarded."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        timeouts: Timeouts,
    ) -> None:
        self.name = name
        self._timeouts = timeouts
        self._base_url = base_url
        self._upstream = Upstream(name, timeouts)
        self._use(base_url, {"authorization": f"Bearer {api_key}"} if api_key else {})

    def _use(self, base_url: str, credentials: dict[str, str]) -> None:
        root = base_url.rstrip("/")
        # Parsed once: the URLs are the same for every call.
        self._chat_url = URL(f"{root}/chat/completions")
        self._embeddings_url = URL(f"{root}/embeddings")
        self._responses_url = URL(f"{root}/responses")
        self._headers = outbound_headers(credentials)
        self._stream_headers = outbound_headers(credentials, {"accept": "text/event-stream"})

    def with_credential(self, credential: UpstreamCredential) -> OpenAICompatibleProvider:
        """This adapter with a client's own key (and base URL, organization, project): the
        same pooled session (aiohttp pools connections per host), other headers."""
        view = copy.copy(self)
        headers = {"authorization": f"Bearer {credential.api_key}"}
        if credential.organization:
            headers["openai-organization"] = credential.organization
        if credential.project:
            headers["openai-project"] = credential.project
        view._use(credential.base_url or self._base_url, headers)
        return view

    async def chat(self, model: Model, body: JSON) -> ProviderResponse:
        payload = upstream_chat_body(model, body, stream=False)
        answer = await self._upstream.post_json(self._chat_url, self._headers, payload)
        return self._response(answer)

    async def open_chat_stream(self, model: Model, body: JSON) -> OpenAIChatStream:
        payload = upstream_chat_body(model, body, stream=True)
        deadline = asyncio.get_running_loop().time() + self._timeouts.first_byte
        response = await self._upstream.open_stream(self._chat_url, self._stream_headers, payload)
        stream = OpenAIChatStream(response, self.name, self._timeouts)
        await stream.start(deadline)
        return stream

    async def embed(self, model: Model, body: JSON) -> ProviderResponse:
        payload = {k: v for k, v in body.items() if k not in DENIED_BODY_KEYS}
        payload["model"] = model.upstream_name
        answer = await self._upstream.post_json(self._embeddings_url, self._headers, payload)
        return self._response(answer)

    async def responses(self, model: Model, body: JSON) -> ProviderResponse:
        payload = upstream_responses_body(model, body, DENIED_BODY_KEYS, stream=False)
        answer = await self._upstream.post_json(self._responses_url, self._headers, payload)
        if "error" in answer and answer["error"] is not None:
            error = inband_error(self.name, answer)
            if error is not None:
                raise error
        return ProviderResponse(body=answer, usage=usage_from_responses(answer.get("usage")))

    async def open_responses_stream(self, model: Model, body: JSON) -> OpenAIResponsesStream:
        payload = upstream_responses_body(model, body, DENIED_BODY_KEYS, stream=True)
        deadline = asyncio.get_running_loop().time() + self._timeouts.first_byte
        response = await self._upstream.open_stream(
            self._responses_url, self._stream_headers, payload
        )
        stream = OpenAIResponsesStream(response, self.name, self._timeouts)
        await stream.start(deadline)
        return stream

    def _response(self, answer: JSON) -> ProviderResponse:
        if "error" in answer:
            error = inband_error(self.name, answer)
            if error is not None:
                raise error
        return ProviderResponse(body=answer, usage=usage_from_openai(answer.get("usage")))

    async def aclose(self) -> None:
        await self._upstream.aclose()
