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

import base64
import binascii
import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.catalog.models import Model

# Tokens a provider may add around any prompt (reply priming, a system preamble).
FIXED_PROMPT_TOKENS = 64
# Added once when the request defines tools: Anthropic publishes up to 346 tokens of tool-use
# system prompt; OpenAI's hidden tool preamble is smaller.
TOOLS_PROMPT_TOKENS = 512
# Per embeddings input: begin/end markers some tokenizers add.
EMBEDDING_INPUT_TOKENS = 2

# Images, per part, as each provider publishes its rule (sources in docs/budgets.md).
# OpenAI: high detail fits 2048x2048, then shortest side 768: at most 2x4 = 8 tiles of 512 px.
OPENAI_4O_MINI_IMAGE_TOKENS = 2833 + 5667 * 8  # gpt-4o-mini's billing multiplier: 48,169
OPENAI_4O_MINI_LOW_DETAIL_TOKENS = 2833  # `detail: low`: the base alone
OPENAI_IMAGE_TOKENS = 4000  # any other: tiles (<= 85 + 170 x 8 = 1,445, x1.2 on gpt-5.2) or
# 32-px patches (<= 1,536 patches x 2.46 for the nano models = 3,779)
ANTHROPIC_IMAGE_TOKENS = 4784  # the high tier's ceiling (w/28 x h/28); the standard tier
# (w x h / 750, long edge <= 1568 px) stays near 1,600
GEMINI_TILE_TOKENS = 258  # per 768x768 tile; both sides <= 384 px: one
GEMINI_TILE = 768
GEMINI_MIN_IMAGE_TOKENS = 1120  # Gemini 3's media_resolution high, whatever the size
# Audio: 32 tokens a second (Gemini's published rate, the highest; OpenAI's is about 10), and
# 1,000 bytes a second of audio (8 kbit/s, the lowest MP3 bitrate; WAV carries far more), so
# every kilobyte of audio data counts 32 tokens.
AUDIO_TOKENS_PER_SECOND = 32
AUDIO_BYTES_PER_SECOND = 1000

_MEDIA_TYPES = frozenset(
    {"image_url", "image", "input_image", "input_audio", "file", "document", "input_file"}
)
_CUSTOM_TOOL_TYPES = frozenset({"function", "custom"})
_SERVER_SIDE_FIELDS = ("mcp_servers", "container", "web_search_options")


@dataclass(frozen=True, slots=True)
class Image:
    """An image part: its source (a URL or base64 data, by reference) and whether the client
    asked OpenAI for `detail: low`."""

    source: str
    low_detail: bool = False


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
        if model.provider == "anthropic" or _is_gemini(model):
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
        thinking = self.choices * model.max_output_tokens if _is_gemini(model) else 0
        return self.requested_output(model) + thinking

    def requested_output(self, model: Model) -> int:
        """The output the client asked for: `max_tokens` (or the model's maximum, never more)
        for each of `n` choices, plus predicted output. Rate limits count this, as OpenAI
        does."""
        if self.dialect is Dialect.EMBEDDINGS:
            return 0
        ceiling = model.max_output_tokens
        return self.choices * min(self.max_tokens or ceiling, ceiling) + self.extra_output


def _is_gemini(model: Model) -> bool:
    return model.provider in ("google", "gemini")


def image_tokens(model: Model, image: Image) -> int:
    """One image part at the target's published rule (docs/budgets.md)."""
    if model.provider == "anthropic":
        return ANTHROPIC_IMAGE_TOKENS
    if _is_gemini(model):
        size = image_size(image.source)
        if size is None:
            return model.context_window  # a URL or an unknown format: no size to go by
        width, height = size
        if width <= 384 and height <= 384:
            tiles = 1
        else:
            tiles = math.ceil(width / GEMINI_TILE) * math.ceil(height / GEMINI_TILE)
        return max(tiles * GEMINI_TILE_TOKENS, GEMINI_MIN_IMAGE_TOKENS)
    if "4o-mini" in model.upstream_name:  # a tile model: low detail is its base alone
        return OPENAI_4O_MINI_LOW_DETAIL_TOKENS if image.low_detail else OPENAI_4O_MINI_IMAGE_TOKENS
    return OPENAI_IMAGE_TOKENS  # patch models ignore `detail`


# --- measuring a body --------------------------------------------------------------------


class _Walk:
    """Counts a JSON value's bytes in one iterative pass (no recursion: any nesting depth),
    collecting media parts instead of counting their payloads."""

    __slots__ = ("audio_bytes", "images", "size", "unbounded")

    def __init__(self) -> None:
        self.size = 0
        self.images: list[Image] = []
        self.audio_bytes = 0
        self.unbounded: str | None = None

    def add(self, value: Any) -> None:
        stack = [value]
        size = 0
        media = self._media
        while stack:
            item = stack.pop()
            kind = type(item)
            if kind is str:
                size += (len(item) if item.isascii() else _utf8(item)) + 2
            elif kind is dict:
                part_type = item.get("type")
                if type(part_type) is str and part_type in _MEDIA_TYPES and media(part_type, item):
                    size += 16  # the part's own framing
                    continue
                if ("inlineData" in item or "fileData" in item) and self._gemini_media(item):
                    size += 16
                    continue
                if part_type == "tool_use" and "input" in item:
                    size += _escaped_json(item["input"])
                    item = {k: v for k, v in item.items() if k != "input"}
                elif "functionCall" in item or "functionResponse" in item:
                    escaped, item = _without_payloads(item)
                    size += escaped
                size += 1 + len(item)
                for key, child in item.items():
                    size += (len(key) if key.isascii() else _utf8(key)) + 3
                    if type(child) is str:  # most children: measured here, not stacked
                        size += (len(child) if child.isascii() else _utf8(child)) + 2
                    else:
                        stack.append(child)
            elif kind is list:
                size += 1 + len(item)
                stack.extend(item)
            elif item is None or kind is bool:
                size += 5
            elif kind is int or kind is float:
                size += len(repr(item))
            else:  # not from a JSON parser; measured as its text
                size += _utf8(str(item)) + 2
        self.size += size

    def _media(self, kind: str, part: dict[str, Any]) -> bool:
        """Record a media part; False when it is not one after all (count it as JSON)."""
        if kind == "input_image" and "input_image" not in part:  # the Responses API's shape
            url = part.get("image_url")
            if not isinstance(url, str):
                if part.get("file_id") is None:
                    return False
                self.unbounded = self.unbounded or "images by file_id"
                return True
            self.images.append(Image(url, part.get("detail") == "low"))
            return True
        if kind in ("image_url", "input_image"):
            image = part.get(kind)
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                return False
            low = isinstance(image, dict) and image.get("detail") == "low"
            self.images.append(Image(url, low))
            return True
        if kind == "image":
            self.images.append(Image(_anthropic_source(part.get("source"))))
            return True
        if kind == "input_audio":
            audio = part.get("input_audio")
            data = audio.get("data") if isinstance(audio, dict) else None
            if not isinstance(data, str):
                return False
            self.audio_bytes += _decoded_size(data)
            return True
        if kind == "document":
            source = part.get("source")
            if isinstance(source, dict) and source.get("type") in ("text", "content"):
                return False  # plain text documents count as text
        self.unbounded = self.unbounded or f"{kind} parts"  # PDFs: pages of text and images
        return True

    def _gemini_media(self, part: dict[str, Any]) -> bool:
        """A Gemini `inlineData` (images by their pixels, audio by its bytes) or `fileData`
        part (an uploaded file: no rule bounds it); False when it is not one after all."""
        if "fileData" in part:
            self.unbounded = self.unbounded or "fileData parts"
            return True
        inline = part["inlineData"]
        if not isinstance(inline, dict):
            return False
        mime, data = inline.get("mimeType"), inline.get("data")
        if not isinstance(mime, str) or not isinstance(data, str):
            return False
        if mime.startswith("image/"):
            self.images.append(Image(data))
        elif mime.startswith("audio/"):
            self.audio_bytes += _decoded_size(data)
        else:
            self.unbounded = self.unbounded or f"{mime} parts"  # video, PDF: frames and pages
        return True


def _utf8(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


_GEMINI_FUNCTION_PAYLOADS = (("functionCall", "args"), ("functionResponse", "response"))


def _without_payloads(item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A Gemini part's function call arguments and function response, as their escaped JSON:
    a translation to OpenAI sends them as JSON strings, whose quotes, backslashes and control
    characters are escaped (up to 6 bytes for one); the part without them, to walk on."""
    size = 0
    for key, payload in _GEMINI_FUNCTION_PAYLOADS:
        inner = item.get(key)
        if isinstance(inner, dict) and payload in inner:
            size += _escaped_json(inner[payload])
            item = {**item, key: {k: v for k, v in inner.items() if k != payload}}
    return size, item


def _escaped_json(value: Any) -> int:
    """Bytes of `value` as ASCII-escaped compact JSON: what a translation to OpenAI sends as
    a tool call's `arguments` (an escaped non-ASCII character is 6 bytes, or 12 for two
    surrogates; never fewer than its UTF-8 bytes)."""
    try:
        return len(json.dumps(value, separators=(",", ":")))
    except (ValueError, RecursionError):
        walk = _Walk()
        walk.add([value])  # deeper than the encoder goes: 6 bytes for each of its bytes
        return walk.size * 6


def _decoded_size(data: str) -> int:
    """Bytes of base64 data (a data: URL's payload, or bare base64)."""
    payload = data.rpartition(",")[2] if data.startswith("data:") else data
    return len(payload) * 3 // 4


def _anthropic_source(source: Any) -> str:
    if isinstance(source, dict):
        if source.get("type") == "base64" and isinstance(source.get("data"), str):
            return str(source["data"])
        if isinstance(source.get("url"), str):
            return str(source["url"])
    return ""


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
    walk = _Walk()
    walk.add(body)
    prediction = body.get("prediction")
    extra = _Walk()
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
    walk = _Walk()
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
    walk = _Walk()
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
    walk = _Walk()
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
        walk = _Walk()
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
            bounds.append(_utf8(item) + EMBEDDING_INPUT_TOKENS)
        elif isinstance(item, list) and _is_token_array(item):
            bounds.append(len(item))
        else:  # not an input a provider accepts; count its JSON all the same
            walk = _Walk()
            walk.add(item)
            bounds.append(walk.size + EMBEDDING_INPUT_TOKENS)
    return RequestBound(Dialect.EMBEDDINGS, 0, inputs=tuple(bounds))


def _is_token_array(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)


# --- image sizes (Gemini bills by pixels) -------------------------------------------------

_HEAD_CHARS = 96 * 1024  # base64 of the first 72 KiB: room for JPEG's EXIF before its frame


def image_size(source: str) -> tuple[int, int] | None:
    """Width and height of an inline PNG, GIF, WebP or JPEG (a data: URL or bare base64),
    read from its header; None for a URL or anything else."""
    if source.startswith(("http://", "https://")) or not source:
        return None
    payload = source.rpartition(",")[2] if source.startswith("data:") else source
    head = payload[:_HEAD_CHARS]
    head = head[: len(head) - len(head) % 4]
    try:
        data = base64.b64decode(head, validate=False)
    except (binascii.Error, ValueError):
        return None
    return _png(data) or _gif(data) or _webp(data) or _jpeg(data)


def _png(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return None


def _gif(data: bytes) -> tuple[int, int] | None:
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    if data[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    return None
