"""Ports for wallets: the wallet store, its statement and its balance counter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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

    async def post(self, entry: WalletEntry, *, within_balance: bool = False) -> bool:
        """Append the entry and move the balance by its amount, in this transaction; False
        (nothing written) when an entry with its reference exists already. With
        `within_balance`, a draw must fit what calls in flight leave of the balance
        (`balance - held >= -amount`, as a hold's conditional update), else
        InsufficientBalance (the caller's transaction must not be committed)."""
        ...

    async def prepaid(self) -> Sequence[Wallet]:
        """Every prepaid wallet."""
        ...

    async def drawn_since(self, client_id: str, since: datetime) -> Decimal:
        """What calls drew from the wallet since that instant (a positive amount)."""
        ...

    async def claim_auto_top_up(self, client_id: str, now: datetime, after: datetime) -> bool:
        """Note an auto top-up attempt at `now` unless one was noted after `after` (at most
        one per client and hour, across processes)."""
        ...

    async def balance(self, client_id: str) -> tuple[Decimal, Decimal]:
        """(balance, held by calls in flight) from the wallet's counter."""
        ...

    async def statement(self, client_id: str, offset: int, limit: int) -> StatementPage: ...

    async def drawn_toward(self, client_id: str, invoice_id: str, period_label: str) -> Decimal:
        """What the wallet paid toward an invoice (positive): the usage draws of the calls
        the invoice took, and the period's fixed-amount draws."""
        ...

    async def sums(self) -> Sequence[tuple[str, Decimal, Decimal]]:
        """Per wallet with a counter or an entry: (client id, the counter's balance, the sum
        of its entries); for `ledger verify`."""
        ...
