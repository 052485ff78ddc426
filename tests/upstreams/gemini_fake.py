"""A strict fake of Google's Gemini REST API (v1beta), served for real over loopback in tests.

Strict where a lax fake would hide adapter bugs: the key must come in `x-goog-api-key` and a
`key` query parameter is REFUSED (400), so a test passing proves the key never went in the URL;
bodies are validated like Gemini does (unknown fields, roles other than user/model, unknown part
kinds, a functionResponse.response that is not an object, empty contents: 400 with Google's
error body); `streamGenerateContent` requires `alt=sse`; `countTokens` and `embedContent` are served too. Streams carry CUMULATIVE
usageMetadata on every chunk and omit zero counts, as Gemini does, so summing chunks or
treating a missing count as "no report" both show up as wrong numbers.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.upstreams.asgi import pause, read_body
from tests.upstreams.billing import gemini_candidate_tokens, gemini_prompt_tokens

JSON = dict[str, Any]

TOP_LEVEL = frozenset(
    {"contents", "systemInstruction", "generationConfig", "tools", "toolConfig",
     "safetySettings", "cachedContent"}
)  # fmt: skip
GENERATION_CONFIG = frozenset(
    {"maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "candidateCount",
     "presencePenalty", "frequencyPenalty", "seed", "responseMimeType", "responseSchema",
     "responseJsonSchema", "thinkingConfig", "responseLogprobs", "logprobs"}
)  # fmt: skip
PART_DATA = frozenset(
    {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
     "codeExecutionResult"}
)  # fmt: skip
PART_META = frozenset({"thought", "thoughtSignature", "videoMetadata"})
FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
MODES = frozenset({"AUTO", "ANY", "NONE", "VALIDATED"})
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def google_error(code: int, message: str) -> JSON:
    """Google's error body."""
    return {
        "error": {"code": code, "message": message, "status": STATUS_NAMES.get(code, "UNKNOWN")}
    }


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str  # the raw query string, to prove the key never went there
    headers: list[tuple[str, str]]  # lower-cased names, duplicates kept
    body: Any

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None


@dataclass
class GeminiScript:
    """What the fake answers. Token counts are the FINAL cumulative values; a stream reports
    `prompt_tokens` from its first chunk, all thoughts from the first chunk, and candidates
    growing chunk by chunk up to `output_tokens`."""

    api_key: str = "AIza-fake-gemini-key-0123456789"
    client_keys: set[str] = field(default_factory=set)  # clients' own keys, accepted too (BYOK)
    reply: str = "Hello from the fake Gemini."
    chunks: int = 1  # stream: the reply split into this many chunks
    prompt_tokens: int = 12
    output_tokens: int = 7
    thoughts_tokens: int = 0
    cached_tokens: int = 0
    tool_use_prompt_tokens: int = 0
    usage: bool = True  # send usageMetadata at all
    function_call: JSON | None = None  # {"name", "args"}: answered after the text, if any
    thought_signature: str | None = None  # on the function call part
    finish_reason: str = "STOP"
    prompt_blocked: str | None = None  # a promptFeedback.blockReason, with no candidates
    status: int | None = None  # force this error status
    message: str = "scripted failure"
    retry_after: str | None = None
    first_byte_delay: float = 0.0  # seconds before the status line
    first_event_delay: float = 0.0  # stream: seconds between the status line and the first event
    chunk_delay: float = 0.0  # stream: seconds between chunks
    break_after: int | None = None  # stream: drop the connection after this many chunks
    stream_error: JSON | None = None  # stream: an in-band error event after the first chunk
    crlf: bool = False  # stream: frame events with \r\n\r\n instead of \n\n
    embedding_dimensions: int = 4
    bill: bool = False  # prompt and candidates computed from the request (billing.py)
    requests: list[RecordedRequest] = field(default_factory=list)

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]


# --- validation ------------------------------------------------------------------------------


def _problem_in_part(part: Any, where: str) -> str | None:
    if not isinstance(part, dict):
        return f"{where}: a part must be an object"
    unknown = set(part) - PART_DATA - PART_META
    if unknown:
        return f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" at {where}'
    kinds = set(part) & PART_DATA
    if len(kinds) != 1:
        return f"{where}: a part must hold exactly one kind of data"
    kind = kinds.pop()
    value = part[kind]
    if kind == "text":
        return None if isinstance(value, str) else f"{where}.text must be a string"
    if kind == "inlineData":
        if not isinstance(value, dict) or set(value) != {"mimeType", "data"}:
            return f"{where}.inlineData needs mimeType and data"
        try:
            base64.b64decode(value["data"], validate=True)
        except (binascii.Error, TypeError):
            return f"{where}.inlineData.data is not base64"
        return None
    if kind == "fileData":
        ok = isinstance(value, dict) and isinstance(value.get("fileUri"), str)
        return None if ok and set(value) <= {"fileUri", "mimeType"} else f"{where}.fileData bad"
    if kind == "functionCall":
        ok = isinstance(value, dict) and isinstance(value.get("name"), str)
        ok = ok and isinstance(value.get("args", {}), dict) and set(value) <= {"name", "args", "id"}
        return None if ok else f"{where}.functionCall needs a name and object args"
    if kind == "functionResponse":
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            return f"{where}.functionResponse needs a name"
        if not isinstance(value.get("response"), dict):
            return f"{where}.functionResponse.response must be an object (a Struct)"
        return None
    return None


def _problem_in_contents(contents: Any) -> str | None:
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        if not isinstance(content, dict) or set(content) - {"role", "parts"}:
            return f"{where} must be an object with role and parts"
        if content.get("role") not in ("user", "model"):
            return f"Please use a valid role: user, model. ({where})"
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty."
        for j, part in enumerate(parts):
            if problem := _problem_in_part(part, f"{where}.parts[{j}]"):
                return problem
    return None


def _problem_in_tools(tools: Any) -> str | None:
    if not isinstance(tools, list):
        return "tools must be a list"
    for tool in tools:
        declarations = tool.get("functionDeclarations") if isinstance(tool, dict) else None
        if not isinstance(declarations, list) or set(tool) != {"functionDeclarations"}:
            return "each tool must hold functionDeclarations"
        for declaration in declarations:
            if not isinstance(declaration, dict) or not FUNCTION_NAME.match(
                str(declaration.get("name", ""))
            ):
                return "function declarations need a valid name"
            if set(declaration) - {"name", "description", "parameters", "parametersJsonSchema"}:
                return "unknown field in a function declaration"
            if "parameters" in declaration and "parametersJsonSchema" in declaration:
                return "parameters and parametersJsonSchema are mutually exclusive"
    return None


def _problem_in_generate(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    unknown = set(body) - TOP_LEVEL
    if unknown:
        return f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}"'
    if problem := _problem_in_contents(body.get("contents")):
        return problem
    system = body.get("systemInstruction")
    if system is not None:
        parts = system.get("parts") if isinstance(system, dict) else None
        if not isinstance(parts, list) or not all(
            isinstance(p, dict) and set(p) == {"text"} for p in parts
        ):
            return "systemInstruction may only hold text parts"
    config = body.get("generationConfig", {})
    if not isinstance(config, dict) or set(config) - GENERATION_CONFIG:
        return "Invalid JSON payload received. Unknown name in generationConfig"
    if "tools" in body and (problem := _problem_in_tools(body["tools"])):
        return problem
    calling = body.get("toolConfig", {}).get("functionCallingConfig", {})
    if calling and calling.get("mode") not in MODES:
        return "toolConfig.functionCallingConfig.mode is invalid"
    return None


def _problem_in_embed(body: Any, model: str) -> str | None:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests or set(body) != {"requests"}:
        return "* BatchEmbedContentsRequest.requests: requests is not specified"
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or request.get("model") != f"models/{model}":
            return f"requests[{i}].model must be models/{model}, the model in the URL"
        if set(request) - {"model", "content", "taskType", "title", "outputDimensionality"}:
            return f"Unknown name in requests[{i}]"
        if problem := _problem_in_contents([{"role": "user", **request.get("content", {})}]):
            return problem
    return None


def _problem_in_count(body: Any, model: str) -> str | None:
    """`countTokens` takes `contents` or a whole `generateContentRequest` naming the model."""
    if not isinstance(body, dict) or set(body) - {"contents", "generateContentRequest"}:
        return "Invalid JSON payload received. Unknown name in CountTokensRequest"
    nested = body.get("generateContentRequest")
    if nested is not None:
        if "contents" in body or not isinstance(nested, dict):
            return "contents and generateContentRequest are mutually exclusive"
        if nested.get("model") != f"models/{model}":
            return "generateContentRequest.model must be the model in the URL"
        return _problem_in_generate({k: v for k, v in nested.items() if k != "model"})
    return _problem_in_contents(body.get("contents"))


# --- answers ---------------------------------------------------------------------------------


def split_reply(reply: str, chunks: int) -> list[str]:
    """The reply cut into `chunks` pieces (the last ones may be empty if it is short)."""
    size = -(-len(reply) // max(chunks, 1))
    return [reply[i * size : (i + 1) * size] for i in range(max(chunks, 1))]


def usage_metadata(script: GeminiScript, candidates: int) -> JSON:
    """Gemini's usageMetadata, zero counts omitted (proto3 JSON)."""
    counts = {
        "promptTokenCount": script.prompt_tokens,
        "candidatesTokenCount": candidates,
        "thoughtsTokenCount": script.thoughts_tokens,
        "cachedContentTokenCount": script.cached_tokens,
        "toolUsePromptTokenCount": script.tool_use_prompt_tokens,
    }
    total = sum(v for k, v in counts.items() if k != "cachedContentTokenCount")
    return {k: v for k, v in {**counts, "totalTokenCount": total}.items() if v}


def _parts(script: GeminiScript, text: str, last: bool) -> list[JSON]:
    parts: list[JSON] = [{"text": text}] if text else []
    if last and script.function_call is not None:
        part: JSON = {"functionCall": script.function_call}
        if script.thought_signature:
            part["thoughtSignature"] = script.thought_signature
        parts.append(part)
    return parts


def _response(script: GeminiScript, model: str, pieces: list[str], last: bool, done: int) -> JSON:
    candidates = []
    for index, piece in enumerate(pieces):
        candidate: JSON = {"content": {"parts": _parts(script, piece, last), "role": "model"}}
        if last:
            candidate["finishReason"] = script.finish_reason
        candidates.append({**candidate, "index": index})
    answer: JSON = {"candidates": candidates, "modelVersion": model, "responseId": "fakeResp01"}
    if script.prompt_blocked:
        answer = {"promptFeedback": {"blockReason": script.prompt_blocked}}
    if script.usage:
        answer["usageMetadata"] = usage_metadata(script, done)
    return answer


async def _respond(send: Send, status: int, body: JSON, retry_after: str | None = None) -> None:
    headers = [(b"content-type", b"application/json; charset=UTF-8")]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})


class _Endpoint:
    """`POST /v1beta/models/{model}:{method}` as a raw ASGI app, so it can stall or drop."""

    def __init__(self, script: GeminiScript) -> None:
        self.script = script

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        script = self.script
        raw = await read_body(receive)
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        query = scope["query_string"].decode("latin-1")
        script.requests.append(
            RecordedRequest(scope["method"], scope["path"], query, headers, body)
        )
        if await pause(receive, script.first_byte_delay):
            return
        params = parse_qs(query)
        if "key" in params:
            await _respond(send, 400, google_error(400, "API keys are not accepted in the URL"))
            return
        key = dict(headers).get("x-goog-api-key")
        if key is None:
            await _respond(
                send, 403, google_error(403, "Method doesn't allow unregistered callers")
            )
            return
        if key not in {script.api_key, *script.client_keys}:
            await _respond(send, 400, google_error(400, "API key not valid."))
            return
        model, _, method = scope["path_params"]["target"].rpartition(":")
        if script.status is not None:
            error = google_error(script.status, script.message)
            await _respond(send, script.status, error, script.retry_after)
            return
        await self._dispatch(send, receive, model, method, params, body)

    async def _dispatch(
        self, send: Send, receive: Receive, model: str, method: str, params: Any, body: Any
    ) -> None:
        if method == "countTokens":
            problem = _problem_in_count(body, model)
            if problem:
                await _respond(send, 400, google_error(400, problem))
                return
            request = body.get("generateContentRequest") or body
            await _respond(send, 200, {"totalTokens": gemini_prompt_tokens(request)})
            return
        if method == "embedContent":
            problem = _problem_in_embed({"requests": [{"model": f"models/{model}", **body}]}, model)
            if problem:
                await _respond(send, 400, google_error(400, problem))
                return
            embedding = self._embeddings({"requests": [body]})["embeddings"][0]
            await _respond(send, 200, {"embedding": embedding})
            return
        if method == "batchEmbedContents":
            problem = _problem_in_embed(body, model)
            if problem:
                await _respond(send, 400, google_error(400, problem))
                return
            await _respond(send, 200, self._embeddings(body))
            return
        if method not in ("generateContent", "streamGenerateContent"):
            await _respond(send, 404, google_error(404, f"method {method} not found"))
            return
        problem = _problem_in_generate(body)
        if problem is None and method == "streamGenerateContent" and params.get("alt") != ["sse"]:
            problem = "this fake only streams with alt=sse"
        if problem:
            await _respond(send, 400, google_error(400, problem))
            return
        count = body.get("generationConfig", {}).get("candidateCount", 1)
        if self.script.bill:  # thoughts stay as scripted: the test sets the worst it expects
            self.script.prompt_tokens = gemini_prompt_tokens(body)
            self.script.output_tokens = gemini_candidate_tokens(body, 65536)
        if method == "generateContent":
            script = self.script
            answer = _response(script, model, [script.reply] * count, True, script.output_tokens)
            await _respond(send, 200, answer)
        else:
            await self._stream(send, receive, model, count)

    async def _stream(self, send: Send, receive: Receive, model: str, count: int) -> None:
        script = self.script
        pieces = split_reply(script.reply, script.chunks)
        separator = b"\r\n\r\n" if script.crlf else b"\n\n"
        start = {"type": "http.response.start", "status": 200}
        await send({**start, "headers": [(b"content-type", b"text/event-stream")]})
        for i, piece in enumerate(pieces):
            if script.break_after is not None and i >= script.break_after:
                raise ConnectionAbortedError("fake Gemini drops the connection mid-stream")
            if await pause(receive, script.chunk_delay if i else script.first_event_delay):
                return
            last = i == len(pieces) - 1
            done = -(-script.output_tokens * (i + 1) // len(pieces))  # cumulative
            event = _response(script, model, [piece] * count, last, done)
            data = b"data: " + orjson.dumps(event) + separator
            await send({"type": "http.response.body", "body": data, "more_body": True})
            if i == 0 and script.stream_error is not None:
                error = b"data: " + orjson.dumps(script.stream_error) + separator
                await send({"type": "http.response.body", "body": error, "more_body": True})
                break
        await send({"type": "http.response.body", "body": b""})

    def _embeddings(self, body: JSON) -> JSON:
        dims = self.script.embedding_dimensions
        embeddings = []
        for i, request in enumerate(body["requests"]):
            text = request["content"]["parts"][0].get("text", "")
            size = request.get("outputDimensionality", dims)
            embeddings.append({"values": [float(len(text)), float(i)] + [0.25] * (size - 2)})
        return {"embeddings": embeddings}


def gemini_fake_app(script: GeminiScript) -> Starlette:
    """The fake at the host root (the provider's base URL is the server's root URL), under
    `/v1beta` and `/v1` as Google serves both."""
    endpoint = _Endpoint(script)

    async def models(request: Request) -> Response:
        """`GET /v1beta/models` (what `bizgraph doctor` asks): the key only in its header."""
        if "key" in request.query_params:
            error = google_error(400, "API keys are not accepted in the URL")
            return Response(orjson.dumps(error), 400, media_type="application/json")
        if request.headers.get("x-goog-api-key") not in {script.api_key, *script.client_keys}:
            error = google_error(400, "API key not valid. Please pass a valid API key.")
            return Response(orjson.dumps(error), 400, media_type="application/json")
        listing = {"models": [{"name": "models/gemini-test"}]}
        return Response(orjson.dumps(listing), media_type="application/json")

    return Starlette(
        routes=[
            *(
                Route(f"/{version}/models/{{target}}", endpoint, methods=["POST"])
                for version in ("v1beta", "v1")
            ),
            Route("/v1beta/models", models, methods=["GET"]),
        ]
    )
