"""The built web apps: files, SPA fallback per app, cache headers, no escape from the build
directory, API paths keep JSON 404s, and a helpful page when nothing is built."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from api.settings import DEFAULT_WEB_DIR, load_settings
from api.web import ANY_METHOD, WebApps
from tests.api.conftest import Gateway


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "portal").mkdir()
    (root / "index.html").write_text("<html>admin</html>")
    (root / "portal" / "index.html").write_text("<html>portal</html>")
    (root / "assets" / "admin-abc123.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


def _client(root: Path) -> TestClient:
    return TestClient(
        Starlette(routes=[Route("/{path:path}", WebApps(root).page, methods=ANY_METHOD)])
    )


def test_pages_fall_back_to_their_app(built: Path) -> None:
    with _client(built) as http:
        pages = {
            path: http.get(path) for path in ["/", "/clients/42", "/models", "/portal", "/portal/x"]
        }

    for path, response in pages.items():
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert pages["/clients/42"].text == "<html>admin</html>"
    assert pages["/portal"].text == "<html>portal</html>"
    assert pages["/portal/x"].text == "<html>portal</html>"


def test_hashed_assets_are_cached_for_a_year(built: Path) -> None:
    with _client(built) as http:
        asset = http.get("/assets/admin-abc123.js")
        missing = http.get("/assets/nope.js")
        icon = http.get("/favicon.svg")

    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert missing.status_code == 404
    assert icon.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"]
)
def test_nothing_outside_the_build_is_served(built: Path, path: str) -> None:
    with _client(built) as http:
        response = http.get(path)
    assert "outside the build" not in response.text


def test_api_paths_and_other_methods_are_not_pages(built: Path) -> None:
    with _client(built) as http:
        assert http.get("/v1/unknown").status_code == 404
        assert http.get("/auth/whatever").status_code == 404
        assert http.post("/clients/1").status_code == 404


def test_without_a_build_the_page_says_to_run_make_web(tmp_path: Path) -> None:
    with _client(tmp_path / "missing") as http:
        home = http.get("/")
        portal = http.get("/portal")

    assert home.status_code == 200
    assert "make web" in home.text
    assert "make web" in portal.text


def test_the_gateway_keeps_openai_404s_next_to_the_apps(gateway: Gateway) -> None:
    unknown = httpx.get(gateway.url + "/v1/no-such-route")
    posted = httpx.post(gateway.url + "/v1/no-such-route", json={})
    home = httpx.get(gateway.url + "/")

    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "invalid_request_error"
    assert posted.status_code == 404
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")


def test_the_build_location_is_a_setting(tmp_path: Path) -> None:
    chosen = load_settings(
        {
            "BIZGRAPH_WEB_DIR": str(tmp_path),
            "BIZGRAPH_SECRET_KEY": "web-files-test-secret-0123456789abcdef",
        }
    )
    default = load_settings({"BIZGRAPH_SECRET_KEY": "web-files-test-secret-0123456789abcdef"})

    assert chosen.web_dir == tmp_path
    assert default.web_dir == DEFAULT_WEB_DIR
    assert Path(__file__).resolve().parents[2] / "web" / "dist" == DEFAULT_WEB_DIR
