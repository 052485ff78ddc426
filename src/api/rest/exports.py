"""Accounting exports: GET /exports/invoices/{period}.csv and /exports/ledger/{period}.csv
with the same credentials as /graphql, owners only (docs/tax.md "Exports")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from api.rest.documents import caller, download_headers, error_response
from domain.access.principals import NotAllowed
from domain.errors import DomainError
from domain.usecases.accounting import Journal
from domain.usecases.management import Management


async def download(request: Request) -> Response:
    principal = await caller(request)
    if isinstance(principal, Response):
        return principal
    container = request.app.state.container
    try:
        journal = Journal(request.path_params["journal"])
    except ValueError:
        return error_response(404, "no such export", "not_found")
    try:
        management = Management(principal, container.management())
        made = await management.accounting.csv(journal, request.path_params["period"])
    except NotAllowed as error:
        return error_response(403, error.message, "not_allowed")
    except DomainError as error:
        return error_response(400, error.message, error.code)
    headers = download_headers("attachment", made.filename)
    return Response(made.text.encode(), media_type="text/csv; charset=utf-8", headers=headers)
