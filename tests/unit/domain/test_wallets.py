"""Wallet rules: settings are bounded and consistent, entries carry their sign, a prepaid
wallet is a hard budget of limit 0 on one everlasting counter."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.budgets.limits import WALLET_PERIOD, Budget, BudgetMode, Spend
from domain.errors import DomainError, ValidationError
from domain.wallets.statement import EntryKind, WalletEntry, usage_draw
from domain.wallets.wallets import BillingMode, Wallet, WalletSettings

NOW = datetime(2026, 3, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "values",
    [
        {"low_balance": Decimal(-1)},
        {"low_balance_days": 0},
        {"auto_top_up_below": Decimal(5)},
        {"auto_top_up_below": Decimal(5), "auto_top_up_amount": Decimal(0)},
        {"low_balance": Decimal("0.1234567890123456789")},
    ],
)
def test_bad_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(DomainError):  # ValidationError, or InvalidAmount for the decimals
        WalletSettings(**values)  # type: ignore[arg-type]  # each case is a wrong shape on purpose


@pytest.mark.parametrize(
    ("kind", "amount"),
    [(EntryKind.TOP_UP, "-1"), (EntryKind.TOP_UP, "0"), (EntryKind.USAGE, "1")],
)
def test_entries_carry_their_sign(kind: EntryKind, amount: str) -> None:
    with pytest.raises(ValidationError):
        WalletEntry("e", "c", kind, Money(Decimal(amount)), "ref", NOW)


def test_a_prepaid_wallet_is_a_hard_budget_of_limit_zero_on_one_counter() -> None:
    budget = Wallet("c1", "EUR", BillingMode.PREPAID, NOW).budget()
    assert budget.scope == "wallet:c1"
    assert (budget.mode, budget.hard_limit(), budget.thresholds) == (BudgetMode.HARD, 0, ())
    march = month_period("2026-03", ZoneInfo("UTC"))
    assert budget.counter_period(march) == WALLET_PERIOD
    with pytest.raises(ValidationError):  # a limit of 0 is a wallet's only
        Budget("c1", None, Money(Decimal(0)), BudgetMode.HARD, NOW)


def test_a_usage_draw_names_its_call_once() -> None:
    spend = Spend("wallet:c1", WALLET_PERIOD.start, Decimal("0.25"), "req-9", NOW, "EUR")
    draw = usage_draw(spend)
    assert draw is not None
    assert (draw.kind, draw.amount, draw.reference) == (
        EntryKind.USAGE,
        Money(Decimal("-0.25"), "EUR"),
        "usage:req-9",
    )
    assert usage_draw(Spend("client:c1", WALLET_PERIOD.start, Decimal(1), "r", NOW)) is None
    assert usage_draw(Spend("wallet:c1", WALLET_PERIOD.start, Decimal(0), "r", NOW)) is None
