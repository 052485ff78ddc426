"""OpenAI Responses API <-> OpenAI chat, for `/v1/responses` (docs/responses.md).

Every provider port speaks OpenAI chat, so a Responses request is translated into a chat
request and the chat answer (or chunk stream) back into a Response object (or the semantic
stream events). Usage keeps its classes: chat's prompt_tokens and Responses' input_tokens both
include the cached read; completion_tokens and output_tokens both include reasoning.

The gateway keeps no response state: what would need it (`previous_response_id`, background
mode, conversations, stored prompts) and built-in tools are refused with a 400 naming the
parameter, in OpenAI's error format (a FormatError naming it, which the route renders).
"""

from __future__ import annotations

from typing import Any

from domain.providers import JSON
from formats.errors import FormatError

# Parameters that need state or tools only OpenAI holds: a 400 naming them when set.
_REFUSED = {
    "previous_response_id": "the gateway does not keep responses: send the whole conversation "
    "in 'input'",
    "conversation": "the gateway does not keep conversations: send the whole conversation in "
    "'input'",
    "prompt": "stored prompts are not supported by this gateway: send 'instructions' and 'input'",
    "background": "background mode is not supported by this gateway",
}
_INPUT_ROLES = ("user", "assistant", "system", "developer")


def _bad(message: str, param: str, code: str = "invalid_value") -> FormatError:
    return FormatError(message, param, code)


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"'{param}' must be a string", param, "invalid_type")
    return value


def _object(value: Any, param: str) -> JSON:
    if not isinstance(value, dict):
        raise _bad(f"'{param}' must be an object", param, "invalid_type")
    return value


def _list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(f"'{param}' must be an array", param, "invalid_type")
    return value


def _number(body: JSON, key: str) -> float | int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"'{key}' must be a number", key, "invalid_type")
    return value


def _optional_bool(body: JSON, key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise _bad(f"'{key}' must be a boolean", key, "invalid_type")
    return value


def refuse_stateful(body: JSON) -> None:
    """A 400 naming the first parameter the gateway cannot honour. `store` is accepted (true
    or false) but nothing is stored; `background: false` is the default and accepted."""
    for key, why in _REFUSED.items():
        value = body.get(key)
        if value is None or (key == "background" and value is False):
            continue
        raise _bad(f"'{key}' is not supported: {why}", key, "unsupported_parameter")
    _optional_bool(body, "store")
    _optional_bool(body, "parallel_tool_calls")
    if (metadata := body.get("metadata")) is not None:
        _object(metadata, "metadata")


def check_native(body: JSON) -> None:
    """What a native relay checks itself (the provider judges the rest): no state kept
    upstream, function tools only (built-in tools bill fees the gateway does not meter), and
    `input` a string or a list."""
    refuse_stateful(body)
    if body.get("input") is None:
        raise _bad("'input' is required", "input")
    if not isinstance(body["input"], str):
        _list(body["input"], "input")
    if body.get("tools") is not None:
        _tools(body["tools"])


# ---------------------------------------------------------------- request


def _part(part: Any, param: str, role: str) -> JSON | None:
    """One content part as a chat part (None: nothing to send)."""
    part = _object(part, param)
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": _string(part.get("text"), f"{param}.text")}
    if kind == "refusal" and role == "assistant":
        return {"type": "text", "text": _string(part.get("refusal"), f"{param}.refusal")}
    if kind == "input_image":
        url = part.get("image_url")
        if url is None and part.get("file_id") is not None:
            raise _bad("images by 'file_id' are not supported: send 'image_url'", param)
        image: JSON = {"url": _string(url, f"{param}.image_url")}
        detail = part.get("detail")
        if detail is not None:
            image["detail"] = _string(detail, f"{param}.detail")
        return {"type": "image_url", "image_url": image}
    if kind in ("input_file", "input_audio"):
        raise _bad(f"'{kind}' parts are not supported by this gateway", param)
    raise _bad(f"unknown content part type {kind!r}", f"{param}.type")


def _content(content: Any, param: str, role: str) -> str | list[JSON]:
    if isinstance(content, str):
        return content
    parts = [
        p
        for index, raw in enumerate(_list(content, param))
        if (p := _part(raw, f"{param}[{index}]", role)) is not None
    ]
    if all(p["type"] == "text" for p in parts) and (role != "user" or len(parts) <= 1):
        return "".join(str(p["text"]) for p in parts)  # plain text: every server takes it
    if role != "user":
        raise _bad(f"only user messages may hold images ({param})", param)
    return parts


def _message(item: JSON, param: str) -> JSON:
    role = item.get("role")
    if role not in _INPUT_ROLES:
        raise _bad(f"'{param}.role' must be one of {', '.join(_INPUT_ROLES)}", f"{param}.role")
    content = _content(item.get("content"), f"{param}.content", str(role))
    # Every provider takes `system`; `developer` is OpenAI's newer name for it.
    return {"role": "system" if role == "developer" else role, "content": content}


def _tool_output(value: Any, param: str) -> str:
    if isinstance(value, str):
        return value
    texts = []
    for index, raw in enumerate(_list(value, param)):
        part = _object(raw, f"{param}[{index}]")
        if part.get("type") != "input_text":
            raise _bad("only text outputs are supported for function calls", f"{param}[{index}]")
        texts.append(_string(part.get("text"), f"{param}[{index}].text"))
    return "".join(texts)


def _input_messages(value: Any) -> list[JSON]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    items = _list(value, "input")
    messages: list[JSON] = []
    for index, raw in enumerate(items):
        param = f"input[{index}]"
        item = _object(raw, param)
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, param))
        elif kind == "function_call":
            call = {
                "id": _string(item.get("call_id"), f"{param}.call_id"),
                "type": "function",
                "function": {
                    "name": _string(item.get("name"), f"{param}.name"),
                    "arguments": _string(item.get("arguments"), f"{param}.arguments"),
                },
            }
            last = messages[-1] if messages else None
            if (
                last is not None
                and last["role"] == "assistant"
                and not isinstance(last.get("content"), list)
            ):
                last.setdefault("tool_calls", []).append(call)  # parallel calls: one turn
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": _string(item.get("call_id"), f"{param}.call_id"),
                    "content": _tool_output(item.get("output"), f"{param}.output"),
                }
            )
        else:
            raise _bad(
                f"input items of type {kind!r} are not supported by this gateway", f"{param}.type"
            )
    if not messages:
        raise _bad("'input' must not be empty", "input")
    return messages


def _tools(value: Any) -> list[JSON]:
    tools = []
    for index, raw in enumerate(_list(value, "tools")):
        param = f"tools[{index}]"
        tool = _object(raw, param)
        kind = tool.get("type")
        if kind != "function":
            raise _bad(
                f"the built-in tool {kind!r} is not supported by this gateway: only function "
                "tools are",
                f"{param}.type",
                "unsupported_parameter",
            )
        function: JSON = {"name": _string(tool.get("name"), f"{param}.name")}
        if (parameters := tool.get("parameters")) is not None:
            function["parameters"] = _object(parameters, f"{param}.parameters")
        if (description := tool.get("description")) is not None:
            function["description"] = _string(description, f"{param}.description")
        if (strict := tool.get("strict")) is not None:
            if not isinstance(strict, bool):
                raise _bad(f"'{param}.strict' must be a boolean", f"{param}.strict")
            function["strict"] = strict
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(value: Any) -> Any:
    if value in ("auto", "none", "required"):
        return value
    choice = _object(value, "tool_choice") if not isinstance(value, str) else None
    if choice is not None and choice.get("type") == "function":
        return {
            "type": "function",
            "function": {"name": _string(choice.get("name"), "tool_choice.name")},
        }
    raise _bad("'tool_choice' must be auto, none, required or a function", "tool_choice")


def _text_format(text: Any) -> JSON | None:
    """Structured output (`text.format`) as chat's `response_format`."""
    if text is None:
        return None
    fmt = _object(text, "text").get("format")
    if fmt is None:
        return None
    fmt = _object(fmt, "text.format")
    kind = fmt.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema: JSON = {
            "name": _string(fmt.get("name"), "text.format.name"),
            "schema": _object(fmt.get("schema"), "text.format.schema"),
        }
        if isinstance(fmt.get("strict"), bool):
            schema["strict"] = fmt["strict"]
        return {"type": "json_schema", "json_schema": schema}
    raise _bad("'text.format.type' must be text, json_object or json_schema", "text.format.type")


def responses_to_chat_request(body: JSON) -> JSON:
    """A Responses request as an OpenAI chat request (type-checked: a wrong type is a 400
    naming the parameter). Sampling and tool fields map one to one; `metadata`, `store`,
    `include`, `reasoning`, `truncation` and `service_tier` are not sent on."""
    refuse_stateful(body)
    messages: list[JSON] = []
    if (instructions := body.get("instructions")) is not None:
        messages.append({"role": "system", "content": _string(instructions, "instructions")})
    if body.get("input") is None:
        raise _bad("'input' is required", "input")
    messages.extend(_input_messages(body["input"]))
    out: JSON = {"model": body.get("model"), "messages": messages}
    if body.get("max_output_tokens") is not None:
        out["max_completion_tokens"] = body["max_output_tokens"]
    for key in ("temperature", "top_p"):
        if (value := _number(body, key)) is not None:
            out[key] = value
    if body.get("tools") is not None and (tools := _tools(body["tools"])):
        out["tools"] = tools
        if body.get("tool_choice") is not None:
            out["tool_choice"] = _tool_choice(body["tool_choice"])
        if body.get("parallel_tool_calls") is False:
            out["parallel_tool_calls"] = False
    elif body.get("tool_choice") is not None:
        _tool_choice(body["tool_choice"])
    if (response_format := _text_format(body.get("text"))) is not None:
        out["response_format"] = response_format
    if (user := body.get("user")) is not None:
        out["user"] = _string(user, "user")
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out
