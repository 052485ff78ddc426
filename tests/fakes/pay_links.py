"""A fake of the `PaymentLinks` port (domain/payments/ports.py): a fixed link per invoice, or
none (payments off), or a processor failing."""

from __future__ import annotations


class FakePaymentLinks:
    def __init__(self, base: str | None = "https://pay.example.test/i/", fail: bool = False):
        self._base = base
        self._fail = fail
        self.asked: list[str] = []

    async def link_for(self, invoice_id: str) -> str | None:
        self.asked.append(invoice_id)
        if self._fail:
            raise RuntimeError("the processor is down")
        return None if self._base is None else self._base + invoice_id
