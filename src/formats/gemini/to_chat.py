"""Gemini `generateContent` and embedding requests as OpenAI requests (for `/v1beta/models/...`
calls whose model is not Google's)."""

from __future__ import annotations

import json
from typing import Any

from domain.errors import ValidationError
from domain.providers import JSON
from formats.chat import data_url, tool_call
from formats.gemini.checks import contents_of, generation_config, objects, optional_object
from formats.gemini.tables import AUDIO_FORMAT, CHAT_TOOL_CHOICE, SAMPLING


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
    return _text_of(objects(value.get("parts"), "systemInstruction.parts"), "systemInstruction")


def _inline(part: JSON) -> JSON:
    inline = part["inlineData"]
    mime, data = (
        (inline.get("mimeType"), inline.get("data")) if isinstance(inline, dict) else (None, None)
    )
    if not isinstance(mime, str) or not isinstance(data, str):
        raise ValidationError("'inlineData' needs a string mimeType and data")
    if mime.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": data_url(mime, data)}}
    if mime in AUDIO_FORMAT:
        return {"type": "input_audio", "input_audio": {"data": data, "format": AUDIO_FORMAT[mime]}}
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
    return tool_call(call_id, name, json.dumps(args, separators=(",", ":")))


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
        for declaration in objects(tool.get("functionDeclarations"), "functionDeclarations"):
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
    calling = optional_object(
        config.get("functionCallingConfig"), "toolConfig.functionCallingConfig"
    )
    mode = calling.get("mode", "AUTO")
    allowed = calling.get("allowedFunctionNames")
    if mode == "ANY" and isinstance(allowed, list) and len(allowed) == 1:
        return {"type": "function", "function": {"name": allowed[0]}}
    if not isinstance(mode, str) or mode not in CHAT_TOOL_CHOICE:
        raise ValidationError("'toolConfig.functionCallingConfig.mode' is invalid")
    return CHAT_TOOL_CHOICE[mode]


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
    for openai_name, gemini_name in (*SAMPLING, ("seed", "seed")):
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
    tools = _tools(objects(body.get("tools"), "tools"))
    if tools:
        out["tools"] = tools
        if body.get("toolConfig") is not None:
            out["tool_choice"] = _tool_choice(optional_object(body["toolConfig"], "toolConfig"))
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
