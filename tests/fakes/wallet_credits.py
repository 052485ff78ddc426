"""A fake of `domain.payments.ports.WalletCredits` (the wallets feature implements the real
one): it keeps each credit once per reference, as the port promises."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.billing.money import Money


@dataclass(frozen=True, slots=True)
class WalletCredit:
    client_id: str
    amount: Money
    reference: str
    source: str
    note: str


@dataclass
class FakeWalletCredits:
    credits: dict[str, WalletCredit] = field(default_factory=dict)  # by reference
    calls: int = 0  # every call, duplicates included

    async def credit_top_up(
        self, client_id: str, amount: Money, *, reference: str, source: str, note: str = ""
    ) -> bool:
        self.calls += 1
        if reference in self.credits:
            return False
        self.credits[reference] = WalletCredit(client_id, amount, reference, source, note)
        return True

    async def refund_top_up(
        self, client_id: str, amount: Money, *, reference: str, note: str = ""
    ) -> bool:
        """Recorded as a negative credit, once per reference (no floor: a fake)."""
        self.calls += 1
        if reference in self.credits:
            return False
        self.credits[reference] = WalletCredit(client_id, -amount, reference, "stripe", note)
        return True

    def balance(self, client_id: str, currency: str) -> Money:
        total = Money.zero(currency)
        for credit in self.credits.values():
            if credit.client_id == client_id:
                total = total + credit.amount
        return total
