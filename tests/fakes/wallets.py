"""Wallets, their statements and balances (`WalletRepository`); the balance lives on the fake
budget counters, as on the SQL side."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from domain.billing.money import exact_sum
from domain.budgets.limits import WALLET_PERIOD, Budget, wallet_scope
from domain.wallets.statement import EntryKind, StatementPage, WalletEntry
from domain.wallets.wallets import InsufficientBalance, Wallet
from tests.fakes.store import Repository


class FakeWalletRepository(Repository):
    async def get(self, client_id: str) -> Wallet | None:
        return self._data.wallets.get(client_id)

    async def put(self, wallet: Wallet) -> None:
        self._require("client", wallet.client_id in self._data.clients, wallet.client_id)
        self._data.wallets[wallet.client_id] = wallet

    async def budgets(self) -> Sequence[Budget]:
        return [w.budget() for w in self._data.wallets.values() if w.prepaid]

    async def post(self, entry: WalletEntry, *, within_balance: bool = False) -> bool:
        if any(e.reference == entry.reference for e in self._data.wallet_entries):
            return False
        key = (wallet_scope(entry.client_id), WALLET_PERIOD.start)
        spent, reserved = self._data.counters.get(key, (Decimal(0), Decimal(0)))
        if within_balance and spent + reserved - entry.amount.amount > 0:
            raise InsufficientBalance(f"the balance cannot cover {-entry.amount.amount}")
        self._data.wallet_entries.append(entry)
        self._data.counters[key] = (exact_sum(spent, entry.amount.amount.copy_negate()), reserved)
        return True

    async def prepaid(self) -> Sequence[Wallet]:
        return [w for _, w in sorted(self._data.wallets.items()) if w.prepaid]

    async def drawn_since(self, client_id: str, since: datetime) -> Decimal:
        return -exact_sum(
            *(
                e.amount.amount
                for e in self._data.wallet_entries
                if e.client_id == client_id and e.kind is EntryKind.USAGE and e.occurred_at >= since
            )
        )

    async def claim_auto_top_up(self, client_id: str, now: datetime, after: datetime) -> bool:
        last = self._data.auto_top_ups.get(client_id)
        if last is not None and last > after:
            return False
        self._data.auto_top_ups[client_id] = now
        return True

    async def balance(self, client_id: str) -> tuple[Decimal, Decimal]:
        key = (wallet_scope(client_id), WALLET_PERIOD.start)
        spent, reserved = self._data.counters.get(key, (Decimal(0), Decimal(0)))
        return Decimal(0) - spent, reserved

    async def statement(self, client_id: str, offset: int, limit: int) -> StatementPage:
        mine = [e for e in self._data.wallet_entries if e.client_id == client_id]
        mine.sort(key=lambda e: (e.occurred_at, e.id), reverse=True)
        return StatementPage(mine[offset : offset + limit], len(mine))

    async def sums(self) -> Sequence[tuple[str, Decimal, Decimal]]:
        clients = {e.client_id for e in self._data.wallet_entries}
        clients |= {
            scope.removeprefix("wallet:")
            for scope, _ in self._data.counters
            if scope.startswith("wallet:")
        }
        found = []
        for client_id in sorted(clients):
            balance, _ = await self.balance(client_id)
            entries = [
                e.amount.amount for e in self._data.wallet_entries if e.client_id == client_id
            ]
            found.append((client_id, balance, exact_sum(*entries)))
        return found

    async def drawn_toward(self, client_id: str, invoice_id: str, period_label: str) -> Decimal:
        # The fakes hold no invoices (InvoicingUnitOfWork has no fake), so nothing closes a
        # period on them; invoicing with wallets is tested on SQLite and PostgreSQL.
        raise NotImplementedError("invoices are not faked")
