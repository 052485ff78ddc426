"""The append-only ledger (`ports.LedgerRepository`)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.billing.money import Money, exact_sum
from domain.invoicing.ledger import LedgerEntry
from tests.fakes.store import Repository


class FakeLedgerRepository(Repository):
    async def append(self, entry: LedgerEntry) -> bool:
        key = (entry.client_id, entry.kind, entry.reference)
        if any((e.client_id, e.kind, e.reference) == key for e in self._data.ledger):
            return False
        self._require("client", entry.client_id in self._data.clients, entry.client_id)
        self._data.ledger.append(entry)
        return True

    async def entries(self, client_id: str) -> Sequence[LedgerEntry]:
        mine = [e for e in self._data.ledger if e.client_id == client_id]
        return sorted(mine, key=lambda e: (e.occurred_at, e.id))

    async def balance(self, client_id: str, currency: str) -> Money:
        amounts = [
            e.amount.amount
            for e in self._data.ledger
            if e.client_id == client_id and e.amount.currency == currency
        ]
        return Money(exact_sum(*amounts), currency)
