"""What one request can bill at most: the rules behind the budget hold (docs/budgets.md).

One pass over the parsed body measures everything a provider turns into prompt tokens and how
many output tokens it may generate; `prompt_tokens` and `output_tokens` then apply one target
model's rules (its context window, its provider's published per-image rule, its maximum
output), so the hold can take the largest over the model and its fallbacks.

The text rule: a tokenizer never yields more tokens than the UTF-8 bytes of the text it reads
(byte-level BPE and byte-fallback tokenizers emit at least one byte per token). Every string of
the body counts, and every key, quote, brace and comma of its JSON as well: that syntax (about
25 bytes a message) covers each provider's per-message framing (OpenAI documents 3 tokens a
message and 3 for the reply). Media parts count at their provider's rule instead of their bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.catalog.models import Model
from domain.metering.body_walk import BodyWalk, utf8_size
from domain.metering.media import (
    AUDIO_BYTES_PER_SECOND,
    AUDIO_TOKENS_PER_SECOND,
    Image,
    image_tokens,
    is_gemini,
)

# Tokens a provider may add around any prompt (reply priming, a system preamble).
FIXED_PROMPT_TOKENS = 64
# Added once when the request defines tools: Anthropic publishes up to 346 tokens of tool-use
# system prompt; OpenAI's hidden tool preamble is smaller.
TOOLS_PROMPT_TOKENS = 512
# Per embeddings input: begin/end markers some tokenizers add.
EMBEDDING_INPUT_TOKENS = 2

_CUSTOM_TOOL_TYPES = frozenset({"function", "custom"})
_SERVER_SIDE_FIELDS = ("mcp_servers", "container", "web_search_options")


class Dialect(StrEnum):
    OPENAI_CHAT = "openai_chat"
    EMBEDDINGS = "embeddings"
    ANTHROPIC = "anthropic"
    RESPONSES = "responses"
    GEMINI = "gemini"


@dataclass(frozen=True, slots=True)
class RequestBound:
    """The billable units of one request, before any model's rules apply.

    `text` is the prompt's text bound (bytes); `images` the image sources (URLs or data, kept
    by reference: only Gemini needs to look inside); `audio_bytes` the decoded audio size.
    `inputs` (embeddings) has one text bound per input, each capped by the context window on
    its own. `unbounded` names what no rule bounds (files, server-side tools): such a call is
    refused under a hard budget. Output: `max_tokens` per choice (None: the model's maximum),
    `choices` (n / candidateCount), `extra_output` (predicted output, billed when rejected).
    """

    dialect: Dialect
    text: int
    max_tokens: int | None = None
    choices: int = 1
    images: tuple[Image, ...] = ()
    audio_bytes: int = 0
    inputs: tuple[int, ...] = ()
    tools: bool = False
    extra_output: int = 0
    unbounded: str | None = None

    @property
    def prompt_chars(self) -> int:
        """Size of the prompt text, for estimates and rate limits (about 4 per token)."""
        return self.text + sum(self.inputs)

    def prompt_tokens(self, model: Model) -> int:
        """The most prompt tokens `model`'s provider can bill for this request."""
        window = model.context_window
        if self.dialect is Dialect.EMBEDDINGS:
            if max(self.inputs, default=0) <= window:
                return sum(self.inputs)
            return sum(min(tokens, window) for tokens in self.inputs)
        text = self.text + FIXED_PROMPT_TOKENS + (TOOLS_PROMPT_TOKENS if self.tools else 0)
        if self.unbounded is not None:
            text = window
        if model.provider == "anthropic" or is_gemini(model):
            return min(text + self.media_tokens(model), window)  # media count in the window
        # OpenAI and compatible servers: media outside the window cap, since gpt-4o-mini bills
        # image tokens that it does not count against its context.
        return min(text, window) + self.media_tokens(model)

    def media_tokens(self, model: Model) -> int:
        audio = math.ceil(self.audio_bytes / AUDIO_BYTES_PER_SECOND) * AUDIO_TOKENS_PER_SECOND
        return sum(image_tokens(model, image) for image in self.images) + audio

    def output_tokens(self, model: Model) -> int:
        """The most output tokens: every choice generates its maximum; a Gemini model also
        thinks (reported on top of its candidates) up to its maximum output per candidate."""
        thinking = self.choices * model.max_output_tokens if is_gemini(model) else 0
        return self.requested_output(model) + thinking

    def requested_output(self, model: Model) -> int:
        """The output the client asked for: `max_tokens` (or the model's maximum, never more)
        for each of `n` choices, plus predicted output. Rate limits count this, as OpenAI
        does."""
        if self.dialect is Dialect.EMBEDDINGS:
            return 0
        ceiling = model.max_output_tokens
        return self.choices * min(self.max_tokens or ceiling, ceiling) + self.extra_output


def _positive(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _tools_unbounded(tools: Any) -> str | None:
    """Server-side tools (web search, code execution...) read results the request does not
    hold; client tools of a known shape are text."""
    if not isinstance(tools, list):
        return None
    for tool in tools:
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind not in _CUSTOM_TOOL_TYPES:
            return f"the {kind} tool"
    return None


def text_bound(chars: int, max_tokens: int | None = None) -> RequestBound:
    """A chat request of `chars` bytes of text asking for `max_tokens` (one choice)."""
    return RequestBound(Dialect.OPENAI_CHAT, chars, max_tokens)


def chat_bound(body: dict[str, Any], max_tokens: int | None, choices: int) -> RequestBound:
    """An OpenAI chat completion (native or translated to another provider)."""
    walk = BodyWalk()
    walk.add(body)
    prediction = body.get("prediction")
    extra = BodyWalk()
    if isinstance(prediction, dict):
        extra.add(prediction.get("content"))  # rejected predicted tokens bill as output
    unbounded = walk.unbounded or _tools_unbounded(body.get("tools"))
    unbounded = unbounded or next((f for f in _SERVER_SIDE_FIELDS if f in body), None)
    messages = body.get("messages")
    if isinstance(messages, list) and any(
        isinstance(m, dict) and m.get("audio") is not None for m in messages
    ):
        unbounded = unbounded or "earlier audio answers"  # billed as audio we cannot see
    return RequestBound(
        Dialect.OPENAI_CHAT,
        walk.size,
        max_tokens,
        choices,
        tuple(walk.images),
        walk.audio_bytes,
        tools=bool(body.get("tools") or body.get("functions")),
        extra_output=extra.size,
        unbounded=unbounded,
    )


def messages_bound(body: dict[str, Any], max_tokens: int) -> RequestBound:
    """An Anthropic Messages request. Thinking counts in `max_tokens` (its budget must be
    smaller), so the output bound is `max_tokens`."""
    walk = BodyWalk()
    walk.add(body)
    unbounded = walk.unbounded or _tools_unbounded(body.get("tools"))
    unbounded = unbounded or next((f for f in _SERVER_SIDE_FIELDS if f in body), None)
    return RequestBound(
        Dialect.ANTHROPIC,
        walk.size,
        max_tokens,
        1,
        tuple(walk.images),
        walk.audio_bytes,
        tools=bool(body.get("tools")),
        unbounded=unbounded,
    )


def responses_bound(body: dict[str, Any], max_tokens: int | None) -> RequestBound:
    """An OpenAI Responses request: `instructions`, `input` (messages, images, function calls
    and their outputs) and `tools` all count, as the whole body is walked; one choice, of
    `max_output_tokens` (reasoning included) or the model's maximum. Built-in tools and
    state held elsewhere (a previous response, a conversation, a stored prompt) are unbounded
    (the translated route refuses them before the hold)."""
    walk = BodyWalk()
    walk.add(body)
    unbounded = walk.unbounded or _tools_unbounded(body.get("tools"))
    stateful = ("previous_response_id", "conversation", "prompt")
    unbounded = unbounded or next((f for f in stateful if body.get(f) is not None), None)
    return RequestBound(
        Dialect.RESPONSES,
        walk.size,
        max_tokens,
        1,
        tuple(walk.images),
        walk.audio_bytes,
        tools=bool(body.get("tools")),
        unbounded=unbounded,
    )


_GEMINI_CLIENT_TOOLS = frozenset({"functionDeclarations"})


def gemini_bound(body: dict[str, Any], max_tokens: int | None, candidates: int) -> RequestBound:
    """A Gemini `generateContent` request (native or translated): every string of the body
    counts (contents, systemInstruction, tools, function calls and responses), inline images
    at the target's rule, and `candidateCount` x `maxOutputTokens` of output. Server-side
    tools (Google Search, code execution, URL context) and cached contents read tokens the
    request does not hold: no rule bounds them."""
    walk = BodyWalk()
    walk.add(body)
    unbounded = walk.unbounded
    tools = body.get("tools")
    declared = False
    if isinstance(tools, list):
        for tool in tools:
            if not isinstance(tool, dict):
                continue
            declared = declared or bool(tool.get("functionDeclarations"))
            other = next((k for k in tool if k not in _GEMINI_CLIENT_TOOLS), None)
            unbounded = unbounded or (f"the {other} tool" if other else None)
    if body.get("cachedContent") is not None:
        unbounded = unbounded or "cachedContent"
    return RequestBound(
        Dialect.GEMINI,
        walk.size,
        max_tokens,
        candidates,
        tuple(walk.images),
        walk.audio_bytes,
        tools=declared,
        unbounded=unbounded,
    )


def gemini_embeddings_bound(contents: Sequence[Any]) -> RequestBound:
    """A Gemini `embedContent` / `batchEmbedContents` request: one bound per content (all of
    its JSON, each capped by the context window on its own), summed over the batch."""
    bounds = []
    for content in contents:
        walk = BodyWalk()
        walk.add(content)
        bounds.append(walk.size + EMBEDDING_INPUT_TOKENS)
    return RequestBound(Dialect.EMBEDDINGS, 0, inputs=tuple(bounds))


def embeddings_bound(value: Any) -> RequestBound:
    """An embeddings batch: one bound per input (a string's bytes, a token array's length),
    each capped by the context window separately, summed over the batch."""
    inputs: Sequence[Any]
    if isinstance(value, str) or (isinstance(value, list) and _is_token_array(value)):
        inputs = [value]
    elif isinstance(value, list):
        inputs = value
    else:
        inputs = [value]
    bounds = []
    for item in inputs:
        if isinstance(item, str):
            bounds.append(utf8_size(item) + EMBEDDING_INPUT_TOKENS)
        elif isinstance(item, list) and _is_token_array(item):
            bounds.append(len(item))
        else:  # not an input a provider accepts; count its JSON all the same
            walk = BodyWalk()
            walk.add(item)
            bounds.append(walk.size + EMBEDDING_INPUT_TOKENS)
    return RequestBound(Dialect.EMBEDDINGS, 0, inputs=tuple(bounds))


def _is_token_array(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
