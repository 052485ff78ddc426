"""Outbound webhook POSTs with httpx: short timeouts, no redirects, and the destination's
addresses checked after DNS resolution (a public name may resolve to a private address)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from domain.ports import WebhookSender
from domain.webhooks import SendResult, is_public_address

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class HttpxWebhookSender(WebhookSender):
    def __init__(
        self,
        *,
        timeout_seconds: float,
        allow_private: bool,
        resolver: Resolver = resolve,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,  # a redirect could lead to a private address
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
        )

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        refused = await self._refusal(url)
        if refused is not None:
            return SendResult(error=refused)
        try:
            response = await self._client.post(url, content=body, headers=dict(headers))
        except httpx.TimeoutException:
            return SendResult(error="timed out")
        except httpx.HTTPError as exc:
            return SendResult(error=f"{type(exc).__name__}: could not reach the receiver")
        return SendResult(status_code=response.status_code)

    async def _refusal(self, url: str) -> str | None:
        """Why the destination may not be called, or None."""
        if self._allow_private:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await self._resolver(host, port)
        except OSError:
            return f"could not resolve {host}"
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                return f"{host} resolves to a non-public address; refused"
        return None

    async def aclose(self) -> None:
        await self._client.aclose()
