"""Accounting exports: GET /exports/invoices/{period}.csv and /exports/ledger/{period}.csv
with the same credentials as /graphql, owners only (docs/tax.md "Exports")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from api.auth import presented_token
from api.rest.invoices import _error
from domain.access.principals import NotAllowed, Unauthenticated
from domain.errors import DomainError
from domain.usecases.accounting import Journal
from domain.usecases.management import Management


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
        journal = Journal(request.path_params["journal"])
    except ValueError:
        return _error(404, "no such export", "not_found")
    try:
        management = Management(principal, container.management())
        made = await management.accounting.csv(journal, request.path_params["period"])
    except NotAllowed as error:
        return _error(403, error.message, "not_allowed")
    except DomainError as error:
        return _error(400, error.message, error.code)
    headers = {
        "content-disposition": f'attachment; filename="{made.filename}"',
        "cache-control": "private, no-store",
        "x-content-type-options": "nosniff",
    }
    return Response(made.text.encode(), media_type="text/csv; charset=utf-8", headers=headers)
