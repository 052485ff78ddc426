"""How budget refusals and an unavailable budget store look on /v1 (OpenAI's format)."""

from __future__ import annotations

from api.rest.errors import from_domain
from domain.errors import BudgetExceeded, BudgetUnavailable


def test_a_refusal_is_openai_insufficient_quota() -> None:
    error = from_domain(BudgetExceeded("over budget"))
    assert (error.status, error.type, error.code) == (
        429,
        "insufficient_quota",
        "insufficient_quota",
    )


def test_an_unavailable_budget_store_fails_closed_with_503() -> None:
    error = from_domain(BudgetUnavailable("down"))
    assert (error.status, error.code) == (503, "budget_unavailable")
