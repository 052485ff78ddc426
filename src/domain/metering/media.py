"""Media parts of a request: the image and audio tokens each provider publishes, and an image's
size read from its first bytes (PNG, GIF, WebP, JPEG). Sources in docs/budgets.md."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from dataclasses import dataclass

from domain.catalog.models import Model

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


@dataclass(frozen=True, slots=True)
class Image:
    """An image part: its source (a URL or base64 data, by reference) and whether the client
    asked OpenAI for `detail: low`."""

    source: str
    low_detail: bool = False


def is_gemini(model: Model) -> bool:
    return model.provider in ("google", "gemini")


def image_tokens(model: Model, image: Image) -> int:
    """One image part at the target's published rule (docs/budgets.md)."""
    if model.provider == "anthropic":
        return ANTHROPIC_IMAGE_TOKENS
    if is_gemini(model):
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
