"""The bare passthrough: the fastest proxy we can write in Python, as the benchmark's yardstick.

A raw asyncio protocol with the httptools parser under uvloop takes the request, and one shared
aiohttp ClientSession (pooled keep-alive connections) forwards its body unchanged to the
upstream with the upstream's key. The answer is relayed as-is: a JSON body with its length, a
stream chunk by chunk as it arrives (`iter_any`, chunked transfer encoding). No parsing, no
auth, no metering: whatever the gateway costs above this is the gateway's own overhead.

    python -m bench.passthrough --port 9002 --upstream http://127.0.0.1:9001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import cast

import aiohttp
import httptools
import uvloop

FORWARDED_PATHS = (b"/v1/chat/completions",)
_BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n"
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n"


class Forwarder:
    """The shared upstream client: one session for the process, as a real proxy would hold."""

    def __init__(self, upstream: str, api_key: str) -> None:
        self.upstream = upstream.rstrip("/")
        connector = aiohttp.TCPConnector(limit=512, keepalive_timeout=60, ttl_dns_cache=None)
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=600, sock_connect=10),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )
        self.headers = {"content-type": "application/json", "authorization": f"Bearer {api_key}"}

    async def close(self) -> None:
        await self.session.close()


class ProxyProtocol(asyncio.Protocol):
    """One client connection. Each request is answered by a task; tasks of one connection
    write in order (each waits for the previous), so even pipelined requests stay ordered."""

    def __init__(self, forwarder: Forwarder) -> None:
        self._forwarder = forwarder
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._body: list[bytes] = []
        self._previous: asyncio.Task[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.close()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._writable.set()

    # httptools callbacks

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        path, body = self._url.partition(b"?")[0], b"".join(self._body)
        self._url, self._body = b"", []
        keep_alive = self._parser.should_keep_alive()
        self._previous = asyncio.get_running_loop().create_task(
            self._answer(path, body, keep_alive, self._previous)
        )

    # the relay

    async def _answer(
        self, path: bytes, body: bytes, keep_alive: bool, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        if path not in FORWARDED_PATHS:
            self._write(_NOT_FOUND)
        else:
            try:
                await self._forward(path, body)
            except (aiohttp.ClientError, TimeoutError):
                self._write(_BAD_GATEWAY)
                keep_alive = False
        if not keep_alive and self._transport is not None:
            self._transport.close()

    async def _forward(self, path: bytes, body: bytes) -> None:
        fw = self._forwarder
        url = fw.upstream + path.decode()
        async with fw.session.post(url, data=body, headers=fw.headers) as response:
            status = b"%d %s" % (response.status, (response.reason or "").encode())
            content_type = response.headers.get("content-type", "application/octet-stream")
            head = b"HTTP/1.1 " + status + b"\r\ncontent-type: " + content_type.encode()
            if content_type.startswith("text/event-stream"):
                self._write(head + b"\r\ntransfer-encoding: chunked\r\n\r\n")
                async for data in response.content.iter_any():
                    if self._transport is None:
                        return  # client gone: stop relaying
                    self._write(b"%x\r\n%s\r\n" % (len(data), data))
                    if not self._writable.is_set():
                        await self._writable.wait()
                self._write(b"0\r\n\r\n")
            else:
                payload = await response.read()
                self._write(head + b"\r\ncontent-length: %d\r\n\r\n" % len(payload) + payload)

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)


async def serve(host: str, port: int, upstream: str, api_key: str) -> None:
    forwarder = Forwarder(upstream, api_key)
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(
            lambda: ProxyProtocol(forwarder), host, port, backlog=1024
        )
        async with server:
            await server.serve_forever()
    finally:
        await forwarder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:9001")
    parser.add_argument("--api-key", default="sk-bench")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port, args.upstream, args.api_key))


if __name__ == "__main__":
    main()
