"""Serves the built web apps (`make web` -> web/dist): the admin app at `/`, the client portal
at `/portal`. A path that names a built file gets it (hashed files under /assets/ with a year's
cache: their names change with their content); any other page path gets its app's index.html
(the app routes in the browser), never cached so a new build shows at once. API paths keep
their JSON 404s. Without a build, the page says to run `make web`."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
API_PREFIXES = ("/v1/", "/graphql", "/auth/", "/healthz")
PORTAL = "/portal"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Pages are framed by no one and load scripts and styles from this origin only.
PAGE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}

MISSING_BUILD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bizgraph</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>Bizgraph is running</h1>
<p>The web app has not been built in this checkout. Run <code>make web</code> (or start with
<code>make run</code>, which builds it first), then reload this page.</p>
<p>The APIs work already: <code>/v1</code> for model calls and <code>/graphql</code> for
management.</p>
</body></html>
"""


class WebApps:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    async def page(self, request: Request) -> Response:
        path = request.url.path
        if request.method not in ("GET", "HEAD") or path.startswith(API_PREFIXES):
            raise HTTPException(404, f"no route {path}")
        if (file := self._built_file(path)) is not None:
            cache = IMMUTABLE if path.startswith("/assets/") else NO_CACHE
            return FileResponse(file, headers={"cache-control": cache, **PAGE_HEADERS})
        if path.startswith("/assets/"):
            raise HTTPException(404, f"no file {path}")
        index = self._index_for(path)
        if not index.is_file():
            return HTMLResponse(MISSING_BUILD, headers={"cache-control": NO_CACHE})
        return FileResponse(index, headers={"cache-control": NO_CACHE, **PAGE_HEADERS})

    def _index_for(self, path: str) -> Path:
        is_portal = path == PORTAL or path.startswith(PORTAL + "/")
        return self._root / "portal" / "index.html" if is_portal else self._root / "index.html"

    def _built_file(self, path: str) -> Path | None:
        """The file under the build root that `path` names, never one outside it."""
        relative = path.lstrip("/")
        if not relative or relative.endswith("/"):
            return None
        candidate = (self._root / relative).resolve()
        if not candidate.is_relative_to(self._root) or not candidate.is_file():
            return None
        return candidate
