"""A payment processor's saved payment methods (`SavedPaymentMethods`): answers what the test
scripts, charges once per idempotency reference, and records every charge asked for."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.billing.money import Money
from domain.payments.ports import ChargeOutcome, ChargeResult


@dataclass
class FakeSavedPaymentMethods:
    outcome: ChargeOutcome = ChargeOutcome.SUCCEEDED
    message: str | None = None
    charges: list[tuple[str, Money, str]] = field(default_factory=list)  # client, amount, ref
    _answered: dict[str, ChargeResult] = field(default_factory=dict)

    async def charge(self, client_id: str, amount: Money, reference: str) -> ChargeResult:
        if reference in self._answered:  # the processor's idempotency: one charge per key
            return self._answered[reference]
        self.charges.append((client_id, amount, reference))
        paid = self.outcome in (ChargeOutcome.SUCCEEDED, ChargeOutcome.PENDING)
        result = ChargeResult(
            self.outcome, f"pi_{len(self.charges)}" if paid else None, self.message
        )
        self._answered[reference] = result
        return result


@dataclass
class FakeTopUpCheckout:
    """A hosted payment page: hands out a URL per top-up started and records them."""

    started: list[tuple[str, Money]] = field(default_factory=list)

    async def start(self, client_id: str, amount: Money) -> str:
        self.started.append((client_id, amount))
        return f"https://pay.example/checkout/{len(self.started)}"
