"""The failure throttle (api/throttle.py) on the wire: a middleware for every route that reads a
token from the headers (/graphql, /v1, invoice downloads), and two calls for `POST /auth/login`,
whose token is in the body. A refused request gets 429 with `Retry-After`, in its route's own
error format. Staff and portal tokens are counted per address and per token prefix; client
keys on the model-call routes per address only (see `_BY_ADDRESS_ONLY`)."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import SESSION_COOKIE
from api.rest.errors import ApiError, anthropic_error, openai_error
from api.rest.gemini_format import gemini_error_body
from api.throttle import FailureThrottle

CODE = "too_many_failed_attempts"
# Counted by its own route (the token is in the body), not by the middleware.
LOGIN_PATH = "/auth/login"
_KEY_HEADERS = (b"x-api-key", b"x-goog-api-key")
_BY_ADDRESS_ONLY = ("/v1/", "/v1beta/")  # the model-call routes, which take client keys


def _message(wait: int) -> str:
    return (
        "Too many failed authentication attempts from this address or with this token; "
        f"retry after {wait} seconds."
    )


def too_many_attempts(path: str, wait: int, request_id: str) -> Response:
    """The 429 in the format of the route at `path`."""
    if path.startswith("/v1/messages"):
        error = ApiError(429, _message(wait), "rate_limit_error", CODE, str(wait))
        return anthropic_error(error, request_id)
    if path.startswith("/v1beta/") or (path.startswith("/v1/models/") and ":" in path):
        return Response(  # Gemini's native routes: Google's error body
            orjson.dumps(gemini_error_body(429, _message(wait))),
            status_code=429,
            media_type="application/json",
            headers={"retry-after": str(wait), "x-request-id": request_id},
        )
    if path.startswith(("/v1/", "/v1beta/")):
        return openai_error(
            ApiError(429, _message(wait), "rate_limit_error", CODE, str(wait)), request_id
        )
    body: dict[str, object]
    if path.startswith("/graphql"):
        body = {"errors": [{"message": _message(wait), "extensions": {"code": CODE}}]}
    else:  # the sign-in and the invoice downloads: {"error": {"message", "code"}}
        body = {"error": {"message": _message(wait), "code": CODE}}
    return Response(
        orjson.dumps(body),
        status_code=429,
        media_type="application/json",
        headers={"retry-after": str(wait)},
    )


def _credential(scope: Scope) -> str | None:
    """The token a request presents in its headers, whichever way (bearer, x-api-key,
    x-goog-api-key, the session cookie); not checked here."""
    cookie: bytes | None = None
    name: bytes
    value: bytes
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        elif name in _KEY_HEADERS and value.strip():
            return value.decode("latin-1").strip()
        elif name == b"cookie":
            cookie = value
    if cookie is None or SESSION_COOKIE.encode() not in cookie:
        return _query_key(scope)
    jar = SimpleCookie()
    try:
        jar.load(cookie.decode("latin-1"))
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def _query_key(scope: Scope) -> str | None:
    """A `?key=` (Gemini clients may send their key so): guesses there count too."""
    query = scope.get("query_string", b"")
    if b"key=" not in query:
        return None
    values = parse_qs(query.decode("latin-1")).get("key")
    return values[0].strip() if values and values[0].strip() else None


def _address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class AuthThrottleMiddleware:
    """Refuses a throttled address or token before the route checks anything; records every
    401 answered to a request that presented a token."""

    def __init__(self, app: ASGIApp, throttle: FailureThrottle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == LOGIN_PATH:
            await self.app(scope, receive, send)
            return
        token = _credential(scope)
        if token is None:  # nothing to guess with: nothing to count
            await self.app(scope, receive, send)
            return
        address = _address(scope)
        if scope["path"].startswith(_BY_ADDRESS_ONLY):
            # A client key's displayed prefix is no secret (its client's portal shows it):
            # counting by it would let anyone who saw it hold that client's calls at 429.
            # Keys are 256-bit, so guessing one is hopeless anyway; addresses are counted.
            token = ""
        wait = self.throttle.retry_after(address, token)
        if wait is not None:
            rid = str(scope.get("state", {}).get("request_id", ""))
            await too_many_attempts(scope["path"], wait, rid)(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 401:
            self.throttle.failed(address, token)


def login_refusal(throttle: FailureThrottle, request: Request, token: str) -> Response | None:
    """The 429 for a sign-in from a throttled address or with a throttled token, else None."""
    wait = throttle.retry_after(_address(request.scope), token)
    return None if wait is None else too_many_attempts(LOGIN_PATH, wait, "")


def login_failed(throttle: FailureThrottle, request: Request, token: str) -> None:
    throttle.failed(_address(request.scope), token)
