"""Run an ASGI app on a real loopback port in a background thread (for fake upstreams and the
gateway under test), so clients talk real HTTP, not an in-process transport."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@contextmanager
def serve_in_thread(app: Any, *, lifespan: str = "auto") -> Iterator[str]:
    """Yields the base URL (`http://127.0.0.1:<port>`) while the app is served."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass(frozen=True)
class Received:
    event_id: str
    signature: str
    body: bytes
    answered: int  # the status code the receiver answered with


@dataclass
class WebhookReceiver:
    """A webhook receiver to serve with `serve_in_thread(receiver.app)`: it answers 503 to
    the first `fail_first` attempts of each event, then 200; with `hang_seconds` it sleeps
    that long before answering. Every request is kept in `received` (thread-safe)."""

    fail_first: int = 0
    hang_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    arrived: int = 0  # requests that reached the receiver, answered or not yet
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.arrived += 1
        if self.hang_seconds:
            await asyncio.sleep(self.hang_seconds)
        event_id = request.headers.get("x-bizgraph-event-id", "")
        with self._lock:
            earlier = sum(1 for r in self.received if r.event_id == event_id)
            status = 503 if earlier < self.fail_first else 200
            signature = request.headers.get("x-bizgraph-signature", "")
            self.received.append(Received(event_id, signature, body, status))
        return Response(status_code=status)

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def delivered(self) -> list[Received]:
        return [r for r in self.requests() if r.answered == 200]
