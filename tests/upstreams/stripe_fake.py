"""A strict fake of the parts of Stripe's API Bizgraph uses, served for real over loopback.

What it checks, as Stripe does: a secret key in `Authorization: Bearer sk_...` (401
otherwise), form-encoded bodies with Stripe's bracket notation (`metadata[kind]=top_up`,
`line_items[0][price_data][unit_amount]=1234`), unknown parameters refused with 400
`parameter_unknown`, integer amounts, lower-case currencies, an existing customer, and the
Idempotency-Key (the same key with the same body replays the first answer with
`Idempotent-Replayed: true`; with another body it is a 400 `idempotency_error`). Errors have
Stripe's JSON shape: `{"error": {"type", "code", "message", "param"}}`.

Endpoints: POST /v1/customers, POST /v1/checkout/sessions, GET /v1/customers/{id}/
payment_methods, POST /v1/payment_intents (off-session, confirmed at once).

The test side (`StripeFake` methods, called from the test thread) plays the client and Stripe:
`pay_checkout` pays a session (optionally another amount, to test partial and over-payments),
`succeeded_event` (of an off-session charge), `refund`, `dispute`, `decline_next_charge`; each
returns the events Stripe would send, which
`signed` signs (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`) and
`deliver` POSTs to a webhook URL as Stripe does.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

JSON = dict[str, Any]

CUSTOMER_PARAMS = frozenset({"name", "email", "metadata", "description"})
SESSION_PARAMS = frozenset(
    {
        "mode", "customer", "client_reference_id", "line_items", "metadata",
        "payment_intent_data", "success_url", "cancel_url", "expires_at",
    }
)  # fmt: skip
INTENT_DATA_PARAMS = frozenset({"metadata", "setup_future_usage", "description"})
PAYMENT_INTENT_PARAMS = frozenset(
    {"amount", "currency", "customer", "payment_method", "off_session", "confirm", "metadata"}
)
LIST_PARAMS = frozenset({"limit", "type", "starting_after", "ending_before"})
SESSION_SECONDS = 24 * 3600
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class StripeFailure(Exception):
    def __init__(self, status: int, type_: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"error": {"type": type_, "message": message, **extra}}


def decode_form(pairs: Iterable[tuple[str, str]]) -> JSON:
    """Stripe's bracket notation into nested dicts; `[0]`, `[1]` ... keys become lists."""
    root: JSON = {}
    for name, value in pairs:
        match = _KEY.match(name)
        if match is None:
            raise StripeFailure(400, "invalid_request_error", f"Invalid parameter name: {name}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise StripeFailure(400, "invalid_request_error", f"Invalid hash: {name}")
            node = child
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        indexes = sorted(converted, key=int)
        if [int(i) for i in indexes] != list(range(len(indexes))):
            raise StripeFailure(400, "invalid_request_error", "Invalid array")
        return [converted[i] for i in indexes]
    return converted


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends with `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class Recorded:
    method: str
    path: str
    params: JSON
    idempotency_key: str | None


@dataclass
class StripeFake:
    """State of the fake account. Serve `fake.app`; call the test-side methods between
    requests (a lock guards the state: uvicorn serves it on another thread)."""

    secret_key: str = "sk_test_bizgraph"
    webhook_secret: str = "whsec_test_bizgraph"
    now: Callable[[], float] = time.time
    customers: dict[str, JSON] = field(default_factory=dict)
    sessions: dict[str, JSON] = field(default_factory=dict)
    intents: dict[str, JSON] = field(default_factory=dict)
    charges: dict[str, JSON] = field(default_factory=dict)
    payment_methods: dict[str, list[JSON]] = field(default_factory=dict)  # by customer
    requests: list[Recorded] = field(default_factory=list)
    decline_next: str | None = None  # the decline code of the next off-session charge
    declined: list[JSON] = field(default_factory=list)  # payment_failed events of declines
    _idempotent: dict[str, tuple[str, JSON, int, JSON]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---------------------------------------------------------------------------- serving

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/customers", self._endpoint(self._create_customer), methods=["POST"]),
                Route(
                    "/v1/checkout/sessions",
                    self._endpoint(self._create_session),
                    methods=["POST"],
                ),
                Route(
                    "/v1/customers/{customer}/payment_methods",
                    self._endpoint(self._list_methods),
                    methods=["GET"],
                ),
                Route("/v1/payment_intents", self._endpoint(self._create_intent), methods=["POST"]),
            ]
        )

    def _endpoint(self, handler: Callable[[JSON, Request], JSON]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            try:
                params = await self._params(request)
                key = request.headers.get("idempotency-key")
                with self._lock:
                    self.requests.append(Recorded(request.method, request.url.path, params, key))
                    status, body, replayed = self._once(key, request, params, handler)
            except StripeFailure as failure:
                return JSONResponse(failure.body, status_code=failure.status)
            headers = {"Request-Id": f"req_{self._next()}"}
            if replayed:
                headers["Idempotent-Replayed"] = "true"
            return JSONResponse(body, status_code=status, headers=headers)

        return endpoint

    async def _params(self, request: Request) -> JSON:
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.secret_key}":
            raise StripeFailure(401, "invalid_request_error", "Invalid API Key provided: sk_****")
        if request.method == "GET":
            return decode_form(request.query_params.multi_items())
        kind = request.headers.get("content-type", "")
        if not kind.startswith("application/x-www-form-urlencoded"):
            raise StripeFailure(400, "invalid_request_error", "Invalid request: form body only")
        body = (await request.body()).decode()
        return decode_form(parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body)))

    def _once(
        self, key: str | None, request: Request, params: JSON, handler: Callable[..., JSON]
    ) -> tuple[int, JSON, bool]:
        fingerprint = f"{request.method} {request.url.path}"
        if key is not None and request.method == "POST":
            seen = self._idempotent.get(key)
            if seen is not None:
                if (seen[0], seen[1]) != (fingerprint, params):
                    raise StripeFailure(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    )
                return seen[2], seen[3], True
        try:
            status, body = 200, handler(params, request)
        except StripeFailure as failure:
            if failure.status >= 500 or key is None:
                raise
            status, body = failure.status, failure.body  # Stripe replays errors too
        if key is not None and request.method == "POST":
            self._idempotent[key] = (fingerprint, params, status, body)
        return status, body, False

    def _next(self) -> str:
        return f"{next(self._ids):06d}{int(self.now())}"

    # -------------------------------------------------------------------------- endpoints

    def _create_customer(self, params: JSON, _: Request) -> JSON:
        _known(params, CUSTOMER_PARAMS)
        customer = {
            "id": f"cus_{self._next()}",
            "object": "customer",
            "created": int(self.now()),
            "name": params.get("name"),
            "email": params.get("email"),
            "metadata": _metadata(params.get("metadata")),
            "livemode": False,
        }
        self.customers[customer["id"]] = customer
        return customer

    def _create_session(self, params: JSON, _: Request) -> JSON:
        _known(params, SESSION_PARAMS)
        if params.get("mode") != "payment":
            raise StripeFailure(400, "invalid_request_error", "Only mode=payment", param="mode")
        for url in ("success_url", "cancel_url"):
            if not str(params.get(url, "")).startswith(("http://", "https://")):
                raise StripeFailure(400, "invalid_request_error", f"Invalid URL: {url}", param=url)
        customer = params.get("customer")
        if customer is not None and customer not in self.customers:
            raise StripeFailure(
                400, "invalid_request_error", f"No such customer: '{customer}'",
                code="resource_missing", param="customer",
            )  # fmt: skip
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeFailure(400, "invalid_request_error", "line_items is required")
        total, currency = 0, None
        for item in items:
            data = item.get("price_data", {})
            _known(item, frozenset({"quantity", "price_data"}))
            _known(data, frozenset({"currency", "unit_amount", "product_data"}))
            unit = _integer(data.get("unit_amount"), "unit_amount")
            quantity = _integer(item.get("quantity"), "quantity")
            code = data.get("currency", "")
            if not re.fullmatch(r"[a-z]{3}", code):
                raise StripeFailure(
                    400, "invalid_request_error", "Invalid currency", param="currency"
                )
            if unit < 1 or quantity < 1:
                raise StripeFailure(400, "invalid_request_error", "Amounts must be positive")
            _check_step(unit, code)
            total += unit * quantity
            currency = code
        intent_data = params.get("payment_intent_data", {})
        _known(intent_data, INTENT_DATA_PARAMS)
        session_id = f"cs_test_{self._next()}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "customer": customer,
            "client_reference_id": params.get("client_reference_id"),
            "amount_total": total,
            "currency": currency,
            "metadata": _metadata(params.get("metadata")),
            "payment_intent": None,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "expires_at": int(self.now()) + SESSION_SECONDS,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "livemode": False,
            "_intent_data": intent_data,
        }
        self.sessions[session_id] = session
        return _public(session)

    def _list_methods(self, params: JSON, request: Request) -> JSON:
        _known(params, LIST_PARAMS)
        customer = request.path_params["customer"]
        if customer not in self.customers:
            raise StripeFailure(
                404, "invalid_request_error", f"No such customer: '{customer}'",
                code="resource_missing",
            )  # fmt: skip
        data = self.payment_methods.get(customer, [])
        limit = _integer(params.get("limit", "10"), "limit")
        return {
            "object": "list",
            "data": data[:limit],
            "has_more": len(data) > limit,
            "url": request.url.path,
        }

    def _create_intent(self, params: JSON, _: Request) -> JSON:
        _known(params, PAYMENT_INTENT_PARAMS)
        amount = _integer(params.get("amount"), "amount")
        _check_step(amount, str(params.get("currency", "")))
        customer = params.get("customer")
        methods = [m["id"] for m in self.payment_methods.get(str(customer), [])]
        if params.get("payment_method") not in methods:
            raise StripeFailure(
                400, "invalid_request_error", "No such PaymentMethod", code="resource_missing",
                param="payment_method",
            )  # fmt: skip
        if params.get("off_session") != "true" or params.get("confirm") != "true":
            raise StripeFailure(400, "invalid_request_error", "this fake confirms off-session only")
        intent = self._intent(
            amount, params["currency"], customer, _metadata(params.get("metadata"))
        )
        if self.decline_next is not None:
            code, self.decline_next = self.decline_next, None
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "code": "card_declined",
                "decline_code": code,
                "message": "Your card was declined.",
            }
            # Stripe also sends the failure as an event, as it does for any PaymentIntent
            self.declined.append(self.event("payment_intent.payment_failed", _public(intent)))
            raise StripeFailure(
                402, "card_error", "Your card was declined.", code="card_declined",
                decline_code=code, payment_intent=_public(intent),
            )  # fmt: skip
        self._succeed(intent)
        return _public(intent)

    def _intent(self, amount: int, currency: str, customer: Any, metadata: JSON) -> JSON:
        intent = {
            "id": f"pi_{self._next()}",
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "customer": customer,
            "metadata": metadata,
            "status": "requires_payment_method",
            "latest_charge": None,
            "last_payment_error": None,
            "created": int(self.now()),
            "livemode": False,
        }
        self.intents[intent["id"]] = intent
        return intent

    def _succeed(self, intent: JSON) -> JSON:
        charge = {
            "id": f"ch_{self._next()}",
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "payment_intent": intent["id"],
            "paid": True,
            "refunded": False,
            "metadata": {},
            "livemode": False,
        }
        self.charges[charge["id"]] = charge
        intent.update(
            status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"]
        )
        return charge

    # ------------------------------------------------------------------------- test side

    def pay_checkout(self, session_id: str, *, amount: int | None = None) -> list[JSON]:
        """The client pays the session (`amount` other than its total: a mismatch to test);
        the payment method is saved when the session asked for it. Returns the events."""
        with self._lock:
            session = self.sessions[session_id]
            paid = session["amount_total"] if amount is None else amount
            data = session["_intent_data"]
            intent = self._intent(
                paid, session["currency"], session["customer"], _metadata(data.get("metadata"))
            )
            self._succeed(intent)
            if data.get("setup_future_usage") == "off_session" and session["customer"]:
                method = {"id": f"pm_{self._next()}", "object": "payment_method", "type": "card"}
                self.payment_methods.setdefault(session["customer"], []).append(method)
            session.update(
                status="complete", payment_status="paid", payment_intent=intent["id"],
                amount_total=paid,
            )  # fmt: skip
            return [
                self.event("checkout.session.completed", _public(session)),
                self.event("payment_intent.succeeded", _public(intent)),
            ]

    def succeeded_event(self, payment_intent: str) -> JSON:
        """The payment_intent.succeeded event of an intent that succeeded (an off-session
        charge confirmed at once: Stripe sends the event as well)."""
        with self._lock:
            intent = self.intents[payment_intent]
            if intent["status"] != "succeeded":
                raise ValueError(f"{payment_intent} did not succeed")
            return self.event("payment_intent.succeeded", _public(intent))

    def fail_payment(self, session_id: str, message: str = "Your card was declined.") -> JSON:
        with self._lock:
            session = self.sessions[session_id]
            data = session["_intent_data"]
            intent = self._intent(
                session["amount_total"], session["currency"], session["customer"],
                _metadata(data.get("metadata")),
            )  # fmt: skip
            intent["last_payment_error"] = {"code": "card_declined", "message": message}
            return self.event("payment_intent.payment_failed", _public(intent))

    def refund(self, payment_intent: str, amount: int | None = None) -> JSON:
        with self._lock:
            charge = self.charges[self.intents[payment_intent]["latest_charge"]]
            left = charge["amount"] - charge["amount_refunded"]
            value = left if amount is None else amount
            if not 0 < value <= left:
                raise ValueError("refund more than what is left")
            charge["amount_refunded"] += value
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            return self.event("charge.refunded", dict(charge))

    def dispute(self, payment_intent: str, reason: str = "fraudulent") -> JSON:
        with self._lock:
            charge = self.charges[self.intents[payment_intent]["latest_charge"]]
            dispute = {
                "id": f"dp_{self._next()}",
                "object": "dispute",
                "amount": charge["amount"],
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": payment_intent,
                "reason": reason,
                "status": "needs_response",
            }
            return self.event("charge.dispute.created", dispute)

    def event(self, event_type: str, obj: JSON) -> JSON:
        return {
            "id": f"evt_{self._next()}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(self.now()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }

    def signed(self, event: Mapping[str, Any], *, secret: str | None = None) -> tuple[bytes, str]:
        payload = json.dumps(event, indent=2).encode()  # Stripe pretty-prints its events
        return payload, sign(payload, secret or self.webhook_secret)

    def deliver(
        self, url: str, event: Mapping[str, Any], *, secret: str | None = None
    ) -> httpx.Response:
        payload, header = self.signed(event, secret=secret)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return httpx.post(url, content=payload, headers=headers, timeout=10)


def _known(params: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeFailure(
                400, "invalid_request_error", f"Received unknown parameter: {name}",
                code="parameter_unknown", param=name,
            )  # fmt: skip


# docs.stripe.com/currencies, "special cases": three-decimal currencies in steps of ten minor
# units, ISK (two-decimal in the API) in whole krónur only.
_STEPS = {"bhd": 10, "jod": 10, "kwd": 10, "omr": 10, "tnd": 10, "isk": 100}


def _check_step(amount: int, currency: str) -> None:
    step = _STEPS.get(currency, 1)
    if amount % step:
        raise StripeFailure(
            400,
            "invalid_request_error",
            f"Invalid amount: {currency.upper()} amounts must be evenly divisible by {step}",
            code="invalid_charge_amount_no_decimal_compatible",
            param="amount",
        )


def _integer(value: Any, name: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeFailure(400, "invalid_request_error", f"Invalid integer: {value}", param=name)
    return int(value)


def _metadata(value: Any) -> JSON:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or len(value) > 50:
        raise StripeFailure(400, "invalid_request_error", "Invalid metadata", param="metadata")
    for key, text in value.items():
        if len(key) > 40 or not isinstance(text, str) or len(text) > 500:
            raise StripeFailure(400, "invalid_request_error", "Invalid metadata", param="metadata")
    return dict(value)


def _public(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if not k.startswith("_")}
