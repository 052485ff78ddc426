"""Run an ASGI app on a real loopback port in a background thread (for fake upstreams, the
gateway under test and webhook receivers), so clients talk real HTTP, not an in-process
transport; and a minimal SMTP server for alert emails."""

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
def serve_in_thread(app: Any, *, lifespan: str = "auto", **options: Any) -> Iterator[str]:
    """Yields the base URL (`http://127.0.0.1:<port>`) while the app is served; `options`
    go to uvicorn (the gateway passes `api.serving.server_options()`, as `bizgraph serve`
    does; the event loop is this thread's asyncio loop whatever they say)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, **{"log_level": "warning", "lifespan": lifespan, "loop": "asyncio", **options}
    )
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


@dataclass
class SmtpCatcher:
    """A minimal SMTP server (no TLS, no auth) keeping each accepted message; it answers
    451 (try again later) to the first `fail_first` messages."""

    fail_first: int = 0
    messages: list[bytes] = field(default_factory=list)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await say("220 catcher ESMTP")
        while line := await reader.readline():
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                await say("250 catcher")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                await say("250 ok")
            elif verb == "DATA":
                await say("354 go ahead")
                data = await reader.readuntil(b"\r\n.\r\n")
                with self._lock:
                    if self.refused < self.fail_first:
                        self.refused += 1
                        accepted = False
                    else:
                        self.messages.append(data[: -len(b"\r\n.\r\n")])
                        accepted = True
                await say("250 queued" if accepted else "451 try again later")
            elif verb == "QUIT":
                await say("221 bye")
                break
            else:
                await say("502 not implemented")
        writer.close()

    def received(self) -> list[bytes]:
        with self._lock:
            return list(self.messages)


@contextmanager
def serve_smtp_in_thread(catcher: SmtpCatcher) -> Iterator[int]:
    """Yields the port of the catcher on 127.0.0.1 while it is served."""
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def main() -> None:
        server = await asyncio.start_server(catcher._session, "127.0.0.1", 0)
        found["port"] = int(server.sockets[0].getsockname()[1])
        found["loop"], found["stop"] = asyncio.get_running_loop(), asyncio.Event()
        ready.set()
        async with server:
            await found["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    if not ready.wait(timeout=10):
        raise RuntimeError("the SMTP catcher did not start")
    try:
        yield found["port"]
    finally:
        found["loop"].call_soon_threadsafe(found["stop"].set)
        thread.join(timeout=10)
