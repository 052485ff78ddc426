"""/graphql over HTTP: a bearer token on every POST (401 JSON without a valid one), a body
read bounded and checked before strawberry sees it (api/request_body.py: a size limit, UTF-8
JSON, nesting bounded; refusals in GraphQL's error format), and a typed context per request
(the principal, its scoped use cases, fresh DataLoaders). GET only serves GraphiQL in
development: queries over GET are refused and mutations only run over POST."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import presented_token
from api.graphql.context import Context
from api.request_body import BodyRefused, parse_json, read_body
from api.rest.errors import STORE_RETRY_AFTER
from domain.access.principals import Principal, Unauthenticated
from domain.errors import StoreUnavailable, WriteConflict
from domain.ports import Clock
from domain.usecases.access import AccessUseCases
from domain.usecases.management import Management, UseCases

MAX_BODY_BYTES = 256 * 1024
_PRINCIPAL = "bizgraph.principal"


def _json(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _envelope_problem(operation: dict[str, Any]) -> str | None:
    """What is wrong with a request's envelope (GraphQL over HTTP: `query` a string,
    `variables` and `extensions` objects, `operationName` a string), or None."""
    query = operation.get("query")
    if not isinstance(query, str) or not query.strip():
        return "'query' is required and must be a non-empty string"
    for field in ("variables", "extensions"):
        if operation.get(field) is not None and not isinstance(operation[field], dict):
            return f"'{field}' must be an object"
    operation_name = operation.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return "'operationName' must be a string"
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands strawberry the body already read, then the connection's own
    messages (a disconnect)."""
    messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return messages.pop() if messages else await receive()

    return replayed


class ManagementGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        access: Callable[[], AccessUseCases],
        use_cases: Callable[[], UseCases],
        clock: Callable[[], Clock],
        max_body_bytes: int = MAX_BODY_BYTES,
        **options: Any,
    ) -> None:
        super().__init__(schema, **options)
        self._access = access
        self._use_cases = use_cases
        self._clock = clock
        self._max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The route is HTTP only (no subscriptions, so no WebSocket).
        if scope["method"] == "POST":
            refusal = await self._admit(scope)
            if refusal is None:
                refusal, receive = await self._checked_body(scope, receive)
        elif self.graphql_ide and "query" not in Request(scope).query_params:
            # The GraphiQL page (development only); it runs nothing itself.
            refusal = await self.render_graphql_ide(Request(scope))
        else:
            refusal = _json(400, "operations are served over POST only", "post_only")
        if refusal is not None:  # answered here: refused, or the IDE page
            await refusal(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # already checked by parse_json; orjson is faster

    async def _checked_body(
        self, scope: Scope, receive: Receive
    ) -> tuple[Response | None, Receive]:
        """The body read here, bounded, and checked (UTF-8 JSON, an object, nesting bounded),
        so strawberry only ever parses a body that passed; it gets it replayed."""
        media_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":  # strawberry would answer in plain text
            return _json(
                415, "send the operation as application/json", "unsupported_media_type"
            ), receive
        try:
            body = await read_body(Request(scope, receive), self._max_body)
            operation = parse_json(body)
            if not isinstance(operation, dict):
                return _json(400, "the body must be a JSON object", "bad_request"), receive
            if (problem := _envelope_problem(operation)) is not None:
                return _json(400, problem, "bad_request"), receive  # strawberry: plain text
        except BodyRefused as refused:
            return _json(refused.status, refused.message, refused.code), receive
        return None, _replay(body, receive)

    async def _admit(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        length = headers.get("content-length", "")
        if not length.isdigit() or int(length) > self._max_body:
            message = f"the request needs a Content-Length of at most {self._max_body} bytes"
            return _json(413, message, "payload_too_large")
        token = presented_token(headers, scope["method"])
        try:
            if token is None:
                raise Unauthenticated("missing token")
            principal = await self._access().authenticate(token)
        except Unauthenticated:
            return _json(
                401,
                "authentication required: send Authorization: Bearer <token>",
                "unauthenticated",
                {"www-authenticate": "Bearer"},
            )
        except (StoreUnavailable, WriteConflict) as exc:  # the token store failed: a 503
            return _json(503, exc.message, exc.code, {"retry-after": STORE_RETRY_AFTER})
        scope.setdefault("state", {})[_PRINCIPAL] = principal
        return None

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        principal: Principal | None = request.scope.get("state", {}).get(_PRINCIPAL)
        if principal is None:  # unreachable: every operation is a POST that passed _admit
            raise RuntimeError("a GraphQL operation without an authenticated principal")
        return Context(
            principal=principal,
            management=Management(principal, self._use_cases()),
            now=self._clock().now(),
        )
