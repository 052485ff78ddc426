"""Gemini's native API <-> OpenAI chat and embeddings, for `/v1beta/models/...` calls whose
model is not Google's (demo, OpenAI, Anthropic), and Google's error body for every failure.

The google-genai SDK then works against any model: the `generateContent` request is translated
to the OpenAI format every provider adapter speaks, and the answer (or chunk stream) back into
`GenerateContentResponse` objects, with usage in Gemini's classes (`promptTokenCount` includes
the cached tokens; `thoughtsTokenCount` is on top of `candidatesTokenCount`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from domain.errors import ValidationError
from domain.providers import JSON

# Google's canonical status names (google.rpc.Code) by HTTP status.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    422: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_FINISH_REASONS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "content_filter": "SAFETY",
}


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")


def gemini_error_body(status: int, message: str) -> JSON:
    """Google's error body, which google-genai raises as ClientError / ServerError."""
    return {"error": {"code": status, "message": message, "status": status_name(status)}}


# ---------------------------------------------------------------- request checks
# Every field read from the client's body is type-checked, so a wrong JSON type is a 400 naming
# the field (never an AttributeError), for native and translated calls alike.


def _objects(value: Any, what: str, *, required: bool = False) -> list[JSON]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise ValidationError(
            f"'{what}' must be a non-empty array" if required else f"'{what}' must be an array"
        )
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValidationError(f"'{what}[{index}]' must be an object")
    return value


def _object(value: Any, what: str) -> JSON:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"'{what}' must be an object")
    return value


def _positive(config: JSON, name: str) -> int | None:
    value = config.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"'generationConfig.{name}' must be a positive integer")
    return value


def contents_of(body: JSON) -> list[JSON]:
    """`contents`: a non-empty list of `{role, parts}` objects whose parts are objects."""
    contents = _objects(body.get("contents"), "contents", required=True)
    for i, content in enumerate(contents):
        role = content.get("role", "user")
        if role not in ("user", "model", "function", "tool"):
            raise ValidationError(f"'contents[{i}].role' must be user or model")
        _objects(content.get("parts"), f"contents[{i}].parts", required=True)
    return contents


def generation_config(body: JSON) -> tuple[JSON, int | None, int]:
    """`generationConfig`, its `maxOutputTokens` and its `candidateCount` (1 by default)."""
    config = _object(body.get("generationConfig"), "generationConfig")
    return config, _positive(config, "maxOutputTokens"), _positive(config, "candidateCount") or 1


def check_generate(body: JSON) -> tuple[int | None, int]:
    """A `generateContent` body's shape; returns maxOutputTokens and candidateCount."""
    contents_of(body)
    system = body.get("systemInstruction")
    if system is not None and not isinstance(system, dict | str):
        raise ValidationError("'systemInstruction' must be a Content object")
    if isinstance(system, dict):
        _objects(system.get("parts"), "systemInstruction.parts")
    for i, tool in enumerate(_objects(body.get("tools"), "tools")):
        _objects(tool.get("functionDeclarations"), f"tools[{i}].functionDeclarations")
    _object(body.get("toolConfig"), "toolConfig")
    _, max_tokens, candidates = generation_config(body)
    return max_tokens, candidates


def embed_requests(body: JSON, batch: bool) -> list[JSON]:
    """The `EmbedContentRequest`s of an `embedContent` (one) or `batchEmbedContents` body."""
    requests = _objects(body.get("requests"), "requests", required=True) if batch else [body]
    for i, request in enumerate(requests):
        where = f"requests[{i}].content" if batch else "content"
        content = request.get("content")
        if not isinstance(content, dict):
            raise ValidationError(f"'{where}' must be a Content object")
        _objects(content.get("parts"), f"{where}.parts", required=True)
        dims = request.get("outputDimensionality")
        if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims <= 0):
            raise ValidationError("'outputDimensionality' must be a positive integer")
    return requests


# ---------------------------------------------------------------- request translation


def _text_of(parts: list[JSON], what: str) -> str:
    texts = []
    for part in parts:
        text = part.get("text")
        if not isinstance(text, str):
            raise ValidationError(f"'{what}' may only hold text parts")
        texts.append(text)
    return "".join(texts)


def _system(value: Any) -> str:
    if isinstance(value, str):
        return value
    return _text_of(_objects(value.get("parts"), "systemInstruction.parts"), "systemInstruction")


def _inline(part: JSON) -> JSON:
    inline = part["inlineData"]
    mime, data = (
        (inline.get("mimeType"), inline.get("data")) if isinstance(inline, dict) else (None, None)
    )
    if not isinstance(mime, str) or not isinstance(data, str):
        raise ValidationError("'inlineData' needs a string mimeType and data")
    if mime.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}
    if mime in ("audio/wav", "audio/mp3", "audio/mpeg"):
        audio_format = "wav" if mime == "audio/wav" else "mp3"
        return {"type": "input_audio", "input_audio": {"data": data, "format": audio_format}}
    raise ValidationError(f"inlineData of type {mime} is only supported on Google models")


def _function_call(part: JSON, index: int) -> JSON:
    call = part["functionCall"]
    name = call.get("name") if isinstance(call, dict) else None
    if not isinstance(name, str) or not name:
        raise ValidationError("'functionCall.name' must be a string")
    args = call.get("args", {})
    if not isinstance(args, dict):
        raise ValidationError("'functionCall.args' must be an object")
    call_id = call.get("id") if isinstance(call.get("id"), str) else f"call_{index}_{name}"
    arguments = json.dumps(args, separators=(",", ":"))
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _function_result(part: JSON, calls: dict[str, str]) -> JSON:
    result = part["functionResponse"]
    name = result.get("name") if isinstance(result, dict) else None
    if not isinstance(name, str) or not name:
        raise ValidationError("'functionResponse.name' must be a string")
    given = result.get("id")
    call_id = given if isinstance(given, str) else calls.get(name, f"call_{name}")
    content = json.dumps(result.get("response", {}), separators=(",", ":"))
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _messages(contents: list[JSON]) -> list[JSON]:
    messages: list[JSON] = []
    calls: dict[str, str] = {}  # function name -> the id of its latest call
    counter = 0
    for content in contents:
        role = content.get("role", "user")
        parts: list[JSON] = []
        tool_calls: list[JSON] = []
        results: list[JSON] = []
        for part in content["parts"]:
            if "text" in part:
                if not isinstance(part["text"], str):
                    raise ValidationError("'text' parts must hold a string")
                if not part.get("thought"):  # the model's own thoughts are not replayed
                    parts.append({"type": "text", "text": part["text"]})
            elif "inlineData" in part:
                parts.append(_inline(part))
            elif "functionCall" in part:
                call = _function_call(part, counter)
                counter += 1
                calls[call["function"]["name"]] = call["id"]
                tool_calls.append(call)
            elif "functionResponse" in part:
                results.append(_function_result(part, calls))
            else:
                kind = next(iter(part), "empty")
                raise ValidationError(f"'{kind}' parts are only supported on Google models")
        messages.extend(results)
        if role == "model":
            if parts or tool_calls:
                text = "".join(p.get("text", "") for p in parts if p["type"] == "text")
                message: JSON = {"role": "assistant", "content": text or None}
                if tool_calls:
                    message["tool_calls"] = tool_calls
                messages.append(message)
        elif parts:
            only_text = all(p["type"] == "text" for p in parts)
            user: Any = "".join(p["text"] for p in parts) if only_text else parts
            messages.append({"role": "user", "content": user})
    return messages


def _schema(value: Any) -> Any:
    """Gemini's OpenAPI schema (`type: "OBJECT"`) as JSON Schema (`type: "object"`)."""
    if isinstance(value, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _schema(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_schema(v) for v in value]
    return value


def _tools(tools: list[JSON]) -> list[JSON]:
    out = []
    for tool in tools:
        other = next((k for k in tool if k != "functionDeclarations"), None)
        if other:
            raise ValidationError(f"the {other} tool is only supported on Google models")
        for declaration in _objects(tool.get("functionDeclarations"), "functionDeclarations"):
            name = declaration.get("name")
            if not isinstance(name, str) or not name:
                raise ValidationError("a function declaration needs a name")
            function: JSON = {"name": name}
            if isinstance(declaration.get("description"), str):
                function["description"] = declaration["description"]
            schema = declaration.get("parametersJsonSchema") or declaration.get("parameters")
            if schema is not None:
                function["parameters"] = _schema(schema)
            out.append({"type": "function", "function": function})
    return out


def _tool_choice(config: JSON) -> Any:
    calling = _object(config.get("functionCallingConfig"), "toolConfig.functionCallingConfig")
    mode = calling.get("mode", "AUTO")
    allowed = calling.get("allowedFunctionNames")
    if mode == "ANY" and isinstance(allowed, list) and len(allowed) == 1:
        return {"type": "function", "function": {"name": allowed[0]}}
    choices = {"AUTO": "auto", "ANY": "required", "NONE": "none", "VALIDATED": "auto"}
    if mode not in choices:
        raise ValidationError("'toolConfig.functionCallingConfig.mode' is invalid")
    return choices[mode]


def _number(config: JSON, name: str) -> float | int | None:
    value = config.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValidationError(f"'generationConfig.{name}' must be a number")
    return value


def gemini_to_openai_request(body: JSON, model: str, stream: bool) -> JSON:
    """A `generateContent` request as an OpenAI chat request (checked by `check_generate`)."""
    if body.get("cachedContent") is not None:
        raise ValidationError("'cachedContent' is only supported on Google models")
    messages = _messages(contents_of(body))
    if body.get("systemInstruction") is not None:
        messages.insert(0, {"role": "system", "content": _system(body["systemInstruction"])})
    if not messages:
        raise ValidationError("'contents' holds nothing a model can read")
    out: JSON = {"model": model, "messages": messages}
    config, max_tokens, candidates = generation_config(body)
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    if candidates > 1:
        out["n"] = candidates
    for gemini_name, openai_name in (
        ("temperature", "temperature"),
        ("topP", "top_p"),
        ("presencePenalty", "presence_penalty"),
        ("frequencyPenalty", "frequency_penalty"),
        ("seed", "seed"),
    ):
        value = _number(config, gemini_name)
        if value is not None:
            out[openai_name] = value
    stops = config.get("stopSequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise ValidationError("'generationConfig.stopSequences' must be a list of strings")
        out["stop"] = stops
    if config.get("responseMimeType") == "application/json":
        out["response_format"] = {"type": "json_object"}
    tools = _tools(_objects(body.get("tools"), "tools"))
    if tools:
        out["tools"] = tools
        if body.get("toolConfig") is not None:
            out["tool_choice"] = _tool_choice(_object(body["toolConfig"], "toolConfig"))
    if stream:
        out["stream"] = True
    return out


def embeddings_to_openai_request(requests: list[JSON], model: str) -> JSON:
    """Gemini embedding requests as one OpenAI embeddings request (text parts joined)."""
    texts = [_text_of(r["content"]["parts"], "content") for r in requests]
    out: JSON = {"model": model, "input": texts}
    dims = {r.get("outputDimensionality") for r in requests} - {None}
    if len(dims) > 1:
        raise ValidationError("'outputDimensionality' must be the same for every request")
    if dims:
        out["dimensions"] = dims.pop()
    return out


def openai_to_gemini_embeddings(body: JSON, batch: bool) -> JSON:
    data = sorted(body.get("data") or [], key=lambda d: d.get("index", 0))
    embeddings = [{"values": d.get("embedding")} for d in data]
    if batch:
        return {"embeddings": embeddings}
    return {"embedding": embeddings[0] if embeddings else {"values": []}}


# ---------------------------------------------------------------- response translation


def usage_metadata(usage: Any) -> JSON | None:
    """OpenAI usage in Gemini's classes: candidates exclude the reasoning (thoughts)."""
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = int(((usage.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0)
    thoughts = int(((usage.get("completion_tokens_details") or {}).get("reasoning_tokens")) or 0)
    meta: JSON = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion - thoughts,
        "totalTokenCount": prompt + completion,
    }
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    if cached:
        meta["cachedContentTokenCount"] = cached
    return meta


def _call_parts(tool_calls: Any) -> list[JSON]:
    parts = []
    for call in tool_calls or ():
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
        except ValueError:
            args = {"arguments": function.get("arguments")}
        if not isinstance(args, dict):
            args = {"value": args}
        parts.append(
            {"functionCall": {"id": call.get("id"), "name": function.get("name"), "args": args}}
        )
    return parts


def _response_id(openai_id: Any) -> str:
    return openai_id if isinstance(openai_id, str) and openai_id else uuid.uuid4().hex


def openai_to_gemini_response(body: JSON, model: str) -> JSON:
    candidates = []
    for position, choice in enumerate(body.get("choices") or ()):
        message = choice.get("message") or {}
        parts: list[JSON] = []
        if isinstance(message.get("content"), str) and message["content"]:
            parts.append({"text": message["content"]})
        parts.extend(_call_parts(message.get("tool_calls")))
        candidate: JSON = {
            "content": {"role": "model", "parts": parts},
            "finishReason": _FINISH_REASONS.get(choice.get("finish_reason"), "STOP"),
            "index": choice.get("index", position),
        }
        candidates.append(candidate)
    out: JSON = {
        "candidates": candidates,
        "modelVersion": model,
        "responseId": _response_id(body.get("id")),
    }
    meta = usage_metadata(body.get("usage"))
    if meta is not None:
        out["usageMetadata"] = meta
    return out


class OpenAIToGeminiStream:
    """OpenAI chunks as streamed `GenerateContentResponse`s: text deltas pass as they come;
    tool calls (whose arguments arrive in pieces) and finish reasons are held for the last
    event, which carries the usage as Gemini's last chunk does."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._id: str | None = None
        self._calls: dict[int, dict[int, JSON]] = {}  # choice -> tool call index -> call
        self._finish: dict[int, str] = {}
        self._usage: JSON | None = None

    def _event(self, candidates: list[JSON]) -> JSON:
        return {"candidates": candidates, "modelVersion": self._model, "responseId": self._id}

    def feed(self, chunk: JSON) -> list[JSON]:
        self._id = self._id or _response_id(chunk.get("id"))
        if chunk.get("usage"):
            self._usage = usage_metadata(chunk["usage"])
        candidates = []
        for choice in chunk.get("choices") or ():
            index = choice.get("index", 0)
            delta = choice.get("delta") or {}
            for call in delta.get("tool_calls") or ():
                held = self._calls.setdefault(index, {}).setdefault(
                    call.get("index", 0), {"id": None, "function": {"name": "", "arguments": ""}}
                )
                held["id"] = call.get("id") or held["id"]
                function = call.get("function") or {}
                held["function"]["name"] += function.get("name") or ""
                held["function"]["arguments"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                self._finish[index] = choice["finish_reason"]
            text = delta.get("content")
            if isinstance(text, str) and text:
                content = {"role": "model", "parts": [{"text": text}]}
                candidates.append({"content": content, "index": index})
        return [self._event(candidates)] if candidates else []

    def finish(self) -> list[JSON]:
        candidates = []
        for index in sorted(set(self._finish) | set(self._calls)):
            calls = [self._calls[index][i] for i in sorted(self._calls.get(index, {}))]
            # An empty text part when there is no call, as Gemini's own last chunk has: the
            # SDK's `chunk.text` is then "" rather than None.
            parts = _call_parts(calls) or [{"text": ""}]
            candidate: JSON = {
                "content": {"role": "model", "parts": parts},
                "finishReason": _FINISH_REASONS.get(self._finish.get(index, "stop"), "STOP"),
                "index": index,
            }
            candidates.append(candidate)
        event = self._event(candidates)
        if self._usage is not None:
            event["usageMetadata"] = self._usage
        return [event]
