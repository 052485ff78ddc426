"""Measuring a request body: its JSON's bytes in one iterative pass, media parts collected
(docs/budgets.md: the text rule of domain.metering.request_bounds)."""

from __future__ import annotations

import json
from typing import Any

from domain.metering.media import Image

_MEDIA_TYPES = frozenset(
    {"image_url", "image", "input_image", "input_audio", "file", "document", "input_file"}
)


class BodyWalk:
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
                size += (len(item) if item.isascii() else utf8_size(item)) + 2
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
                    size += (len(key) if key.isascii() else utf8_size(key)) + 3
                    if type(child) is str:  # most children: measured here, not stacked
                        size += (len(child) if child.isascii() else utf8_size(child)) + 2
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
                size += utf8_size(str(item)) + 2
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
            self.audio_bytes += decoded_size(data)
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
            self.audio_bytes += decoded_size(data)
        else:
            self.unbounded = self.unbounded or f"{mime} parts"  # video, PDF: frames and pages
        return True


def utf8_size(text: str) -> int:
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
        walk = BodyWalk()
        walk.add([value])  # deeper than the encoder goes: 6 bytes for each of its bytes
        return walk.size * 6


def decoded_size(data: str) -> int:
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
