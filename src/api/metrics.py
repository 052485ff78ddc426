"""`GET /metrics` and the per-request measure (docs/operations.md "Metrics").

The endpoint sits on the public port behind a bearer token (BIZGRAPH_METRICS_TOKEN), compared
in constant time, rather than on a second loopback port: one port to deploy, proxy and health
check, and `--workers N` share it as they share every route (a second listener per worker would
need its own socket sharing). With metrics off the route answers 404 and the middleware is not
installed, so requests pay nothing."""

from __future__ import annotations

import hmac
import os
import shutil
import time
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.container.observability import scrape_metrics
from api.settings import Settings
from api.settings_sections import MetricsSettings
from domain.telemetry import Telemetry, begin_measure

EVENT_STREAM = b"text/event-stream"  # every streamed answer (OpenAI, Anthropic, Gemini SSE)
UNMATCHED = "unmatched"  # no route template (never the raw path: it is user input)


class MetricsMiddleware:
    """Count and time every HTTP request by its route template (pure ASGI, like the others)."""

    def __init__(self, app: ASGIApp, *, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        measure = begin_measure()
        status = 0
        streamed = False
        first_byte: float | None = None

        async def send_measured(message: Message) -> None:
            nonlocal status, streamed, first_byte
            if message["type"] == "http.response.start":
                status = message["status"]
                streamed = any(
                    name == b"content-type" and value.startswith(EVENT_STREAM)
                    for name, value in message.get("headers", ())
                )
            elif streamed and first_byte is None:
                first_byte = time.perf_counter() - started  # a streamed answer's first chunk
            await send(message)

        try:
            await self.app(scope, receive, send_measured)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            seconds = time.perf_counter() - started
            self.telemetry.request(route, measure, status, seconds, first_byte)


def authorized(request: Request, settings: MetricsSettings) -> bool:
    """The bearer token when one is configured (always in production), in constant time."""
    if settings.token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), settings.token.encode())


async def metrics(request: Request) -> Response:
    settings: MetricsSettings = request.app.state.settings.metrics
    if not settings.enabled:
        return _error(404, "metrics are off: set BIZGRAPH_METRICS=true", "not_found")
    if not authorized(request, settings):
        response = _error(401, "send BIZGRAPH_METRICS_TOKEN as a bearer token", "unauthorized")
        response.headers["www-authenticate"] = 'Bearer realm="metrics"'
        return response
    scraped = await scrape_metrics(request.app.state.container)
    if scraped is None:
        return _error(404, "metrics are off", "not_found")
    body, content_type = scraped
    return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})


def _error(status: int, message: str, code: str) -> Response:
    return JSONResponse({"error": {"message": message, "code": code}}, status_code=status)


METRICS_DIR = "prometheus"  # under the data dir: one private directory per `bizgraph serve`


def prepare_metrics_dir(settings: Settings) -> Path:
    """A fresh directory for prometheus-client's multiprocess files of this serve process
    and its workers (named after its pid); directories of serve processes that are gone are
    removed."""
    parent = settings.data_dir / METRICS_DIR
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in parent.glob("serve-*"):
        pid = old.name.removeprefix("serve-")
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            _remove_tree(old)
    mine = parent / f"serve-{os.getpid()}"
    mine.mkdir(mode=0o700)
    return mine


def remove_metrics_dir(path: Path) -> None:
    _remove_tree(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
