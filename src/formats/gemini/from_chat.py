"""OpenAI chat requests as Gemini `generateContent` bodies (pure; golden-tested).

System and developer messages become `systemInstruction`; assistant turns are role `model`;
tool calls and results become `functionCall` / `functionResponse` parts; images become
`inlineData` (data: URLs) or `fileData` (http URLs); sampling options go to `generationConfig`.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from domain.errors import ValidationError
from domain.providers import JSON
from formats.chat import Loads, parse_data_url, parse_json
from formats.gemini.tables import AUDIO_MIME, GEMINI_TOOL_MODE, SAMPLING

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


def chat_request_to_gemini(body: JSON, *, loads: Loads = parse_json) -> JSON:
    """An OpenAI chat request as a Gemini `GenerateContentRequest`. Raises ValidationError for
    what Gemini cannot express (the client's request is wrong for this model)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValidationError("messages must be a non-empty list")
    system, contents = _messages(messages, loads)
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


def _messages(messages: list[Any], loads: Loads) -> tuple[list[JSON], list[JSON]]:
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
            _append(contents, "model", _assistant_parts(message, names, loads))
        elif role == "tool":
            _append(contents, "user", [_tool_result(message, names, loads)])
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
        inline = parse_data_url(url)
        if inline is None or not inline.base64 or not inline.data:
            raise ValidationError("data URLs must be base64-encoded")
        mime = inline.media_type or "application/octet-stream"
        return {"inlineData": {"mimeType": mime, "data": inline.data}}
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
    if not isinstance(fmt, str) or fmt not in AUDIO_MIME:
        raise ValidationError("input_audio format must be wav or mp3")
    return {"inlineData": {"mimeType": AUDIO_MIME[fmt], "data": audio["data"]}}


def _assistant_parts(message: JSON, names: dict[str, str], loads: Loads) -> list[JSON]:
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
        part: JSON = {
            "functionCall": {"name": function["name"], "args": _arguments(function, loads)}
        }
        if signature := _thought_signature(call):
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _arguments(function: JSON, loads: Loads) -> JSON:
    raw = function.get("arguments") or "{}"
    try:
        args = loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError) as exc:
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


def _tool_result(message: JSON, names: dict[str, str], loads: Loads) -> JSON:
    call_id = message.get("tool_call_id")
    name = names.get(call_id) if isinstance(call_id, str) else None
    if name is None:
        raise ValidationError(f"tool message answers an unknown tool_call_id {call_id!r}")
    text = "".join(part["text"] for part in _text_parts(message.get("content")))
    return {"functionResponse": {"name": name, "response": _response_object(text, loads)}}


def _response_object(text: str, loads: Loads) -> JSON:
    """Gemini wants an object: a JSON object result is passed as is, anything else is wrapped."""
    try:
        parsed = loads(text)
    except (ValueError, RecursionError):
        parsed = None
    return parsed if isinstance(parsed, dict) else {"content": text}


def _number(body: JSON, name: str) -> float | int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number")
    return value


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer")
    return value


def _generation_config(body: JSON) -> JSON:
    config: JSON = {}
    max_tokens = body.get("max_completion_tokens")
    if max_tokens is None:
        max_tokens = body.get("max_tokens")
    if max_tokens is not None:
        config["maxOutputTokens"] = positive_int(max_tokens, "max_tokens")
    for ours, theirs in SAMPLING:
        if (value := _number(body, ours)) is not None:
            config[theirs] = value
    if (seed := body.get("seed")) is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValidationError("seed must be an integer")
        config["seed"] = seed
    if body.get("n") is not None:
        config["candidateCount"] = positive_int(body["n"], "n")
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
        if not isinstance(function, dict) or tool.get("type") != "function":
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
    if isinstance(choice, str) and choice in GEMINI_TOOL_MODE:
        return {"functionCallingConfig": {"mode": GEMINI_TOOL_MODE[choice]}}
    function = choice.get("function") if isinstance(choice, dict) else None
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        config = {"mode": "ANY", "allowedFunctionNames": [function["name"]]}
        return {"functionCallingConfig": config}
    raise ValidationError("unsupported tool_choice")
