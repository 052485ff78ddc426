"""Gemini's `models.list` and `models.get` (`GET /v1beta/models`, `GET /v1beta/models/{model}`;
under `/v1/` when the key comes Google's way, `x-goog-api-key` or `?key=`): the models a key may
call on this gateway and its client's aliases, in Google's Model format (docs/gemini.md).

Names are what a call may send: a Google model by its bare name (`models/gemini-2.5-flash`)
unless one of the client's aliases takes that name, any other by its catalog id
(`models/demo/chat`), an alias by itself. Pages: `pageSize` (default 50, at most 1000) and the
`nextPageToken` of the previous page as `pageToken`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.rest import chat
from api.rest.errors import ApiError, openai_error
from api.rest.gateway import Gateway, answer, client_secret, report_rate
from api.rest.gemini import gemini_error, gemini_secret
from domain.catalog.models import Model, ModelKind

DEFAULT_PAGE = 50
MAX_PAGE = 1000
_GOOGLE = "google"


def _json(body: dict[str, Any], rid: str) -> Response:
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"x-request-id": rid}
    )


def wants_gemini(request: Request) -> bool:
    """Whether a `GET /v1/models...` comes from a Gemini client (its key in Google's places)."""
    return "x-goog-api-key" in request.headers or "key" in request.query_params


async def list_models(request: Request) -> Response:
    return await answer(request, _list, gemini_error, call=False)


async def get_model(request: Request) -> Response:
    return await answer(request, _get, gemini_error, call=False)


def _resource(name: str, model: Model, described: str) -> dict[str, Any]:
    methods = (
        ["embedContent", "batchEmbedContents"]
        if model.kind is ModelKind.EMBEDDING
        else ["generateContent", "streamGenerateContent", "countTokens"]
    )
    return {
        "name": f"models/{name}",
        "version": model.upstream_name,
        "displayName": name,
        "description": described,
        "inputTokenLimit": model.context_window,
        "outputTokenLimit": model.max_output_tokens,
        "supportedGenerationMethods": methods,
    }


def _describe(model: Model, alias: str | None = None) -> str:
    if alias is not None:
        return f"Bizgraph alias of {model.id}"
    return f"{model.id} through Bizgraph"


def _invalid(message: str) -> ApiError:
    return ApiError(400, message, code="invalid_value")


def _page_size(request: Request) -> int:
    raw = request.query_params.get("pageSize")
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        raise ApiError(
            400, f"pageSize must be an integer, not {raw!r}", code="invalid_value"
        ) from None
    if size < 1:
        raise _invalid("pageSize must be positive")
    return min(size, MAX_PAGE)


def _offset(request: Request) -> int:
    token = request.query_params.get("pageToken") or ""
    if not token:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        raise ApiError(
            400, "pageToken is not a token this gateway issued", code="invalid_value"
        ) from None
    if offset < 0:
        raise _invalid("pageToken is not a token this gateway issued")
    return offset


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode("ascii")).decode("ascii")


async def _list(request: Request, gw: Gateway, rid: str) -> Response:
    caller = await gw.metering.authenticate(gemini_secret(request))
    await report_rate(request, gw, caller.key)
    size, offset = _page_size(request), _offset(request)
    aliases = {
        name: model
        for name, model in (await gw.metering.aliases_of(caller)).items()
        if gw.calls.can_serve(model)
    }
    listed = []
    for model in await gw.metering.allowed_models(caller):
        if not gw.calls.can_serve(model):
            continue
        bare = model.id.partition("/")[2]
        name = bare if model.provider == _GOOGLE and bare not in aliases else model.id
        listed.append(_resource(name, model, _describe(model)))
    listed += [_resource(n, m, _describe(m, n)) for n, m in sorted(aliases.items())]
    body: dict[str, Any] = {"models": listed[offset : offset + size]}
    if offset + size < len(listed):
        body["nextPageToken"] = _token(offset + size)
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"x-request-id": rid}
    )


async def _get(request: Request, gw: Gateway, rid: str) -> Response:
    name = str(request.path_params["target"]).removeprefix("models/")
    caller = await gw.metering.authenticate(gemini_secret(request))
    await report_rate(request, gw, caller.key)
    model = await gw.metering.model_for(caller, name, default_provider=_GOOGLE)
    if not gw.calls.can_serve(model):
        raise ApiError(404, f"the model {name!r} is not served by this gateway", code="not_found")
    alias = None if name in (model.id, model.id.partition("/")[2]) else name
    body = _resource(name, model, _describe(model, alias))
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"x-request-id": rid}
    )


async def v1_models(request: Request) -> Response:
    """`GET /v1/models`: Gemini's list for a Gemini client, else OpenAI's."""
    return await (list_models if wants_gemini(request) else chat.models)(request)


async def v1_model(request: Request) -> Response:
    """`GET /v1/models/{model}`: Gemini's `models.get` for a Gemini client, else OpenAI's
    `models.retrieve`."""
    if wants_gemini(request):
        return await get_model(request)
    return await answer(request, _retrieve, openai_error, call=False)


async def _retrieve(request: Request, gw: Gateway, rid: str) -> Response:
    name = str(request.path_params["target"])
    caller = await gw.metering.authenticate(client_secret(request))
    await report_rate(request, gw, caller.key)
    model = await gw.metering.model_for(caller, name)
    if not gw.calls.can_serve(model):
        raise ApiError(404, f"the model {name!r} is not served by this gateway", code="not_found")
    body = {"id": name, "object": "model", "created": 0, "owned_by": model.provider}
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"x-request-id": rid}
    )
