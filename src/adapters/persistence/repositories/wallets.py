"""Wallets: the billing mode and settings per client, the statement, and the balance, kept on
the wallet's budget counter (`spent` is minus the balance) so that calls hold on it with the
budgets' conditional update and leases (repositories/budgets.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import RowMapping, and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import (
    bump_config_revision,
    insert_unless_exists,
    upsert,
)
from adapters.persistence.tables.budgets import budget_counters
from adapters.persistence.tables.calls import usage_records
from adapters.persistence.tables.wallets import client_wallets, wallet_entries
from domain.billing.money import EXACT, Money, exact_sum
from domain.budgets.limits import WALLET_PERIOD, Budget, wallet_scope
from domain.wallets.ports import WalletRepository
from domain.wallets.statement import EntryKind, StatementPage, WalletEntry
from domain.wallets.wallets import BillingMode, InsufficientBalance, Wallet, WalletSettings

_COUNTER = budget_counters.c
_ENTRY = wallet_entries.c
_SETTINGS = ("low_balance", "auto_top_up_below", "auto_top_up_amount")


def _settings_json(settings: WalletSettings) -> str:
    values: dict[str, Any] = {
        name: None if getattr(settings, name) is None else str(getattr(settings, name))
        for name in _SETTINGS
    }
    values["low_balance_days"] = settings.low_balance_days
    values["overdraw_fixed"] = settings.overdraw_fixed
    return orjson.dumps(values).decode()


def _settings(text: str) -> WalletSettings:
    values = orjson.loads(text)
    return WalletSettings(
        **{n: None if values.get(n) is None else Decimal(values[n]) for n in _SETTINGS},
        low_balance_days=values.get("low_balance_days"),
        overdraw_fixed=bool(values.get("overdraw_fixed", False)),
    )


def _wallet(row: RowMapping) -> Wallet:
    return Wallet(
        client_id=row["client_id"],
        currency=row["currency"],
        mode=BillingMode(row["mode"]),
        updated_at=row["updated_at"],
        settings=_settings(row["settings"]),
    )


def entry_row(entry: WalletEntry) -> dict[str, Any]:
    """The row of a statement entry (the hot path's writers insert usage draws with it)."""
    return {
        "id": entry.id,
        "client_id": entry.client_id,
        "kind": entry.kind.value,
        "amount": entry.amount.amount,
        "currency": entry.amount.currency,
        "reference": entry.reference,
        "source": entry.source,
        "note": entry.note,
        "occurred_at": entry.occurred_at,
    }


def _entry(row: RowMapping) -> WalletEntry:
    return WalletEntry(
        id=row["id"],
        client_id=row["client_id"],
        kind=EntryKind(row["kind"]),
        amount=Money(row["amount"], row["currency"]),
        reference=row["reference"],
        occurred_at=row["occurred_at"],
        source=row["source"],
        note=row["note"],
    )


class SqlAlchemyWalletRepository(WalletRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    async def get(self, client_id: str) -> Wallet | None:
        row = (
            (
                await self._conn.execute(
                    select(client_wallets).where(client_wallets.c.client_id == client_id)
                )
            )
            .mappings()
            .first()
        )
        return _wallet(row) if row is not None else None

    async def put(self, wallet: Wallet) -> None:
        row = {
            "client_id": wallet.client_id,
            "currency": wallet.currency,
            "mode": wallet.mode.value,
            "settings": _settings_json(wallet.settings),
            "updated_at": wallet.updated_at,
        }
        await upsert(self._conn, client_wallets, row, ["client_id"])
        await bump_config_revision(self._conn)  # gateways cache prepaid wallets as budgets

    async def budgets(self) -> Sequence[Budget]:
        rows = (
            await self._conn.execute(
                select(client_wallets).where(client_wallets.c.mode == BillingMode.PREPAID.value)
            )
        ).mappings()
        return [_wallet(row).budget() for row in rows]

    async def post(self, entry: WalletEntry, *, within_balance: bool = False) -> bool:
        if not await insert_unless_exists(
            self._conn, wallet_entries, entry_row(entry), ["reference"]
        ):
            return False
        await self._move(entry.client_id, entry.amount.amount, within_balance=within_balance)
        return True

    async def prepaid(self) -> Sequence[Wallet]:
        rows = (
            await self._conn.execute(
                select(client_wallets)
                .where(client_wallets.c.mode == BillingMode.PREPAID.value)
                .order_by(client_wallets.c.client_id)
            )
        ).mappings()
        return [_wallet(row) for row in rows]

    async def drawn_since(self, client_id: str, since: datetime) -> Decimal:
        amounts = (
            await self._conn.execute(
                select(_ENTRY.amount).where(
                    _ENTRY.client_id == client_id,
                    _ENTRY.kind == EntryKind.USAGE.value,
                    _ENTRY.occurred_at >= since,
                )
            )
        ).scalars()
        return _negated(exact_sum(*amounts))  # summed in Python: SQLite keeps text amounts

    async def claim_auto_top_up(self, client_id: str, now: datetime, after: datetime) -> bool:
        column = client_wallets.c.auto_top_up_at
        result = await self._conn.execute(
            update(client_wallets)
            .where(
                client_wallets.c.client_id == client_id,
                or_(column.is_(None), column <= after),
            )
            .values(auto_top_up_at=now)
        )
        return bool(result.rowcount == 1)

    async def _move(self, client_id: str, amount: Decimal, *, within_balance: bool) -> None:
        """The balance moves by `amount`: the counter's `spent` by its opposite; with
        `within_balance`, only if `spent + reserved - amount <= 0` (a hold's condition)."""
        where = (_COUNTER.scope == wallet_scope(client_id), _COUNTER.period_start == _START)
        await insert_unless_exists(
            self._conn,
            budget_counters,
            {
                "scope": wallet_scope(client_id),
                "period_start": _START,
                "spent": Decimal(0),
                "reserved": Decimal(0),
            },
            ["scope", "period_start"],
        )
        if self._postgres:  # exact NUMERIC arithmetic under the row lock
            statement = update(budget_counters).where(*where)
            if within_balance:
                statement = statement.where(_COUNTER.spent + _COUNTER.reserved - amount <= 0)
            moved = await self._conn.execute(statement.values(spent=_COUNTER.spent - amount))
            if moved.rowcount != 1:
                raise InsufficientBalance(f"the balance cannot cover {amount.copy_negate()}")
            return
        # SQLite: text amounts, summed in Python inside the write transaction (BEGIN IMMEDIATE)
        row = (
            await self._conn.execute(select(_COUNTER.spent, _COUNTER.reserved).where(*where))
        ).one()
        spent = row[0]
        if within_balance and exact_sum(spent, row[1], amount.copy_negate()) > 0:
            raise InsufficientBalance(f"the balance cannot cover {amount.copy_negate()}")
        await self._conn.execute(
            update(budget_counters)
            .where(*where)
            .values(spent=exact_sum(spent, amount.copy_negate()))
        )

    async def balance(self, client_id: str) -> tuple[Decimal, Decimal]:
        row = (
            await self._conn.execute(
                select(_COUNTER.spent, _COUNTER.reserved).where(
                    _COUNTER.scope == wallet_scope(client_id), _COUNTER.period_start == _START
                )
            )
        ).first()
        if row is None:
            return Decimal(0), Decimal(0)
        return _negated(Decimal(row[0])), Decimal(row[1])

    async def statement(self, client_id: str, offset: int, limit: int) -> StatementPage:
        rows = (
            await self._conn.execute(
                select(wallet_entries)
                .where(_ENTRY.client_id == client_id)
                .order_by(_ENTRY.occurred_at.desc(), _ENTRY.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).mappings()
        entries = [_entry(row) for row in rows]
        total = (
            await self._conn.execute(
                select(func.count())
                .select_from(wallet_entries)
                .where(_ENTRY.client_id == client_id)
            )
        ).scalar_one()
        return StatementPage(entries, int(total))

    async def drawn_toward(self, client_id: str, invoice_id: str, period_label: str) -> Decimal:
        calls = (
            select(literal("usage:") + usage_records.c.request_id)
            .where(usage_records.c.invoice_id == invoice_id)
            .scalar_subquery()
        )
        amounts = (
            await self._conn.execute(
                select(_ENTRY.amount).where(
                    _ENTRY.client_id == client_id,
                    or_(
                        and_(_ENTRY.kind == EntryKind.USAGE.value, _ENTRY.reference.in_(calls)),
                        and_(
                            _ENTRY.kind == EntryKind.FIXED.value,
                            _ENTRY.reference.startswith(f"fixed:{client_id}:{period_label}:"),
                        ),
                    ),
                )
            )
        ).scalars()
        return _negated(exact_sum(*amounts))  # summed in Python: SQLite keeps text amounts

    async def sums(self) -> Sequence[tuple[str, Decimal, Decimal]]:
        counters = (
            await self._conn.execute(
                select(_COUNTER.scope, _COUNTER.spent).where(
                    _COUNTER.scope.startswith("wallet:"), _COUNTER.period_start == _START
                )
            )
        ).all()
        balances = {scope.removeprefix("wallet:"): Decimal(spent) for scope, spent in counters}
        summed: dict[str, Decimal] = {}
        rows = await self._conn.execute(select(_ENTRY.client_id, _ENTRY.amount))
        for client_id, amount in rows:  # summed in Python: exact on SQLite's text amounts too
            summed[client_id] = exact_sum(summed.get(client_id, Decimal(0)), amount)
        return [
            (
                client_id,
                _negated(balances.get(client_id, Decimal(0))),
                summed.get(client_id, Decimal(0)),
            )
            for client_id in sorted(balances.keys() | summed.keys())
        ]


_START = WALLET_PERIOD.start


def _negated(spent: Decimal) -> Decimal:
    return EXACT.subtract(Decimal(0), spent)  # 0, not -0, for an empty wallet
