"""A fake of the `PaymentLinks` port (domain/payments/ports.py): a fixed link per invoice, or
none (payments off), or a processor failing, or one that never answers."""

from __future__ import annotations

import asyncio


class FakePaymentLinks:
    def __init__(
        self,
        base: str | None = "https://pay.example.test/i/",
        fail: bool = False,
        hang: bool = False,
    ):
        self._base = base
        self._fail = fail
        self._hang = hang
        self.asked: list[str] = []

    async def link_for(self, invoice_id: str) -> str | None:
        self.asked.append(invoice_id)
        if self._fail:
            raise RuntimeError("the processor is down")
        if self._hang:  # a processor that takes the connection and never answers
            await asyncio.Event().wait()
        return None if self._base is None else self._base + invoice_id
