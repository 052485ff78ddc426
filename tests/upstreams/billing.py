"""How the fakes bill when told to bill like the real APIs (`bill=True` on a script), as an
adversary would: every prompt token a provider could count, every output token it may generate.

Text: one token per UTF-8 byte (no byte-level or byte-fallback tokenizer yields more), plus the
documented framing (OpenAI: 3 tokens a message, 1 for a name, 3 priming the reply). Tool
definitions, tool calls and schemas as their JSON. Images at each provider's published maximum
for the model (gpt-4o-mini's multiplied tiles, Anthropic's high tier, Gemini's tiles of the
image's real size), audio at 32 tokens a second of 8 kbit/s data. Output: every choice uses its
whole `max_tokens`; rejected predicted output bills as output.
"""

from __future__ import annotations

import json
import math
from typing import Any

from domain.metering.media import image_size

JSON = dict[str, Any]
_TOKENS_PER_MESSAGE = 3
_REPLY_PRIMING = 3
_OPENAI_TOOL_PREAMBLE = 100
_ANTHROPIC_TOOL_PROMPT = 346  # Anthropic's published tool-use system prompt (largest case)


def utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def json_bytes(value: Any) -> int:
    return utf8(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def audio_tokens(data: str) -> int:
    payload = data.rpartition(",")[2]
    return math.ceil(len(payload) * 3 // 4 / 1000) * 32


def openai_image_tokens(model: str, detail: Any = None) -> int:
    if "4o-mini" in model:
        return 2833 if detail == "low" else 2833 + 5667 * 8
    return 85 if detail == "low" else 85 + 170 * 8


def _openai_content(content: Any, model: str) -> int:
    if isinstance(content, str):
        return utf8(content)
    total = 0
    for part in content if isinstance(content, list) else ():
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            total += utf8(part["text"])
        elif kind == "image_url":
            total += openai_image_tokens(model, part["image_url"].get("detail"))
        elif kind == "input_audio":
            total += audio_tokens(part["input_audio"]["data"])
        else:
            total += json_bytes(part)
    return total


def openai_prompt_tokens(body: JSON) -> int:
    model = str(body.get("model", ""))
    total = _REPLY_PRIMING
    for message in body.get("messages") or ():
        total += _TOKENS_PER_MESSAGE + utf8(str(message.get("role", "")))
        total += _openai_content(message.get("content"), model)
        if isinstance(message.get("name"), str):
            total += 1 + utf8(message["name"])
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}  # the model reads the arguments as sent
            total += _TOKENS_PER_MESSAGE + utf8(str(call.get("id", "")))
            total += utf8(str(function.get("name", ""))) + utf8(str(function.get("arguments", "")))
        if message.get("function_call") is not None:
            total += json_bytes(message["function_call"])
        if isinstance(message.get("tool_call_id"), str):
            total += utf8(message["tool_call_id"])
    for key in ("tools", "functions"):
        if body.get(key):
            total += _OPENAI_TOOL_PREAMBLE + json_bytes(body[key])
    for key in ("tool_choice", "response_format"):
        if body.get(key) is not None:
            total += json_bytes(body[key])
    return total


def openai_completion_tokens(body: JSON, model_max: int = 4096) -> int:
    per_choice = body.get("max_completion_tokens") or body.get("max_tokens") or model_max
    total = int(body.get("n") or 1) * int(per_choice)
    prediction = body.get("prediction")
    if isinstance(prediction, dict) and prediction.get("content") is not None:
        content = prediction["content"]
        total += utf8(content) if isinstance(content, str) else json_bytes(content)
    return total


def openai_embedding_tokens(value: Any) -> int:
    inputs = [value] if isinstance(value, str) or _token_array(value) else value
    return sum(len(i) if _token_array(i) else utf8(i) for i in inputs)


def _token_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(t, int) for t in value)


def _anthropic_blocks(content: Any) -> int:
    if isinstance(content, str):
        return utf8(content)
    total = 0
    for block in content if isinstance(content, list) else ():
        kind = block.get("type")
        if kind == "text":
            total += utf8(block["text"])
        elif kind == "image":
            total += 4784
        elif kind == "tool_use":
            total += utf8(block["name"]) + utf8(block["id"]) + json_bytes(block["input"])
        elif kind == "tool_result":
            total += utf8(block["tool_use_id"]) + _anthropic_blocks(block.get("content"))
        elif kind == "thinking":
            total += utf8(block.get("thinking", ""))
        else:
            total += json_bytes(block)
    return total


def anthropic_input_tokens(body: JSON) -> int:
    total = _REPLY_PRIMING + _anthropic_blocks(body.get("system"))
    for turn in body.get("messages") or ():
        total += _TOKENS_PER_MESSAGE + _anthropic_blocks(turn.get("content"))
    if body.get("tools"):
        total += _ANTHROPIC_TOOL_PROMPT + json_bytes(body["tools"])
    return total


def _gemini_part(part: JSON) -> int:
    if "text" in part:
        return utf8(part["text"])
    if "inlineData" in part:
        data = part["inlineData"]
        if str(data.get("mimeType", "")).startswith("audio/"):
            return audio_tokens(data["data"])
        size = image_size(data["data"])
        assert size is not None, "the fake bills images of a known size only"
        width, height = size
        tiles = (
            1
            if width <= 384 and height <= 384
            else math.ceil(width / 768) * math.ceil(height / 768)
        )
        return tiles * 258
    return json_bytes(part)


def gemini_prompt_tokens(body: JSON) -> int:
    total = _REPLY_PRIMING
    system = body.get("systemInstruction")
    if isinstance(system, dict):
        total += sum(_gemini_part(p) for p in system.get("parts") or ())
    for content in body.get("contents") or ():
        total += _TOKENS_PER_MESSAGE + sum(_gemini_part(p) for p in content.get("parts") or ())
    if body.get("tools"):
        total += json_bytes(body["tools"])
    config = body.get("generationConfig") or {}
    if config.get("responseJsonSchema") is not None:
        total += json_bytes(config["responseJsonSchema"])
    return total


def gemini_candidate_tokens(body: JSON, model_max: int) -> int:
    config = body.get("generationConfig") or {}
    return int(config.get("candidateCount") or 1) * int(config.get("maxOutputTokens") or model_max)
