"""POST /webhooks/stripe: Stripe's events, verified by their signature (Stripe-Signature,
checked by the official library with the endpoint's signing secret) and applied once per
event id. Answers as Stripe expects: 2xx once recorded (a redelivery or an event type
Bizgraph ignores too), 400 for a bad signature or body (Stripe does not retry those usefully,
and the dashboard shows them), 5xx when the database is down (Stripe retries for 3 days)."""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.request_body import BodyRefused, read_body
from domain.errors import StoreUnavailable, ValidationError
from domain.payments.processor import InvalidSignature

MAX_EVENT_BYTES = 256 * 1024  # Stripe's events are a few kilobytes
logger = logging.getLogger(__name__)


def _answer(status: int, body: dict[str, object]) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(status: int, message: str, code: str) -> Response:
    return _answer(status, {"error": {"message": message, "code": code}})


async def stripe_webhook(request: Request) -> Response:
    payments = request.app.state.container.payments()
    if payments is None:
        return _error(404, "payments through Stripe are not configured", "not_found")
    try:
        body = await read_body(request, MAX_EVENT_BYTES)
    except BodyRefused as refused:
        return _error(refused.status, refused.message, refused.code)
    try:
        outcome = await payments.handle(body, request.headers.get("stripe-signature"))
    except InvalidSignature:
        return _error(400, "the Stripe-Signature header does not verify", "invalid_signature")
    except ValidationError as exc:
        logger.warning("a Stripe event was refused: %s", exc)
        return _error(400, str(exc), exc.code)
    except StoreUnavailable:
        return _error(503, "the database is unavailable; Stripe will retry", "unavailable")
    return _answer(200, {"received": True, "outcome": outcome.value})
