"""Stripe events read into the domain's terms: each type Bizgraph acts on, ids of expanded
objects, metadata that is not Bizgraph's, a checkout paid later, and bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.payments.stripe_events import read_event
from domain.billing.money import Money
from domain.errors import ValidationError
from domain.payments.processor import EventKind
from domain.payments.received import Purpose


def event(kind: str, obj: dict[str, object]) -> dict[str, object]:
    return {"id": "evt_1", "type": kind, "created": 1_800_000_000, "data": {"object": obj}}


def test_a_completed_checkout_with_an_expanded_payment_intent() -> None:
    found = read_event(
        event(
            "checkout.session.completed",
            {
                "payment_intent": {"id": "pi_1", "object": "payment_intent"},
                "customer": "cus_1",
                "amount_total": 500,
                "currency": "jpy",
                "payment_status": "paid",
                "metadata": {"kind": "top_up", "client_id": "c1"},
            },
        )
    )
    assert found.kind is EventKind.CHECKOUT_COMPLETED
    assert (found.payment_ref, found.purpose, found.client_id) == ("pi_1", Purpose.TOP_UP, "c1")
    assert found.amount == Money(Decimal(500), "JPY")
    assert found.paid
    assert found.created_at.year == 2027


def test_a_checkout_paid_later_is_not_paid_yet() -> None:
    found = read_event(
        event("checkout.session.completed", {"payment_status": "unpaid", "metadata": {}})
    )
    assert not found.paid
    assert found.purpose is None


def test_metadata_that_is_not_bizgraphs_gives_no_purpose() -> None:
    found = read_event(
        event(
            "payment_intent.succeeded",
            {"id": "pi_2", "amount_received": 1234, "currency": "kwd", "metadata": {"kind": "x"}},
        )
    )
    assert found.purpose is None
    assert found.amount == Money(Decimal("1.234"), "KWD")


def test_refunds_disputes_and_failures() -> None:
    refund = read_event(
        event(
            "charge.refunded",
            {"id": "ch_1", "payment_intent": "pi_1", "amount_refunded": 250, "currency": "usd"},
        )
    )
    assert (refund.charge_ref, refund.amount) == ("ch_1", Money(Decimal("2.50"), "USD"))
    dispute = read_event(
        event(
            "charge.dispute.created",
            {
                "id": "dp_1",
                "charge": "ch_1",
                "amount": 999,
                "currency": "usd",
                "reason": "fraudulent",
            },
        )
    )
    assert (dispute.dispute_ref, dispute.message) == ("dp_1", "fraudulent")
    failed = read_event(
        event(
            "payment_intent.payment_failed",
            {
                "id": "pi_3",
                "amount": 100,
                "currency": "usd",
                "last_payment_error": {"message": "Declined"},
            },
        )
    )
    assert (failed.kind, failed.message, failed.paid) == (
        EventKind.PAYMENT_FAILED,
        "Declined",
        False,
    )


def test_unknown_types_and_bad_bodies() -> None:
    assert read_event(event("customer.created", {"id": "cus_1"})).kind is EventKind.OTHER
    with pytest.raises(ValidationError):
        read_event({"type": "charge.refunded"})  # no id
    with pytest.raises(ValidationError):
        read_event(
            event("charge.refunded", {"id": "ch", "amount_refunded": 10**13, "currency": "usd"})
        )
    weird = read_event(
        event("charge.refunded", {"id": "ch", "amount_refunded": "10", "currency": "usd"})
    )
    assert weird.amount is None
    with pytest.raises(ValidationError):
        read_event({"id": "evt_" + "x" * 300, "type": "charge.refunded"})
    with pytest.raises(ValidationError):
        read_event(event("charge.refunded", {"id": "ch_" + "x" * 300}))
