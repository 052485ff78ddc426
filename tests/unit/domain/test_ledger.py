"""The ledger: append-only, idempotent by reference, balance = exact sum of entries."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.billing.clients import Client
from domain.billing.money import Money
from domain.errors import CurrencyMismatch, ValidationError
from domain.invoicing.ledger import EntryKind, LedgerEntry, balance
from tests.fakes import FakeUnitOfWorkFactory, InMemoryStore
from tests.unit.domain.strategies import PROPERTY

T0 = datetime(2026, 3, 1, tzinfo=UTC)
T = TypeVar("T")

# Signed amounts with up to 18 decimals (usage charges, payments and credits are negative).
amounts = st.builds(
    lambda n, places: Decimal(n).scaleb(-places),
    st.integers(min_value=-(10**24), max_value=10**24),
    st.integers(min_value=0, max_value=18),
)


def entry(
    amount: Decimal, reference: str, currency: str = "USD", **overrides: object
) -> LedgerEntry:
    fields: dict[str, object] = {
        "id": f"e-{reference}",
        "client_id": "c1",
        "kind": EntryKind.USAGE_CHARGE,
        "amount": Money(amount, currency),
        "occurred_at": T0,
        "reference": reference,
    }
    fields.update(overrides)
    return LedgerEntry(**fields)  # type: ignore[arg-type]


class TestBalance:
    def test_empty_ledger(self) -> None:
        assert balance([], "EUR") == Money.zero("EUR")

    def test_corrections_are_new_entries(self) -> None:
        entries = [
            entry(Decimal("0.000546"), "u1"),
            entry(Decimal("99.00"), "fee-2026-03", kind=EntryKind.FEE),
            entry(Decimal("-0.000546"), "credit-u1", kind=EntryKind.CREDIT),
        ]
        assert balance(entries, "USD") == Money(Decimal("99.00"))

    def test_mixed_currencies_refused(self) -> None:
        with pytest.raises(CurrencyMismatch):
            balance([entry(Decimal(1), "a"), entry(Decimal(1), "b", "EUR")], "USD")

    def test_naive_instant_refused(self) -> None:
        with pytest.raises(ValidationError):
            entry(Decimal(1), "a", occurred_at=datetime(2026, 3, 1))

    @PROPERTY
    @given(st.lists(amounts, max_size=30))
    def test_balance_is_the_exact_sum_of_entries(self, values: list[Decimal]) -> None:
        entries = [entry(v, str(i)) for i, v in enumerate(values)]
        total = balance(entries, "USD")
        assert Fraction(total.amount) == sum((Fraction(v) for v in values), Fraction(0))
        assert total.currency == "USD"


class LedgerMachine(RuleBasedStateMachine):
    """Appends through the fake unit of work, committed or not, with duplicate references."""

    def __init__(self) -> None:
        super().__init__()
        clients = {c: Client(id=c, name=c, created_at=T0) for c in ("c1", "c2")}
        self.factory = FakeUnitOfWorkFactory(InMemoryStore(clients=clients))
        self.model: dict[tuple[str, EntryKind, str], LedgerEntry] = {}
        self.seen: dict[str, list[LedgerEntry]] = {}
        self.clock = T0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Drive a coroutine of the in-memory fakes, which never wait on anything."""
        try:
            coro.send(None)
        except StopIteration as done:
            return cast(T, done.value)
        coro.close()
        raise AssertionError("the in-memory fakes should never suspend")

    @initialize()
    def start_empty(self) -> None:
        assert self.run(self._balance("c1")) == Money.zero("USD")

    @rule(
        client=st.sampled_from(["c1", "c2"]),
        kind=st.sampled_from(list(EntryKind)),
        reference=st.sampled_from([f"r{i}" for i in range(6)]),
        amount=amounts,
        commit=st.booleans(),
    )
    def append(
        self, client: str, kind: EntryKind, reference: str, amount: Decimal, commit: bool
    ) -> None:
        self.clock += timedelta(seconds=1)
        new = LedgerEntry(
            id=f"{client}-{kind}-{reference}-{self.clock.isoformat()}",
            client_id=client,
            kind=kind,
            amount=Money(amount),
            occurred_at=self.clock,
            reference=reference,
        )
        key = (client, kind, reference)

        async def go() -> bool:
            async with self.factory() as uow:
                appended = await uow.ledger.append(new)
                if commit:
                    await uow.commit()
            return appended

        appended = self.run(go())

        assert appended == (key not in self.model)
        if appended and commit:
            self.model[key] = new

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def append_the_same_entry_again(self, data: st.DataObject) -> None:
        existing = data.draw(st.sampled_from(sorted(self.model.values(), key=lambda e: e.id)))

        async def go() -> bool:
            async with self.factory() as uow:
                appended = await uow.ledger.append(existing)
                await uow.commit()
            return appended

        assert self.run(go()) is False

    async def _balance(self, client: str) -> Money:
        async with self.factory() as uow:
            return await uow.ledger.balance(client, "USD")

    async def _entries(self, client: str) -> list[LedgerEntry]:
        async with self.factory() as uow:
            return list(await uow.ledger.entries(client))

    @invariant()
    def balance_is_the_sum_of_distinct_entries(self) -> None:
        for client in ("c1", "c2"):
            expected = sum(
                (Fraction(e.amount.amount) for e in self.model.values() if e.client_id == client),
                Fraction(0),
            )
            got = self.run(self._balance(client))
            assert Fraction(got.amount) == expected
            stored = self.run(self._entries(client))
            assert balance(stored, "USD") == got

    @invariant()
    def entries_never_change(self) -> None:
        for client in ("c1", "c2"):
            stored = self.run(self._entries(client))
            before = self.seen.get(client, [])
            assert stored[: len(before)] == before
            assert sorted(e.id for e in stored) == sorted(
                e.id for e in self.model.values() if e.client_id == client
            )
            self.seen[client] = stored


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
