"""presented_token: a bearer token, else the session cookie (GET as is; other methods only with
the CSRF header)."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from api.auth import presented_token

COOKIE = "theme=dark; bizgraph_session=bzs_cookie_token; other=1"


@pytest.mark.parametrize(
    ("headers", "method", "expected"),
    [
        ({"authorization": "Bearer bzs_bearer"}, "POST", "bzs_bearer"),
        ({"authorization": "Bearer bzs_bearer", "cookie": COOKIE}, "POST", "bzs_bearer"),
        ({"authorization": "Basic abc", "cookie": COOKIE}, "GET", "bzs_cookie_token"),
        ({"cookie": COOKIE}, "GET", "bzs_cookie_token"),
        ({"cookie": COOKIE}, "HEAD", "bzs_cookie_token"),
        ({"cookie": COOKIE}, "POST", None),
        ({"cookie": COOKIE, "x-bizgraph-request": "1"}, "POST", "bzs_cookie_token"),
        ({"cookie": COOKIE, "x-bizgraph-request": "yes"}, "POST", None),
        ({"cookie": COOKIE}, "DELETE", None),
        ({"cookie": "bizgraph_session="}, "GET", None),
        ({"cookie": 'bizgraph_session="unterminated'}, "GET", None),
        ({}, "GET", None),
    ],
)
def test_presented_token(headers: dict[str, str], method: str, expected: str | None) -> None:
    assert presented_token(Headers(headers), method) == expected


def test_without_a_method_the_cookie_needs_the_csrf_header() -> None:
    assert presented_token(Headers({"cookie": COOKIE})) is None
    assert (
        presented_token(Headers({"cookie": COOKIE, "x-bizgraph-request": "1"}))
        == "bzs_cookie_token"
    )
