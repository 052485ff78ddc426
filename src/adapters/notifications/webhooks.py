"""Outbound webhook POSTs with httpx: short timeouts, no redirects, and the destination's
addresses checked after DNS resolution (a public name may resolve to a private address). The
request then goes to the very address that was checked (the URL's host pinned to it, with the
name kept for the Host header and TLS), so a second resolution cannot swap in a private one
(DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from domain.alerting.ports import WebhookSender
from domain.alerting.webhooks import SendResult, is_public_address

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class _Target:
    url: httpx.URL
    headers: Mapping[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


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
        try:
            target = await self._target(url)
        except (httpx.InvalidURL, UnicodeError, ValueError):
            # Stored before URLs were made canonical at creation: say so, every attempt.
            return SendResult(error="invalid URL: recreate this webhook with a valid URL")
        if isinstance(target, str):
            return SendResult(error=target)
        try:
            request = self._client.build_request(
                "POST",
                target.url,
                content=body,
                headers={**headers, **target.headers},
                extensions=target.extensions,
            )
            response = await self._client.send(request)
        except httpx.TimeoutException:
            return SendResult(error="timed out")
        except httpx.HTTPError as exc:
            return SendResult(error=f"{type(exc).__name__}: could not reach the receiver")
        except (httpx.InvalidURL, UnicodeError) as exc:
            return SendResult(error=f"{type(exc).__name__}: invalid URL")
        return SendResult(status_code=response.status_code)

    async def _target(self, url: str) -> _Target | str:
        """Where to send, pinned to a checked address; or why the destination is refused."""
        if self._allow_private:
            return _Target(httpx.URL(url))
        parsed = httpx.URL(url)
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = await self._resolver(host, port)
        except (OSError, UnicodeError):
            return f"could not resolve {host}"
        if not addresses:
            return f"could not resolve {host}"
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                return f"{host} resolves to a non-public address; refused"
        return _Target(
            parsed.copy_with(host=addresses[0].split("%")[0]),
            headers={"host": parsed.netloc.decode("ascii")},
            extensions={"sni_hostname": host},
        )

    async def aclose(self) -> None:
        await self._client.aclose()
