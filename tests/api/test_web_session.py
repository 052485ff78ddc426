"""The web apps' session: POST /auth/login sets an HttpOnly, SameSite=Strict cookie holding the
token; /graphql accepts it (with the CSRF header on POSTs); POST /auth/logout clears it."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from api.auth import SESSION_COOKIE
from api.session import SessionRoutes
from domain.access.principals import (
    PortalPrincipal,
    Principal,
    Role,
    StaffPrincipal,
    Unauthenticated,
)
from tests.api.conftest import Gateway
from tests.api.graphql_support import create_client, owner, staff

CSRF = {"x-bizgraph-request": "1"}
ME = {"query": "{ me { kind name role clientId } timeZone }"}


def _portal_token(gateway: Gateway, client_name: str) -> tuple[str, str]:
    admin = owner(gateway)
    client_id = create_client(admin, client_name, {"percentageMargin": {"percent": "10"}})
    created = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client_id,
    )["createPortalToken"]
    return client_id, created["secret"]


def _login(http: httpx.Client, token: str, app: str = "admin") -> httpx.Response:
    return http.post("/auth/login", json={"token": token, "app": app}, headers=CSRF)


def test_login_sets_an_httponly_strict_cookie_that_graphql_accepts(gateway: Gateway) -> None:
    token = staff(gateway, "VIEWER").token
    assert token is not None
    with httpx.Client(base_url=gateway.url) as http:
        signed_in = _login(http, token)
        me = http.post("/graphql", json=ME, headers=CSRF)

    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json() == {
        "kind": "staff",
        "name": "test VIEWER",
        "role": "viewer",
        "clientId": None,
        "secureCookie": False,
    }
    cookie = signed_in.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie  # the test gateway runs in development (plain http)
    assert me.status_code == 200, me.text
    assert me.json()["data"]["me"] == {
        "kind": "STAFF",
        "name": "test VIEWER",
        "role": "VIEWER",
        "clientId": None,
    }
    assert me.json()["data"]["timeZone"] == "UTC"


def test_a_cookie_without_the_csrf_header_authenticates_no_post(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.url) as http:
        assert _login(http, staff(gateway, "ADMIN").token or "").status_code == 200
        forged = http.post("/graphql", json=ME)  # what another site's form or fetch could send
        wrong_value = http.post("/graphql", json=ME, headers={"x-bizgraph-request": "0"})
        with_header = http.post("/graphql", json=ME, headers=CSRF)

    assert forged.status_code == 401
    assert wrong_value.status_code == 401
    assert with_header.status_code == 200


def test_login_refuses_bad_requests_and_tokens(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.url) as http:
        no_header = http.post("/auth/login", json={"token": "x" * 30})
        not_json = http.post("/auth/login", content=b"token=abc", headers=CSRF)
        no_token = http.post("/auth/login", json={"app": "admin"}, headers=CSRF)
        bad_app = http.post("/auth/login", json={"token": "abc", "app": "other"}, headers=CSRF)
        unknown = _login(http, "bzs_" + "a" * 43)
        huge = http.post("/auth/login", content=b"x" * 5000, headers=CSRF)

    assert no_header.status_code == 403
    assert no_header.json()["error"]["code"] == "csrf"
    assert not_json.status_code == 400
    assert no_token.status_code == 400
    assert bad_app.status_code == 400
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "unauthenticated"
    assert huge.status_code == 413
    for response in (no_header, not_json, no_token, bad_app, unknown, huge):
        assert "set-cookie" not in response.headers


def test_each_app_takes_its_own_kind_of_token(gateway: Gateway) -> None:
    client_id, portal = _portal_token(gateway, "Session portal client")
    staff_token = staff(gateway, "OWNER").token or ""
    with httpx.Client(base_url=gateway.url) as http:
        portal_on_admin = _login(http, portal, "admin")
        staff_on_portal = _login(http, staff_token, "portal")
        portal_on_portal = _login(http, portal, "portal")
        me = http.post("/graphql", json=ME, headers=CSRF)

    assert portal_on_admin.status_code == 403
    assert "/portal" in portal_on_admin.json()["error"]["message"]
    assert staff_on_portal.status_code == 403
    assert "set-cookie" not in portal_on_admin.headers
    assert "set-cookie" not in staff_on_portal.headers
    assert portal_on_portal.json() == {
        "kind": "portal",
        "name": "portal",
        "role": None,
        "clientId": client_id,
        "secureCookie": False,
    }
    assert me.json()["data"]["me"]["clientId"] == client_id


def test_logout_clears_the_cookie_and_revocation_ends_the_session(gateway: Gateway) -> None:
    created = owner(gateway).data(
        """mutation { createStaffToken(input: {name: "session", role: VIEWER}) {
             ... on CreateStaffTokenSuccess { secret staffToken { id } } } }"""
    )["createStaffToken"]
    with httpx.Client(base_url=gateway.url) as http:
        _login(http, created["secret"])
        logout_without_header = http.post("/auth/logout")
        logged_out = http.post("/auth/logout", headers=CSRF)
        after_logout = http.post("/graphql", json=ME, headers=CSRF)

        _login(http, created["secret"])
        owner(gateway).data(
            """mutation($id: ID!) { revokeStaffToken(id: $id) { __typename } }""",
            id=created["staffToken"]["id"],
        )
        after_revoke = http.post("/graphql", json=ME, headers=CSRF)

    assert logout_without_header.status_code == 403
    assert logged_out.status_code == 200
    assert "max-age=0" in logged_out.headers["set-cookie"].lower()
    assert after_logout.status_code == 401
    assert after_revoke.status_code == 401


def test_a_bearer_token_still_wins_over_the_cookie(gateway: Gateway) -> None:
    _, portal = _portal_token(gateway, "Bearer beats cookie")
    with httpx.Client(base_url=gateway.url) as http:
        _login(http, portal, "portal")
        me = http.post(
            "/graphql", json=ME, headers={"authorization": f"Bearer {owner(gateway).token}"}
        )

    assert me.json()["data"]["me"]["kind"] == "STAFF"


class _Access:
    """Stands in for AccessUseCases: one known token per principal."""

    def __init__(self, tokens: dict[str, Principal]) -> None:
        self._tokens = tokens

    async def authenticate(self, secret: str) -> Principal:
        if secret not in self._tokens:
            raise Unauthenticated("unknown")
        return self._tokens[secret]


@pytest.mark.parametrize("secure", [True, False])
def test_the_cookie_is_secure_outside_development(secure: bool) -> None:
    access = _Access(
        {
            "staff-token": StaffPrincipal(name="Ada", role=Role.OWNER, token_id="t1"),
            "portal-token": PortalPrincipal(client_id="c1", token_id="t2"),
        }
    )
    routes = SessionRoutes(lambda: access, secure=secure)  # type: ignore[arg-type, return-value]
    app = Starlette(
        routes=[
            Route("/auth/login", routes.login, methods=["POST"]),
            Route("/auth/logout", routes.logout, methods=["POST"]),
        ]
    )
    with TestClient(app) as http:
        login = http.post("/auth/login", json={"token": "staff-token"}, headers=CSRF)
        logout = http.post("/auth/logout", headers=CSRF)

    assert login.status_code == 200
    assert login.json()["secureCookie"] is secure
    assert ("secure" in login.headers["set-cookie"].lower()) is secure
    assert ("secure" in logout.headers["set-cookie"].lower()) is secure
