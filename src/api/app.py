"""The ASGI app: model-call routes, health, the GraphQL management API, the web apps' sign-in
and their built files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api import background
from api.container import Container, close_container, make_container
from api.container.database import database_status
from api.graphql.schema import build_schema
from api.graphql.view import ManagementGraphQL
from api.metrics import MetricsMiddleware, metrics
from api.redaction import configured_secrets, install_redaction
from api.rest import (
    chat,
    exports,
    gemini,
    gemini_models,
    invoices,
    messages,
    responses,
    stripe_webhooks,
)
from api.rest.errors import ApiError, openai_error
from api.rest.gateway import request_id
from api.rest.middleware import RequestIdMiddleware
from api.session import SessionRoutes
from api.settings import LogFormat, Settings, load_settings
from api.throttle import FailureThrottle
from api.throttle_http import AuthThrottleMiddleware
from api.web import ANY_METHOD, WebApps


class SchemaNotReady(RuntimeError):
    """The database is missing or not migrated; the message says what to run."""


def create_app(settings: Settings | None = None, container: Container | None = None) -> Starlette:
    settings = settings or load_settings()
    container = container or make_container(settings)
    install_redaction(configured_secrets(settings))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        status = await database_status(settings)
        if not status.is_current:
            raise SchemaNotReady(status.message)
        app.state.gateway = container.gateway()
        heartbeat = await background.register(container, settings)
        loops = background.start(container, settings)
        try:
            yield
        finally:
            await background.stop(loops)
            await container.relays().wait(settings.drain_after_disconnect_seconds)
            await container.metering().wait_for_settlements(10.0)  # else journal recovery
            await background.unregister(container, heartbeat)
            await close_container(container)
            # Last, so the spans of calls that settled while draining are exported too.
            await asyncio.to_thread(container.tracer().shutdown)

    graphql = ManagementGraphQL(
        build_schema(development=settings.is_development),
        access=container.access,
        use_cases=container.management,
        clock=container.clock,
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=False,  # no state-changing GETs, no CSRF through simple requests
    )
    throttle = FailureThrottle(settings.auth_throttle)  # failed sign-ins, per address and prefix
    session = SessionRoutes(container.access, secure=not settings.is_development, throttle=throttle)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/auth/login", session.login, methods=["POST"]),
        Route("/auth/logout", session.logout, methods=["POST"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/v1/chat/completions", chat.chat_completions, methods=["POST"]),
        Route("/v1/embeddings", chat.embeddings, methods=["POST"]),
        Route("/v1/models", gemini_models.v1_models, methods=["GET"]),
        Route("/v1/messages", messages.create_message, methods=["POST"]),
        Route("/v1/responses", responses.create_response, methods=["POST"]),
        Route(
            "/v1/responses/{rest:path}",
            responses.stored_response,
            methods=["GET", "POST", "DELETE"],
        ),
        # Gemini's native API (`models/{model}:{method}`; the model may hold a slash).
        Route("/v1beta/models/{target:path}", gemini.model_method, methods=["POST"]),
        Route("/v1/models/{target:path}", gemini.model_method, methods=["POST"]),
        Route("/v1beta/models", gemini_models.list_models, methods=["GET"]),
        Route("/v1beta/models/{target:path}", gemini_models.get_model, methods=["GET"]),
        Route("/v1/models/{target:path}", gemini_models.v1_model, methods=["GET"]),
        Route("/invoices/{invoice_id}.{fmt}", invoices.download, methods=["GET"]),
        Route("/exports/{journal}/{period}.csv", exports.download, methods=["GET"]),
        Route("/webhooks/stripe", stripe_webhooks.stripe_webhook, methods=["POST"]),
        # Last: the web apps' files and pages (their own 404s keep API paths in JSON).
        Route("/{path:path}", WebApps(settings.web_dir).page, methods=ANY_METHOD),
    ]
    middleware = [
        Middleware(RequestIdMiddleware, log_context=settings.log_format is LogFormat.JSON),
        Middleware(AuthThrottleMiddleware, throttle=throttle),
    ]
    if settings.metrics.enabled:  # else requests pay nothing for metrics
        middleware.insert(1, Middleware(MetricsMiddleware, telemetry=container.telemetry()))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.settings = settings
    app.state.auth_throttle = throttle
    return app


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when this process can meter calls now, else 503; the body says which check failed."""
    report = await request.app.state.container.readiness().report()
    return JSONResponse(report.body(), status_code=200 if report.ready else 503)


async def http_error(request: Request, exc: Exception) -> Response:
    """404/405 and friends in the OpenAI error format, so SDKs show a readable message."""
    assert isinstance(exc, HTTPException)
    error = ApiError(exc.status_code, exc.detail, "invalid_request_error", None)
    return openai_error(error, request_id(request))
