"""The web apps' sign-in: `POST /auth/login {token, app}` checks a staff or portal token with the
same use case `/graphql` uses and keeps it in an HttpOnly, SameSite=Strict cookie (Secure outside
development), so page scripts never hold it; `POST /auth/logout` clears it. Both need the CSRF
header (api/auth.py), which the apps send on every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.auth import SESSION_COOKIE, has_csrf_header
from api.request_body import BodyRefused, read_json
from api.throttle import FailureThrottle
from api.throttle_http import login_failed, login_refusal
from domain.access.principals import Principal, Unauthenticated
from domain.usecases.access import AccessUseCases

MAX_LOGIN_BYTES = 4096
# A working day; signing in again afterwards is cheap, and a lost laptop's session ends.
SESSION_SECONDS = 12 * 3600
App = Literal["admin", "portal"]


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(status: int, message: str, code: str) -> Response:
    return _json(status, {"error": {"message": message, "code": code}})


def describe(principal: Principal) -> dict[str, Any]:
    """Who signed in, as the apps need it (the same facts as GraphQL's `me`)."""
    return {
        "kind": "portal" if principal.client_id is not None else "staff",
        "name": principal.name,
        "role": None if principal.role is None else principal.role.value,
        "clientId": principal.client_id,
    }


def _wrong_app(principal: Principal, app: App) -> str | None:
    if app == "admin" and principal.client_id is not None:
        return "this is a client-portal token: open /portal to sign in with it"
    if app == "portal" and principal.client_id is None:
        return "this is a staff token: open / (the admin app) to sign in with it"
    return None


class SessionRoutes:
    def __init__(
        self,
        access: Callable[[], AccessUseCases],
        *,
        secure: bool,
        throttle: FailureThrottle | None = None,
    ) -> None:
        self._access = access
        self._secure = secure
        self._throttle = throttle if throttle is not None else FailureThrottle()

    async def login(self, request: Request) -> Response:
        if not has_csrf_header(request.headers):
            return _error(403, "missing the X-Bizgraph-Request header", "csrf")
        try:
            fields = await read_json(request, MAX_LOGIN_BYTES)
        except BodyRefused as refused:
            if refused.status == 413:
                return _error(413, "the sign-in request is too large", "payload_too_large")
            fields = None  # not JSON, or absurdly nested: the usage message below
        token = fields.get("token") if isinstance(fields, dict) else None
        app = fields.get("app", "admin") if isinstance(fields, dict) else None
        if not isinstance(token, str) or not token.strip() or app not in ("admin", "portal"):
            message = 'send JSON {"token": "<token>", "app": "admin" | "portal"}'
            return _error(400, message, "bad_request")
        if (throttled := login_refusal(self._throttle, request, token.strip())) is not None:
            return throttled
        try:
            principal = await self._access().authenticate(token.strip())
        except Unauthenticated:
            login_failed(self._throttle, request, token.strip())
            return _error(
                401, "this token is not valid (unknown, revoked or mistyped)", "unauthenticated"
            )
        if (mismatch := _wrong_app(principal, app)) is not None:
            return _error(403, mismatch, "wrong_app")
        # The app warns when the browser will drop a Secure cookie (plain http, not localhost).
        response = _json(200, {**describe(principal), "secureCookie": self._secure})
        response.set_cookie(
            SESSION_COOKIE,
            token.strip(),
            max_age=SESSION_SECONDS,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self._secure,
        )
        return response

    async def logout(self, request: Request) -> Response:
        if not has_csrf_header(request.headers):
            return _error(403, "missing the X-Bizgraph-Request header", "csrf")
        response = _json(200, {"signedOut": True})
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=self._secure
        )
        return response
