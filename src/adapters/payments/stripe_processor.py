"""Stripe through its official library (`stripe.StripeClient`, async calls over httpx).

Pay links are Checkout Sessions (mode=payment, one line with the open balance), not Stripe
invoices: our invoice stays the one document (number, lines, tax, PDF), and a session needs
no mirror of lines, tax rates or numbering that could drift from it (docs/payments.md).
Every request that creates something carries an Idempotency-Key; the secret key never
reaches a log or an error message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import stripe

from adapters.payments.stripe_events import read_event
from domain.billing.money import Money
from domain.errors import ValidationError
from domain.payments.minor_units import chargeable_units, processor_currency
from domain.payments.ports import ChargeOutcome, ChargeResult
from domain.payments.processor import (
    CheckoutRequest,
    HostedPage,
    InvalidSignature,
    ProcessorEvent,
    ProcessorUnavailable,
)

TIMEOUT_SECONDS = 20
MAX_EVENT_BYTES = 256 * 1024


class FormHttpxClient(stripe.HTTPXClient):
    """The library's httpx client, sending its encoded form as `content=`: it passes the
    string as `data=`, which httpx deprecates (a warning on every request)."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args: list[Any] = super()._get_request_args_kwargs(method, url, headers, post_data)
        options = args[1]
        if isinstance(options.get("data"), str | bytes):
            options["content"] = options.pop("data")
        elif not options.get("data"):
            options.pop("data", None)
        return args


def stripe_client(
    secret_key: str, api_base: str | None = None, http: stripe.HTTPXClient | None = None
) -> stripe.StripeClient:
    """The official client, on `api_base` when given (the tests' fake Stripe); close `http`
    (`await http.close_async()`) when done."""
    addresses: Any = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        secret_key,
        base_addresses=addresses,
        max_network_retries=2,  # safe: every creating request carries an Idempotency-Key
        http_client=http or FormHttpxClient(timeout=TIMEOUT_SECONDS),
    )


class StripeProcessor:
    """The `PaymentProcessor` port on Stripe's API."""

    def __init__(
        self, secret_key: str, webhook_secret: str | None, api_base: str | None = None
    ) -> None:
        self._http = FormHttpxClient(timeout=TIMEOUT_SECONDS)
        self._client = stripe_client(secret_key, api_base, self._http)
        self._webhook_secret = webhook_secret

    async def create_customer(
        self, client_id: str, name: str, email: str | None, idempotency_key: str
    ) -> str:
        params: Any = {"name": name, "metadata": {"client_id": client_id}}
        if email:
            params["email"] = email
        try:
            customer = await self._client.v1.customers.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _unavailable("creating the Stripe customer", exc) from None
        return str(customer.id)

    async def create_checkout(self, request: CheckoutRequest) -> HostedPage:
        metadata = {"kind": request.purpose.value, "client_id": request.client_id}
        if request.invoice_id is not None:
            metadata["invoice_id"] = request.invoice_id
        if request.invoice_number is not None:
            metadata["invoice_number"] = request.invoice_number
        intent: dict[str, Any] = {"metadata": metadata}
        if request.save_payment_method:
            intent["setup_future_usage"] = "off_session"
        params: Any = {
            "mode": "payment",
            "customer": request.customer_ref,
            "client_reference_id": request.client_id,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": processor_currency(request.amount.currency),
                        "unit_amount": chargeable_units(request.amount),
                        "product_data": {"name": request.description[:250]},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": intent,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _unavailable("creating the Checkout Session", exc) from None
        expires = datetime.fromtimestamp(int(session.expires_at), UTC)
        return HostedPage(str(session.id), str(session.url), expires)

    async def charge_saved(
        self, customer_ref: str, amount: Money, reference: str, metadata: Mapping[str, str]
    ) -> ChargeResult:
        try:
            methods = await self._client.v1.customers.payment_methods.list_async(
                customer_ref, {"limit": 1}
            )
        except stripe.StripeError as exc:
            return ChargeResult(ChargeOutcome.FAILED, None, _message(exc))
        if not methods.data:
            return ChargeResult(ChargeOutcome.NO_PAYMENT_METHOD, None, "no saved payment method")
        params: Any = {
            "amount": chargeable_units(amount),
            "currency": processor_currency(amount.currency),
            "customer": customer_ref,
            "payment_method": methods.data[0].id,
            "off_session": True,
            "confirm": True,
            "metadata": dict(metadata),
        }
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params, {"idempotency_key": reference}
            )
        except stripe.CardError as exc:  # declined, or the bank asks for the client
            ref = _failed_intent(exc)
            return ChargeResult(ChargeOutcome.FAILED, ref, _message(exc))
        except stripe.StripeError as exc:
            return ChargeResult(ChargeOutcome.FAILED, None, _message(exc))
        status = str(intent.status)
        if status == "succeeded":
            return ChargeResult(ChargeOutcome.SUCCEEDED, str(intent.id))
        if status in ("processing", "requires_capture"):
            return ChargeResult(ChargeOutcome.PENDING, str(intent.id))
        return ChargeResult(ChargeOutcome.FAILED, str(intent.id), f"payment is {status}")

    async def close(self) -> None:
        close: Callable[[], Awaitable[None]] = self._http.close_async  # untyped in the library
        await close()

    def parse_event(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        if not self._webhook_secret:
            raise InvalidSignature("BIZGRAPH_STRIPE_WEBHOOK_SECRET is not set")
        if len(payload) > MAX_EVENT_BYTES:
            raise ValidationError("the event is too large")
        try:
            body = orjson.loads(payload)  # nesting bounded (1024), unlike json's recursion
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):  # the library assumes an object (found by fuzzing)
            raise ValidationError("the event is not a JSON object")
        try:
            self._client.construct_event(payload, signature, self._webhook_secret)
        except stripe.SignatureVerificationError:
            raise InvalidSignature("the Stripe-Signature header does not verify") from None
        except (ValueError, RecursionError):  # signed, but not an event the library reads
            raise ValidationError("the event is not a Stripe event") from None
        return read_event(body)


def _message(exc: stripe.StripeError) -> str:
    """Stripe's own message (e.g. "Your card was declined."), which never holds the key."""
    text = exc.user_message or type(exc).__name__
    return str(text)[:300]


def _unavailable(doing: str, exc: stripe.StripeError) -> ProcessorUnavailable:
    return ProcessorUnavailable(f"Stripe refused {doing}: {_message(exc)}")


def _failed_intent(exc: stripe.StripeError) -> str | None:
    body = exc.json_body
    error = body.get("error") if isinstance(body, dict) else None
    intent = error.get("payment_intent") if isinstance(error, dict) else None
    found = intent.get("id") if isinstance(intent, dict) else None
    return found if isinstance(found, str) else None
