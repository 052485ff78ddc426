"""Domain objects with valid defaults, so each test states only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from domain.access.keys import ApiKey
from domain.billing.clients import Client
from domain.billing.money import Money
from domain.catalog.models import Model, PriceVersion
from domain.ids import new_id
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.metering.journal import JournalEntry
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource

# Inputs are given in a non-UTC zone on purpose: they must come back as the same instant in UTC.
KOLKATA = timezone(timedelta(hours=5, minutes=30))
T0 = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=KOLKATA)
T0_UTC = datetime(2025, 3, 1, 7, 0, 15, 123456, tzinfo=UTC)


def client(**overrides: Any) -> Client:
    values: dict[str, Any] = {
        "id": new_id(),
        "name": "Acme",
        "created_at": T0,
        "currency": "EUR",
        "billing_email": "billing@acme.test",
        "tax_rate": Decimal("20.1234"),
    }
    return Client(**(values | overrides))


def key(client_id: str, **overrides: Any) -> ApiKey:
    values: dict[str, Any] = {
        "id": new_id(),
        "client_id": client_id,
        "name": "ci",
        "prefix": "bzk_live_AbC123",
        "digest": new_id().replace("-", "") * 2,
        "created_at": T0,
    }
    return ApiKey(**(values | overrides))


def model(model_id: str = "openai/gpt-4o-mini", **overrides: Any) -> Model:
    provider, _, name = model_id.partition("/")
    values: dict[str, Any] = {"id": model_id, "provider": provider, "upstream_name": name}
    return Model(**(values | overrides))


def price(model_id: str = "openai/gpt-4o-mini", **overrides: Any) -> PriceVersion:
    values: dict[str, Any] = {
        "id": new_id(),
        "model_id": model_id,
        "effective_from": T0,
        "input": Decimal("0.15"),
        "output": Decimal("0.6"),
    }
    return PriceVersion(**(values | overrides))


def usage(client_id: str, api_key_id: str, **overrides: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "id": new_id(),
        "request_id": new_id(),
        "attempt": 1,
        "client_id": client_id,
        "api_key_id": api_key_id,
        "model_id": "openai/gpt-4o-mini",
        "provider": "openai",
        "usage": TokenUsage(
            input_tokens=1200,
            output_tokens=340,
            cached_input_tokens=200,
            cache_write_tokens=100,
            reasoning_tokens=40,
        ),
        "cost": Money(Decimal("0.000123456789012"), "USD"),
        "charge": Money(Decimal("0.000148148146814400"), "USD"),
        "price_version_id": new_id(),
        "plan_version_id": new_id(),
        "started_at": T0,
        "latency_ms": 812,
        "status": CallStatus.SUCCEEDED,
        "source": UsageSource.REPORTED,
    }
    return UsageRecord(**(values | overrides))


def entry(
    client_id: str, amount: str | Decimal, currency: str = "USD", **overrides: Any
) -> LedgerEntry:
    values: dict[str, Any] = {
        "id": new_id(),
        "client_id": client_id,
        "kind": EntryKind.USAGE_CHARGE,
        "amount": Money(Decimal(amount), currency),
        "occurred_at": T0,
        "reference": new_id(),
        "description": "usage",
    }
    return LedgerEntry(**(values | overrides))


def journal(**overrides: Any) -> JournalEntry:
    values: dict[str, Any] = {
        "request_id": new_id(),
        "client_id": new_id(),
        "api_key_id": new_id(),
        "model_id": "openai/gpt-4o-mini",
        "started_at": T0,
        "max_output_tokens": 4096,
    }
    return JournalEntry(**(values | overrides))
