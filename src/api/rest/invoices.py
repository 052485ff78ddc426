"""Invoice downloads: GET /invoices/{id}.html|.pdf|.csv with the same credentials as /graphql
(`presented_token`), through the same principal-scoped use cases: a portal token gets only its
own client's invoices; anything else is a 404, like an unknown id."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.auth import presented_token
from domain.access.principals import Unauthenticated
from domain.errors import NotFound
from domain.usecases.invoice_desk import DocumentFormat
from domain.usecases.management import Management

# The HTML invoice runs no script and loads nothing but its (optional) logo.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:"


def _error(status: int, message: str, code: str) -> Response:
    body = orjson.dumps({"error": {"message": message, "code": code}})
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def download(request: Request) -> Response:
    container = request.app.state.container
    token = presented_token(request.headers, request.method)
    try:
        if token is None:
            raise Unauthenticated("missing token")
        principal = await container.access().authenticate(token)
    except Unauthenticated:
        return _error(
            401, "authentication required: send Authorization: Bearer <token>", "unauthenticated"
        )
    try:
        fmt = DocumentFormat(request.path_params["fmt"])
        management = Management(principal, container.management())
        rendered = await management.invoices.render(request.path_params["invoice_id"], fmt)
    except (ValueError, NotFound):
        return _error(404, "no such invoice document", "not_found")
    headers = {
        "content-disposition": f'inline; filename="{rendered.filename}"',
        "cache-control": "private, no-store",
        "x-content-type-options": "nosniff",
    }
    if fmt is DocumentFormat.HTML:
        headers["content-security-policy"] = HTML_POLICY
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)
