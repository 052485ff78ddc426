"""Ports for wallets: the wallet store, its statement and its balance counter."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from domain.budgets.limits import Budget
from domain.wallets.statement import StatementPage, WalletEntry
from domain.wallets.wallets import Wallet


class WalletRepository(Protocol):
    async def get(self, client_id: str) -> Wallet | None: ...

    async def put(self, wallet: Wallet) -> None:
        """Insert or replace the wallet (its mode and settings); gateways cache prepaid
        wallets with the configuration, so this bumps its revision."""
        ...

    async def budgets(self) -> Sequence[Budget]:
        """The budget of every prepaid wallet (read once per configuration revision)."""
        ...

    async def post(self, entry: WalletEntry) -> bool:
        """Append the entry and move the balance by its amount, in this transaction; False
        (nothing written) when an entry with its reference exists already."""
        ...

    async def balance(self, client_id: str) -> tuple[Decimal, Decimal]:
        """(balance, held by calls in flight) from the wallet's counter."""
        ...

    async def statement(self, client_id: str, offset: int, limit: int) -> StatementPage: ...

    async def sums(self) -> Sequence[tuple[str, Decimal, Decimal]]:
        """Per wallet with a counter or an entry: (client id, the counter's balance, the sum
        of its entries); for `ledger verify`."""
        ...
