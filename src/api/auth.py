"""How a request presents a staff or portal token. One place, so `/graphql` and every download
route (invoices) accept exactly the same credentials.

Two ways: `Authorization: Bearer <token>` (scripts, the CLI, other programs), or the HttpOnly
session cookie that `POST /auth/login` sets for the web apps (api/session.py). A cookie is sent by
the browser on its own, so a cookie-authenticated request that can change something (any method
but GET/HEAD/OPTIONS) must also carry `X-Bizgraph-Request: 1`: a custom header that another site
cannot make a browser send without a CORS preflight, which this server never grants (CSRF).
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.datastructures import Headers

SESSION_COOKIE = "bizgraph_session"
CSRF_HEADER = "x-bizgraph-request"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def session_token(headers: Headers) -> str | None:
    """The token in the session cookie, if any (not checked here)."""
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def has_csrf_header(headers: Headers) -> bool:
    return headers.get(CSRF_HEADER) == "1"


def presented_token(headers: Headers, method: str = "POST") -> str | None:
    """The token a request presents: a bearer token, else the session cookie. Pass the request's
    `method`: the cookie counts on a GET (a download link) as is, and on anything else only with
    the CSRF header (the default assumes a state-changing request)."""
    if (token := bearer_token(headers)) is not None:
        return token
    if method.upper() in SAFE_METHODS or has_csrf_header(headers):
        return session_token(headers)
    return None
