"""Pure translation between OpenAI's chat/embeddings format and Gemini's `generateContent` API.

Kept apart from the HTTP adapter so every rule is pinned by golden tests without a network.

Usage follows domain.tokens: Gemini's `promptTokenCount` already includes the cached tokens and
`toolUsePromptTokenCount` is prompt read on top of it; `thoughtsTokenCount` is reasoning
generated on top of `candidatesTokenCount`. Gemini's JSON omits zero-valued counts (proto3),
so inside a present `usageMetadata` object a missing count means zero; a missing object means
no report at all. Streaming reports are cumulative: the last one wins, they are never summed.
"""

from __future__ import annotations

import base64
import mimetypes
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

from adapters.providers.openai import usage_to_openai
from domain.errors import ValidationError
from domain.providers import JSON, ProviderError, ProviderFailure
from domain.tokens import TokenUsage

IdFactory = Callable[[], str]

_FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
}
# Extensions mapped here rather than by the platform's mime table, so a URL translates the same
# on every machine. Unknown image URLs default to JPEG (Gemini needs some mime type).
_MIME_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".pdf": "application/pdf",
}
_TOOL_CHOICE_MODES = {"none": "NONE", "auto": "AUTO", "required": "ANY"}


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


# --- usage -----------------------------------------------------------------------------------


def _count(meta: JSON, name: str) -> int:
    value = meta.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProviderError(ProviderFailure.BAD_RESPONSE, f"gemini sent an invalid {name}")
    return value


def usage_from_gemini(meta: Any) -> TokenUsage | None:
    """Gemini `usageMetadata` in the product's token convention; None when there is no report.
    A present object with omitted counts is a report of zeros (Gemini drops zero fields)."""
    if not isinstance(meta, dict):
        return None
    prompt = _count(meta, "promptTokenCount") + _count(meta, "toolUsePromptTokenCount")
    thoughts = _count(meta, "thoughtsTokenCount")
    try:
        return TokenUsage(
            input_tokens=prompt,
            cached_input_tokens=_count(meta, "cachedContentTokenCount"),
            output_tokens=_count(meta, "candidatesTokenCount") + thoughts,
            reasoning_tokens=thoughts,
        )
    except ValidationError as exc:
        raise ProviderError(
            ProviderFailure.BAD_RESPONSE, "gemini sent inconsistent token counts"
        ) from exc


# --- request ---------------------------------------------------------------------------------


def chat_request_to_gemini(body: JSON) -> JSON:
    """An OpenAI chat request as a Gemini `GenerateContentRequest`. Raises ValidationError for
    what Gemini cannot express (the client's request is wrong for this model)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValidationError("messages must be a non-empty list")
    system, contents = _messages(messages)
    request: JSON = {"contents": contents}
    if system:
        request["systemInstruction"] = {"parts": system}
    if config := _generation_config(body):
        request["generationConfig"] = config
    if tools := _tools(body.get("tools")):
        request["tools"] = tools
    if (choice := body.get("tool_choice")) is not None:
        request["toolConfig"] = _tool_config(choice)
    return request


def _messages(messages: list[Any]) -> tuple[list[JSON], list[JSON]]:
    system: list[JSON] = []
    contents: list[JSON] = []
    names: dict[str, str] = {}  # tool_call_id -> function name, for functionResponse parts
    for message in messages:
        if not isinstance(message, dict):
            raise ValidationError("each message must be an object")
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_parts(message.get("content")))
        elif role == "user":
            _append(contents, "user", _user_parts(message.get("content")))
        elif role == "assistant":
            _append(contents, "model", _assistant_parts(message, names))
        elif role == "tool":
            _append(contents, "user", [_tool_result(message, names)])
        else:
            raise ValidationError(f"unsupported message role {role!r}")
    if not contents:
        raise ValidationError("at least one user or assistant message is required")
    return system, contents


def _append(contents: list[JSON], role: str, parts: list[JSON]) -> None:
    """Consecutive turns of one role are merged: Gemini wants user and model turns to
    alternate, and every tool result of one step in the single turn after the call."""
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _text_parts(content: Any) -> list[JSON]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise ValidationError("message content must be a string or a list of parts")
    parts: list[JSON] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in ("text", "refusal"):
            raise ValidationError(f"unsupported content part {kind!r} here")
        text = part.get(kind)
        if not isinstance(text, str):
            raise ValidationError(f"{kind} part needs a string")
        if text:
            parts.append({"text": text})
    return parts


def _user_parts(content: Any) -> list[JSON]:
    if not isinstance(content, list):
        return _text_parts(content)
    parts: list[JSON] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.extend(_text_parts([part]))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append(_media_part(url))
        elif kind == "input_audio":
            parts.append(_audio_part(part.get("input_audio")))
        elif kind == "file":
            file = part.get("file")
            data = file.get("file_data") if isinstance(file, dict) else None
            if not isinstance(data, str) or not data.startswith("data:"):
                raise ValidationError("file parts need inline file_data (a data: URL)")
            parts.append(_media_part(data))
        else:
            raise ValidationError(f"unsupported content part {kind!r}")
    return parts


def _media_part(url: Any) -> JSON:
    """A data: URL becomes inlineData; an http(s) URL becomes fileData with a guessed type."""
    if not isinstance(url, str) or not url:
        raise ValidationError("image_url needs a url")
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        mime, *params = header.split(";")
        if not sep or "base64" not in params or not data:
            raise ValidationError("data URLs must be base64-encoded")
        return {"inlineData": {"mimeType": mime or "application/octet-stream", "data": data}}
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError("image_url must be a data: or http(s) URL")
    return {"fileData": {"mimeType": _guess_mime(parsed.path), "fileUri": url}}


def _guess_mime(path: str) -> str:
    extension = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    known = _MIME_BY_EXTENSION.get(extension)
    return known or mimetypes.guess_type(f"x{extension}")[0] or "image/jpeg"


def _audio_part(audio: Any) -> JSON:
    if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
        raise ValidationError("input_audio needs base64 data")
    fmt = audio.get("format")
    if fmt not in ("wav", "mp3"):
        raise ValidationError("input_audio format must be wav or mp3")
    return {"inlineData": {"mimeType": f"audio/{fmt}", "data": audio["data"]}}


def _assistant_parts(message: JSON, names: dict[str, str]) -> list[JSON]:
    parts = _text_parts(message.get("content"))
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise ValidationError("tool_calls must be a list")
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ValidationError("each tool call needs a function name")
        if isinstance(call.get("id"), str):
            names[call["id"]] = function["name"]
        part: JSON = {"functionCall": {"name": function["name"], "args": _arguments(function)}}
        if signature := _thought_signature(call):
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _arguments(function: JSON) -> JSON:
    raw = function.get("arguments") or "{}"
    try:
        args = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError as exc:
        raise ValidationError("tool call arguments must be valid JSON") from exc
    if not isinstance(args, dict):
        raise ValidationError("tool call arguments must be a JSON object")
    return args


def _thought_signature(call: JSON) -> str | None:
    """Gemini's signature travels in `extra_content.google` (as in Google's own OpenAI-compatible
    endpoint), so a client that echoes the assistant message back keeps multi-step tool use."""
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) else None


def _tool_result(message: JSON, names: dict[str, str]) -> JSON:
    call_id = message.get("tool_call_id")
    name = names.get(call_id) if isinstance(call_id, str) else None
    if name is None:
        raise ValidationError(f"tool message answers an unknown tool_call_id {call_id!r}")
    text = "".join(part["text"] for part in _text_parts(message.get("content")))
    return {"functionResponse": {"name": name, "response": _response_object(text)}}


def _response_object(text: str) -> JSON:
    """Gemini wants an object: a JSON object result is passed as is, anything else is wrapped."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"content": text}


def _number(body: JSON, name: str) -> float | int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number")
    return value


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer")
    return value


def _generation_config(body: JSON) -> JSON:
    config: JSON = {}
    max_tokens = body.get("max_completion_tokens")
    if max_tokens is None:
        max_tokens = body.get("max_tokens")
    if max_tokens is not None:
        config["maxOutputTokens"] = _positive_int(max_tokens, "max_tokens")
    numbers = {
        "temperature": "temperature",
        "top_p": "topP",
        "presence_penalty": "presencePenalty",
        "frequency_penalty": "frequencyPenalty",
    }
    for ours, theirs in numbers.items():
        if (value := _number(body, ours)) is not None:
            config[theirs] = value
    if (seed := body.get("seed")) is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValidationError("seed must be an integer")
        config["seed"] = seed
    if body.get("n") is not None:
        config["candidateCount"] = _positive_int(body["n"], "n")
    if (stop := body.get("stop")) is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise ValidationError("stop must be a string or a list of strings")
        if stops:
            config["stopSequences"] = stops
    config.update(_response_format(body.get("response_format")))
    return config


def _response_format(fmt: Any) -> JSON:
    kind = fmt.get("type") if isinstance(fmt, dict) else fmt
    if fmt is None or kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    schema = fmt.get("json_schema") if isinstance(fmt, dict) else None
    if (
        kind == "json_schema"
        and isinstance(schema, dict)
        and isinstance(schema.get("schema"), dict)
    ):
        return {"responseMimeType": "application/json", "responseJsonSchema": schema["schema"]}
    raise ValidationError("unsupported response_format")


def _tools(tools: Any) -> list[JSON]:
    """Function tools as declarations; parameters go as `parametersJsonSchema`, which takes full
    JSON Schema, where the older `parameters` field refuses keys like `additionalProperties`."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise ValidationError("tools must be a list")
    declarations: list[JSON] = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            raise ValidationError("only function tools are supported")
        if not isinstance(function.get("name"), str):
            raise ValidationError("each function tool needs a name")
        declaration: JSON = {"name": function["name"]}
        if isinstance(function.get("description"), str):
            declaration["description"] = function["description"]
        if isinstance(function.get("parameters"), dict):
            declaration["parametersJsonSchema"] = function["parameters"]
        declarations.append(declaration)
    return [{"functionDeclarations": declarations}] if declarations else []


def _tool_config(choice: Any) -> JSON:
    if isinstance(choice, str) and choice in _TOOL_CHOICE_MODES:
        return {"functionCallingConfig": {"mode": _TOOL_CHOICE_MODES[choice]}}
    function = choice.get("function") if isinstance(choice, dict) else None
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        config = {"mode": "ANY", "allowedFunctionNames": [function["name"]]}
        return {"functionCallingConfig": config}
    raise ValidationError("unsupported tool_choice")


# --- response --------------------------------------------------------------------------------


def _dicts(value: Any) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _parts(candidate: JSON) -> list[JSON]:
    content = candidate.get("content")
    return _dicts(content.get("parts")) if isinstance(content, dict) else []


def _text(parts: list[JSON]) -> str:
    """Answer text only: thought-summary parts (`thought: true`) are not the answer."""
    return "".join(
        part["text"]
        for part in parts
        if isinstance(part.get("text"), str) and not part.get("thought")
    )


def _tool_call(part: JSON, new_id: IdFactory) -> JSON | None:
    call = part.get("functionCall")
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None
    args = call.get("args") if isinstance(call.get("args"), dict) else {}
    call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else new_id()
    arguments = orjson.dumps(args).decode()
    tool_call: JSON = {
        "id": call_id,
        "type": "function",
        "function": {"name": call["name"], "arguments": arguments},
    }
    if isinstance(part.get("thoughtSignature"), str):
        tool_call["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return tool_call


def _tool_calls(parts: list[JSON], new_id: IdFactory) -> list[JSON]:
    return [call for part in parts if (call := _tool_call(part, new_id)) is not None]


def finish_reason(reason: Any, has_tool_calls: bool) -> str:
    mapped = _FINISH_REASONS.get(reason, "stop") if isinstance(reason, str) else "stop"
    return "tool_calls" if has_tool_calls and mapped == "stop" else mapped


def _index(candidate: JSON, default: int) -> int:
    index = candidate.get("index", default)
    return index if isinstance(index, int) and not isinstance(index, bool) else default


def _blocked(response: JSON) -> bool:
    feedback = response.get("promptFeedback")
    return isinstance(feedback, dict) and bool(feedback.get("blockReason"))


def _completion_id(response: JSON) -> str:
    response_id = response.get("responseId")
    return f"chatcmpl-{response_id if isinstance(response_id, str) else uuid.uuid4().hex}"


def chat_response_to_openai(
    response: JSON, model: str, *, created: int | None = None, new_id: IdFactory = new_call_id
) -> JSON:
    """A Gemini `GenerateContentResponse` as an OpenAI `chat.completion` body."""
    choices = []
    for position, candidate in enumerate(_dicts(response.get("candidates"))):
        parts = _parts(candidate)
        calls = _tool_calls(parts, new_id)
        message: JSON = {"role": "assistant", "content": _text(parts) or None, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        choices.append(
            {
                "index": _index(candidate, position),
                "message": message,
                "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
                "logprobs": None,
            }
        )
    if not choices:  # a blocked prompt answers no candidate at all
        reason = "content_filter" if _blocked(response) else "stop"
        message = {"role": "assistant", "content": None, "refusal": None}
        choices.append({"index": 0, "message": message, "finish_reason": reason, "logprobs": None})
    body: JSON = {
        "id": _completion_id(response),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": choices,
    }
    usage = usage_from_gemini(response.get("usageMetadata"))
    if usage is not None:
        body["usage"] = usage_to_openai(usage)
    return body


# --- streaming -------------------------------------------------------------------------------


class GeminiToOpenAIStream:
    """Turns each streamed `GenerateContentResponse` into OpenAI `chat.completion.chunk`s: a role
    chunk per choice first, then text and tool-call deltas, a finish chunk, and from `finish()`
    one usage chunk (`choices: []`). Usage keeps the LAST report: Gemini's are cumulative."""

    def __init__(
        self, model: str, *, created: int | None = None, new_id: IdFactory = new_call_id
    ) -> None:
        self._model = model
        self._created = int(time.time()) if created is None else created
        self._new_id = new_id
        self._id: str | None = None
        self._started: set[int] = set()
        self._finished: set[int] = set()
        self._tool_calls: dict[int, int] = {}  # choice index -> tool calls sent so far
        self.usage: TokenUsage | None = None

    def feed(self, event: JSON) -> list[JSON]:
        if isinstance(event.get("error"), dict):
            error = event["error"]
            status = error.get("code") if isinstance(error.get("code"), int) else None
            raise ProviderError(
                ProviderFailure.STATUS,
                "gemini reported an error mid-stream",
                status=status,
                body=event,
                usage=self.usage,
            )
        if self._id is None:
            self._id = _completion_id(event)
        if "usageMetadata" in event:
            self.usage = usage_from_gemini(event["usageMetadata"])  # replaces, never adds
        chunks: list[JSON] = []
        candidates = _dicts(event.get("candidates"))
        for position, candidate in enumerate(candidates):
            chunks.extend(self._candidate(candidate, position))
        if not candidates and _blocked(event) and 0 not in self._finished:
            chunks.extend(self._start(0))
            chunks.append(self._finish(0, "content_filter"))
        return chunks

    def finish(self) -> list[JSON]:
        """The closing usage chunk, when Gemini reported any usage."""
        if self.usage is None:
            return []
        return [{**self._envelope(), "choices": [], "usage": usage_to_openai(self.usage)}]

    def _candidate(self, candidate: JSON, position: int) -> list[JSON]:
        index = _index(candidate, position)
        chunks = self._start(index)
        parts = _parts(candidate)
        if text := _text(parts):
            chunks.append(self._delta(index, {"content": text}))
        for call in _tool_calls(parts, self._new_id):
            sent = self._tool_calls.get(index, 0)
            self._tool_calls[index] = sent + 1
            chunks.append(self._delta(index, {"tool_calls": [{"index": sent, **call}]}))
        reason = candidate.get("finishReason")
        if reason and reason != "FINISH_REASON_UNSPECIFIED" and index not in self._finished:
            has_calls = self._tool_calls.get(index, 0) > 0
            chunks.append(self._finish(index, finish_reason(reason, has_calls)))
        return chunks

    def _start(self, index: int) -> list[JSON]:
        if index in self._started:
            return []
        self._started.add(index)
        return [self._delta(index, {"role": "assistant", "content": ""})]

    def _finish(self, index: int, reason: str) -> JSON:
        self._finished.add(index)
        return self._chunk(index, {}, reason)

    def _delta(self, index: int, delta: JSON) -> JSON:
        return self._chunk(index, delta, None)

    def _chunk(self, index: int, delta: JSON, reason: str | None) -> JSON:
        choice = {"index": index, "delta": delta, "finish_reason": reason, "logprobs": None}
        return {**self._envelope(), "choices": [choice]}

    def _envelope(self) -> JSON:
        if self._id is None:
            self._id = f"chatcmpl-{uuid.uuid4().hex}"
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
        }


# --- embeddings ------------------------------------------------------------------------------


def estimate_embedding_tokens(texts: list[str]) -> int:
    """ceil(characters / 4) per input, summed: deterministic, because Gemini's embedding
    responses carry no token count at all. It is an ESTIMATE, to be recorded as such."""
    return sum(-(-len(text) // 4) for text in texts)


def embeddings_request_to_gemini(body: JSON, upstream_model: str) -> tuple[JSON, list[str]]:
    """An OpenAI embeddings request as a `batchEmbedContents` body, plus the input texts (kept
    for the estimate). Token-array inputs are refused: Gemini embeds text only."""
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ValidationError("input must be a string or a non-empty list of strings")
    if body.get("encoding_format") not in (None, "float", "base64"):
        raise ValidationError("encoding_format must be float or base64")
    extra: JSON = {}
    if body.get("dimensions") is not None:
        extra["outputDimensionality"] = _positive_int(body["dimensions"], "dimensions")
    requests = [
        {"model": f"models/{upstream_model}", "content": {"parts": [{"text": text}]}, **extra}
        for text in texts
    ]
    return {"requests": requests}, texts


def _vector(embedding: JSON) -> list[float]:
    values = embedding.get("values")
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise ProviderError(ProviderFailure.BAD_RESPONSE, "gemini sent an invalid embedding")
    return [float(v) for v in values]


def _encode(vector: list[float], encoding_format: Any) -> list[float] | str:
    """`base64` is little-endian float32, as OpenAI sends it (its SDK asks for it by default)."""
    if encoding_format != "base64":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings_response_to_openai(
    response: JSON, model: str, texts: list[str], encoding_format: Any = None
) -> tuple[JSON, TokenUsage]:
    """A `batchEmbedContents` answer as an OpenAI embeddings body. The usage returned (and put
    in the body) is `estimate_embedding_tokens`, an estimate: Gemini reports no tokens here."""
    embeddings = _dicts(response.get("embeddings"))
    if len(embeddings) != len(texts):
        raise ProviderError(
            ProviderFailure.BAD_RESPONSE, "gemini answered a different number of embeddings"
        )
    data = [
        {"object": "embedding", "index": i, "embedding": _encode(_vector(e), encoding_format)}
        for i, e in enumerate(embeddings)
    ]
    tokens = estimate_embedding_tokens(texts)
    body: JSON = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return body, TokenUsage(input_tokens=tokens)
