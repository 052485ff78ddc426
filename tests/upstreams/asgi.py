"""ASGI helpers the fake upstreams share: reading a body, pausing until a client leaves."""

from __future__ import annotations

import asyncio

from starlette.types import Receive


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def pause(receive: Receive, seconds: float) -> bool:
    """Wait `seconds`, or less if the client goes away (True then), so a test that timed out
    does not keep the server busy at shutdown."""
    if seconds <= 0:
        return False
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
            return True
    except TimeoutError:
        return False
