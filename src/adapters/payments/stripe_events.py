"""Stripe's webhook events (already verified) read into `ProcessorEvent`s: the event types
Bizgraph acts on, amounts in exact Money from integer minor units, the metadata Bizgraph put
on the payments it started. Anything malformed is a ValidationError."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from domain.billing.money import Money
from domain.errors import InvalidAmount, ValidationError
from domain.payments.minor_units import from_minor_units
from domain.payments.processor import EventKind, ProcessorEvent
from domain.payments.received import Purpose

_KINDS = {kind.value: kind for kind in EventKind if kind is not EventKind.OTHER}
MAX_TEXT = 500
# Stripe's ids are about 30 characters; 128 keeps every reference built from them within
# the ledger's (200: "<invoice id>:<PaymentIntent id>", "refund:<charge>:<total>").
MAX_REF = 128


def read_event(body: Mapping[str, Any]) -> ProcessorEvent:
    event_id = _text(body.get("id"))
    event_type = _text(body.get("type"))
    if not event_id or not event_type:
        raise ValidationError("a Stripe event needs an id and a type")
    if len(event_id) > MAX_REF:
        raise ValidationError(f"a Stripe event id is at most {MAX_REF} characters")
    created = body.get("created")
    at = datetime.now(UTC)
    if isinstance(created, int) and not isinstance(created, bool) and 0 < created < 2**37:
        at = datetime.fromtimestamp(created, UTC)
    kind = _KINDS.get(event_type, EventKind.OTHER)
    data = body.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if kind is EventKind.OTHER or not isinstance(obj, Mapping):
        return ProcessorEvent(event_id, EventKind.OTHER, event_type, at)
    try:
        match kind:
            case EventKind.CHECKOUT_COMPLETED:
                return _checkout(event_id, event_type, at, obj)
            case EventKind.PAYMENT_SUCCEEDED | EventKind.PAYMENT_FAILED:
                return _payment_intent(event_id, kind, event_type, at, obj)
            case EventKind.CHARGE_REFUNDED:
                return _refund(event_id, event_type, at, obj)
            case _:
                return _dispute(event_id, event_type, at, obj)
    except InvalidAmount as exc:
        raise ValidationError(f"Stripe event {event_id}: {exc}") from exc


def _checkout(
    event_id: str, event_type: str, at: datetime, obj: Mapping[str, Any]
) -> ProcessorEvent:
    meta = _metadata(obj)
    return ProcessorEvent(
        event_id,
        EventKind.CHECKOUT_COMPLETED,
        event_type,
        at,
        payment_ref=_ref(obj.get("payment_intent")),
        customer_ref=_ref(obj.get("customer")),
        purpose=_purpose(meta),
        client_id=meta.get("client_id") or _text(obj.get("client_reference_id")) or None,
        invoice_id=meta.get("invoice_id"),
        amount=_money(obj.get("amount_total"), obj.get("currency")),
        paid=obj.get("payment_status") == "paid",
    )


def _payment_intent(
    event_id: str, kind: EventKind, event_type: str, at: datetime, obj: Mapping[str, Any]
) -> ProcessorEvent:
    meta = _metadata(obj)
    failure = obj.get("last_payment_error")
    message = _text(failure.get("message")) if isinstance(failure, Mapping) else ""
    amount = obj.get("amount_received") if kind is EventKind.PAYMENT_SUCCEEDED else None
    return ProcessorEvent(
        event_id,
        kind,
        event_type,
        at,
        payment_ref=_ref(obj.get("id")),
        charge_ref=_ref(obj.get("latest_charge")),
        customer_ref=_ref(obj.get("customer")),
        purpose=_purpose(meta),
        client_id=meta.get("client_id"),
        invoice_id=meta.get("invoice_id"),
        amount=_money(amount if amount is not None else obj.get("amount"), obj.get("currency")),
        paid=kind is EventKind.PAYMENT_SUCCEEDED,
        message=message,
    )


def _refund(event_id: str, event_type: str, at: datetime, obj: Mapping[str, Any]) -> ProcessorEvent:
    meta = _metadata(obj)
    return ProcessorEvent(
        event_id,
        EventKind.CHARGE_REFUNDED,
        event_type,
        at,
        payment_ref=_ref(obj.get("payment_intent")),
        charge_ref=_ref(obj.get("id")),
        customer_ref=_ref(obj.get("customer")),
        client_id=meta.get("client_id"),
        invoice_id=meta.get("invoice_id"),
        amount=_money(obj.get("amount_refunded"), obj.get("currency")),  # the total so far
    )


def _dispute(
    event_id: str, event_type: str, at: datetime, obj: Mapping[str, Any]
) -> ProcessorEvent:
    return ProcessorEvent(
        event_id,
        EventKind.DISPUTE_CREATED,
        event_type,
        at,
        payment_ref=_ref(obj.get("payment_intent")),
        charge_ref=_ref(obj.get("charge")),
        amount=_money(obj.get("amount"), obj.get("currency")),
        dispute_ref=_ref(obj.get("id")),
        message=_text(obj.get("reason")),
    )


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        return {}
    return {str(k)[:40]: _text(v) for k, v in meta.items() if isinstance(v, str)}


def _purpose(meta: Mapping[str, str]) -> Purpose | None:
    try:
        return Purpose(meta.get("kind", ""))
    except ValueError:
        return None


def _money(units: object, currency: object) -> Money | None:
    if not isinstance(units, int) or isinstance(units, bool) or not isinstance(currency, str):
        return None
    return from_minor_units(units, currency)


def _ref(value: object) -> str | None:
    """An id, or the id of an expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    text = _text(value)
    if len(text) > MAX_REF:
        raise ValidationError(f"a Stripe id is at most {MAX_REF} characters")
    return text or None


def _text(value: object) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""
