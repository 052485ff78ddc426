"""How a request presents a staff or portal token. One place, so `/graphql` and every download
route (invoices) accept exactly the same credentials."""

from __future__ import annotations

from starlette.datastructures import Headers


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def presented_token(headers: Headers) -> str | None:
    """The token a request presents: `Authorization: Bearer <token>`."""
    return bearer_token(headers)
