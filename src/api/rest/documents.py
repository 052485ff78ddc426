"""What the document downloads (invoices, accounting exports) share: the caller authenticated
with the same credentials as /graphql (`presented_token`), and their JSON error body."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.auth import presented_token
from domain.access.principals import Principal, Unauthenticated


def error_response(status: int, message: str, code: str) -> Response:
    body = orjson.dumps({"error": {"message": message, "code": code}})
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def caller(request: Request) -> Principal | Response:
    """The principal of the request's token, or the 401 to answer."""
    token = presented_token(request.headers, request.method)
    try:
        if token is None:
            raise Unauthenticated("missing token")
        principal: Principal = await request.app.state.container.access().authenticate(token)
    except Unauthenticated:
        return error_response(
            401, "authentication required: send Authorization: Bearer <token>", "unauthenticated"
        )
    return principal


def download_headers(disposition: str, filename: str) -> dict[str, str]:
    return {
        "content-disposition": f'{disposition}; filename="{filename}"',
        "cache-control": "private, no-store",
        "x-content-type-options": "nosniff",
    }
