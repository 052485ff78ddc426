"""Invoice downloads: GET /invoices/{id}.html|.pdf|.csv with the same credentials as /graphql
(`presented_token`), through the same principal-scoped use cases: a portal token gets only its
own client's invoices; anything else is a 404, like an unknown id."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from api.rest.documents import caller, download_headers, error_response
from domain.errors import NotFound
from domain.usecases.invoice_desk import DocumentFormat
from domain.usecases.management import Management

# The HTML invoice runs no script and loads nothing but its (optional) logo.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:"


async def download(request: Request) -> Response:
    principal = await caller(request)
    if isinstance(principal, Response):
        return principal
    container = request.app.state.container
    try:
        fmt = DocumentFormat(request.path_params["fmt"])
        management = Management(principal, container.management())
        rendered = await management.invoices.render(request.path_params["invoice_id"], fmt)
    except (ValueError, NotFound):
        return error_response(404, "no such invoice document", "not_found")
    headers = download_headers("inline", rendered.filename)
    if fmt is DocumentFormat.HTML:
        headers["content-security-policy"] = HTML_POLICY
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)
