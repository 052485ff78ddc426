"""Budget alerts name whose budget it is: the client, or one of its keys."""

from __future__ import annotations

from domain.alerting.budget_alerts import owner_of


def test_a_client_budget_is_named_by_the_client() -> None:
    assert owner_of("Acme", None) == "Acme"


def test_a_key_budget_is_named_by_the_key_and_its_client() -> None:
    assert owner_of("Acme", "laptop") == "key 'laptop' of Acme"
