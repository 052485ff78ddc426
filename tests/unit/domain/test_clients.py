"""Clients: who is billed, in which currency, at which tax rate."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.billing.clients import Client, ClientStatus
from domain.errors import InvalidAmount, ValidationError

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def client(**overrides: object) -> Client:
    fields: dict[str, object] = {"id": "c1", "name": "Acme", "created_at": T0}
    fields.update(overrides)
    return Client(**fields)  # type: ignore[arg-type]


class TestClient:
    def test_defaults(self) -> None:
        c = client()
        assert c.currency == "USD"
        assert c.tax_rate == 0
        assert c.status is ClientStatus.ACTIVE
        assert c.is_active

    @pytest.mark.parametrize("rate", ["0", "20", "100", "19.6", "8.8750", "0.0001", 7])
    def test_tax_rate_accepted(self, rate: str | int) -> None:
        assert client(tax_rate=rate).tax_rate == Decimal(rate)
        assert isinstance(client(tax_rate=rate).tax_rate, Decimal)

    @pytest.mark.parametrize("rate", ["100.0001", "101", "1000"])
    def test_tax_rate_above_100_refused(self, rate: str) -> None:
        with pytest.raises(ValidationError, match="between 0 and 100"):
            client(tax_rate=Decimal(rate))

    def test_negative_tax_rate_refused(self) -> None:
        with pytest.raises(InvalidAmount, match="negative"):
            client(tax_rate=Decimal("-1"))

    def test_tax_rate_with_more_than_four_decimals_refused(self) -> None:
        with pytest.raises(InvalidAmount, match="more than 4 decimals"):
            client(tax_rate=Decimal("20.00001"))

    @pytest.mark.parametrize("rate", [0.2, True, "NaN"])
    def test_inexact_tax_rate_refused(self, rate: object) -> None:
        with pytest.raises(InvalidAmount):
            client(tax_rate=rate)

    @pytest.mark.parametrize("name", ["", "   ", "\t\n", "x" * 201])
    def test_bad_names_refused(self, name: str) -> None:
        with pytest.raises(ValidationError):
            client(name=name)

    def test_name_of_200_characters_accepted(self) -> None:
        assert client(name="x" * 200).name == "x" * 200

    @pytest.mark.parametrize("email", ["", "billing.acme.com", "nobody"])
    def test_bad_emails_refused(self, email: str) -> None:
        with pytest.raises(ValidationError, match="email"):
            client(billing_email=email)

    def test_email_accepted(self) -> None:
        assert client(billing_email="billing@acme.com").billing_email == "billing@acme.com"

    @pytest.mark.parametrize("currency", ["usd", "EURO", "E1R"])
    def test_bad_currency_refused(self, currency: str) -> None:
        with pytest.raises(InvalidAmount):
            client(currency=currency)

    def test_naive_creation_refused(self) -> None:
        with pytest.raises(ValidationError):
            client(created_at=datetime(2026, 3, 1))

    def test_with_status_returns_a_new_client(self) -> None:
        active = client()
        suspended = active.with_status(ClientStatus.SUSPENDED)
        assert not suspended.is_active
        assert active.is_active
        assert suspended.with_status(ClientStatus.ACTIVE) == active
