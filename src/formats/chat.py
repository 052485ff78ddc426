"""OpenAI's chat format, the lingua franca: every provider port speaks it, every other format is
translated to and from it. What the translations share lives here: finish reasons, tool-call
shapes, data URLs and the usage classes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from domain.metering.tokens import TokenUsage
from domain.providers import JSON

# A JSON encoder and decoder: the standard library's by default; an adapter may pass a faster
# one (the Gemini provider passes orjson's, so its wire bytes are orjson's). A decoder raises
# ValueError (json.JSONDecodeError is one) or RecursionError for text that is not JSON.
Dumps = Callable[[object], str]
Loads = Callable[[str], object]

# Every finish_reason a chat answer may carry (function_call is the legacy tool-call reason).
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")


def usage_to_openai(usage: TokenUsage) -> JSON:
    """Usage in OpenAI's classes, for answers translated into OpenAI's format: prompt_tokens
    includes the cached part and completion_tokens the reasoning, as OpenAI's do."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def tool_call(call_id: object, name: object, arguments: str) -> JSON:
    """A chat tool call (`message.tool_calls[i]`), the shape every translation builds."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def function_tool(name: str, parameters: JSON, description: str | None) -> JSON:
    """A chat function tool (`tools[i]`); the description only when there is one."""
    function: JSON = {"name": name, "parameters": parameters}
    if description:
        function["description"] = description
    return {"type": "function", "function": function}


@dataclass(frozen=True)
class DataUrl:
    """A `data:` URL split: `data:<media_type>;<params>,<data>`."""

    media_type: str
    params: tuple[str, ...]
    data: str

    @property
    def base64(self) -> bool:
        return "base64" in self.params


def data_url(media_type: str, data: str) -> str:
    """Base64 data as the data: URL chat's image and file parts carry."""
    return f"data:{media_type};base64,{data}"


def parse_data_url(url: str) -> DataUrl | None:
    """A `data:` URL's parts; None when it is none (no `data:` scheme or no comma)."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    if not sep:
        return None
    media_type, *params = header.split(";")
    return DataUrl(media_type, tuple(params), data)


def compact_json(value: object) -> str:
    """JSON without spaces and with non-ASCII kept, as tool-call arguments travel."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _reject_constant(name: str) -> object:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def parse_json(text: str) -> object:
    """Strict JSON: NaN and Infinity, which Python's parser takes, are refused as JSON forbids.
    Raises json.JSONDecodeError (or RecursionError for absurd nesting)."""
    return json.loads(text, parse_constant=_reject_constant)
