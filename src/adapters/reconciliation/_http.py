"""What the reporting adapters share: an httpx client, JSON with exact decimals, pagination."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from domain.errors import DomainError

MAX_PAGES = 1000  # a misbehaving API cannot keep a run paging forever
Params = Sequence[tuple[str, str | int]]


class ReportUnavailable(DomainError):
    """A provider's reporting API refused or failed (the message names the status, never the
    credential)."""


def client(base_url: str, headers: Mapping[str, str], timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers=dict(headers),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
    )


def day_of(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


async def pages(
    http: httpx.AsyncClient, provider: str, path: str, params: Params
) -> AsyncIterator[dict[str, Any]]:
    """Each page of a `data` / `has_more` / `next_page` listing (both providers' shape)."""
    page: str | None = None
    for _ in range(MAX_PAGES):
        query: list[tuple[str, str | int | float | bool | None]] = list(params)
        if page:
            query.append(("page", page))
        try:
            response = await http.get(path, params=query)
        except httpx.HTTPError as exc:
            raise ReportUnavailable(f"{provider} {path}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            # Only the status: an error body may quote part of the credential.
            raise ReportUnavailable(f"{provider} {path} answered {response.status_code}")
        try:
            body = json.loads(response.text, parse_float=Decimal)
        except ValueError as exc:
            raise ReportUnavailable(f"{provider} {path}: not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ReportUnavailable(f"{provider} {path}: no data list in the answer")
        yield body
        page = body.get("next_page")
        if not body.get("has_more") or not page:
            return
    raise ReportUnavailable(f"{provider} {path}: more than {MAX_PAGES} pages")


def integer(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ReportUnavailable(f"not a count: {value!r}")
    return int(value)
