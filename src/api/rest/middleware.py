"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import begin_request
from api.rest.gateway import new_request_id


class RequestIdMiddleware:
    """Give every HTTP request an id and every response an `x-request-id` header; with JSON
    logs, put the id in the log context too (api/logs.py), for every line the request causes,
    uvicorn's access line included."""

    def __init__(self, app: ASGIApp, *, log_context: bool = False) -> None:
        self.app = app
        self.log_context = log_context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        if self.log_context:
            begin_request(rid)
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append(header)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
