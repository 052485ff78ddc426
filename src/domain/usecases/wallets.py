"""Prepaid wallets (docs/wallets.md): a client's billing mode, top-ups (the `WalletCredits`
port: operators, a payment page, auto top-up), adjustments, the statement, and the check that
every balance equals the sum of its entries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from domain.billing.clients import Client
from domain.billing.money import Money, input_decimal
from domain.errors import NotFound, ValidationError
from domain.ids import new_id
from domain.payments.minor_units import chargeable_units
from domain.payments.ports import SavedPaymentMethods, TopUpCheckout, WalletCredits
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.text import check_text
from domain.wallets.alerts import refund_shortfall_alert
from domain.wallets.statement import EntryKind, StatementPage, WalletEntry
from domain.wallets.wallets import (
    MAX_NOTE,
    MAX_REFERENCE,
    BillingMode,
    PaymentsNotConfigured,
    Wallet,
    WalletBalance,
    WalletIsPostpaid,
    WalletSettings,
)

log = logging.getLogger("bizgraph.wallets")
MAX_PAGE = 200  # statement entries per page
OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class WalletView:
    """A client's wallet as it stands (a client never set up is postpaid with an empty one)."""

    wallet: Wallet
    balance: WalletBalance


class WalletUseCases(WalletCredits):
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        reads: UnitOfWorkFactory | None = None,
        checkout: TopUpCheckout | None = None,
        saved_methods: SavedPaymentMethods | None = None,
    ) -> None:
        """`checkout`, `saved_methods`: the payment processor's ports, None without one."""
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._checkout = checkout
        self._saved = saved_methods

    @property
    def payments_configured(self) -> bool:
        return self._checkout is not None

    async def view(self, client_id: str) -> WalletView:
        async with self._reads() as uow:
            wallet = await _wallet(uow, client_id, self._clock)
            balance, held = await uow.wallets.balance(client_id)
        currency = wallet.currency
        return WalletView(wallet, WalletBalance(Money(balance, currency), Money(held, currency)))

    async def set_mode(self, client_id: str, mode: BillingMode, actor: str) -> WalletView:
        """Switch postpaid <-> prepaid. Gateways pick the change up with the configuration:
        from then on a prepaid client's calls hold on its balance."""
        async with self._uow() as uow:
            wallet = await _wallet(uow, client_id, self._clock)
            await uow.wallets.put(
                Wallet(wallet.client_id, wallet.currency, mode, self._clock.now(), wallet.settings)
            )
            await uow.commit()
        log.info("client %s billing mode set to %s by %s", client_id, mode.value, actor)
        return await self.view(client_id)

    async def set_settings(self, client_id: str, settings: WalletSettings) -> WalletView:
        if settings.auto_top_up and self._saved is None:
            raise PaymentsNotConfigured(
                "payments are not configured: auto top-up needs a payment processor"
            )
        async with self._uow() as uow:
            wallet = await _wallet(uow, client_id, self._clock)
            if settings.auto_top_up and settings.auto_top_up_amount is not None:
                # refused now, named, rather than failing every hour at the processor
                chargeable_units(Money(settings.auto_top_up_amount, wallet.currency))
            await uow.wallets.put(
                Wallet(wallet.client_id, wallet.currency, wallet.mode, self._clock.now(), settings)
            )
            await uow.commit()
        return await self.view(client_id)

    async def credit_top_up(
        self, client_id: str, amount: Money, *, reference: str, source: str, note: str = ""
    ) -> bool:
        """WalletCredits: credit once per reference (False: credited already)."""
        if amount.amount <= 0:
            raise ValidationError("a top-up must be positive")
        async with self._uow() as uow:
            wallet = await _wallet(uow, client_id, self._clock)
            if amount.currency != wallet.currency:
                raise ValidationError(f"this wallet is in {wallet.currency}, not {amount.currency}")
            if await uow.wallets.get(client_id) is None:
                await uow.wallets.put(wallet)  # the wallet's first top-up creates it
            entry = WalletEntry(
                id=new_id(),
                client_id=client_id,
                kind=EntryKind.TOP_UP,
                amount=amount,
                reference=reference,
                occurred_at=self._clock.now(),
                source=source[:40],
                note=note,
            )
            credited = await uow.wallets.post(entry)
            await uow.commit()
        return credited

    async def top_up(
        self, client_id: str, amount: Decimal | str, reference: str | None, note: str, actor: str
    ) -> bool:
        """An operator's top-up (money received some other way: a bank transfer, say)."""
        value = input_decimal(amount, what="the amount")
        ref = _reference(reference) if reference else f"operator:{new_id()}"
        note = _note(note)
        currency = (await self.view(client_id)).wallet.currency
        credited = await self.credit_top_up(
            client_id, Money(value, currency), reference=ref, source=OPERATOR, note=note
        )
        log.info("wallet of %s topped up by %s %s by %s", client_id, value, currency, actor)
        return credited

    async def adjust(
        self, client_id: str, amount: Decimal | str, reason: str, actor: str
    ) -> WalletEntry:
        """An operator's correction: a signed amount with its reason and who posted it (the
        statement keeps both). A negative adjustment may take the balance below zero."""
        value = input_decimal(amount, what="the amount")
        if value == 0:
            raise ValidationError("an adjustment is not zero")
        reason = _note(reason)
        if not reason.strip():
            raise ValidationError("an adjustment needs a reason")
        async with self._uow() as uow:
            wallet = await _wallet(uow, client_id, self._clock)
            if await uow.wallets.get(client_id) is None:
                await uow.wallets.put(wallet)
            entry = WalletEntry(
                id=new_id(),
                client_id=client_id,
                kind=EntryKind.ADJUSTMENT,
                amount=Money(value, wallet.currency),
                reference=f"adjustment:{new_id()}",
                occurred_at=self._clock.now(),
                source=f"{OPERATOR}:{actor}"[:40],
                note=reason,
            )
            await uow.wallets.post(entry)
            await uow.commit()
        log.info("wallet of %s adjusted by %s by %s: %s", client_id, value, actor, reason)
        return entry

    async def refund(
        self, client_id: str, amount: Money, *, reference: str, source: str, note: str = ""
    ) -> bool:
        """Money given back to the client out of the wallet (a processor's refund of a
        top-up, say): once per reference (False: recorded already). The balance may go below
        zero by it, as the money has left."""
        if amount.amount <= 0:
            raise ValidationError("a refund is a positive amount taken out of the wallet")
        async with self._uow() as uow:
            wallet = await _wallet(uow, client_id, self._clock)
            if amount.currency != wallet.currency:
                raise ValidationError(f"this wallet is in {wallet.currency}, not {amount.currency}")
            entry = WalletEntry(
                id=new_id(),
                client_id=client_id,
                kind=EntryKind.REFUND,
                amount=-amount,
                reference=_reference(reference),
                occurred_at=self._clock.now(),
                source=source[:40],
                note=_note(note),
            )
            refunded = await uow.wallets.post(entry)
            await uow.commit()
        return refunded

    async def refund_top_up(
        self, client_id: str, amount: Money, *, reference: str, note: str = ""
    ) -> bool:
        """WalletCredits: a top-up the processor refunded to the client leaves the wallet, once
        per reference (False: recorded already). The wallet is debited what it has left that
        calls in flight do not hold, never more: a refund never takes the balance below zero
        (nor below what those calls will settle). The part it cannot cover (the client spent
        the money, then was refunded) is a `wallet_shortfall` alert for an operator."""
        if amount.amount <= 0:
            raise ValidationError("a refund is a positive amount taken out of the wallet")
        reference = _reference(reference)
        async with self._uow() as uow:
            wallet = await _wallet(uow, client_id, self._clock)
            if amount.currency != wallet.currency:
                raise ValidationError(f"this wallet is in {wallet.currency}, not {amount.currency}")
            balance, held = await uow.wallets.balance(client_id)
            covered = min(amount.amount, max(balance - held, Decimal(0)))
            entry = WalletEntry(
                id=new_id(),
                client_id=client_id,
                kind=EntryKind.REFUND,
                amount=Money(-covered, wallet.currency),
                reference=reference,
                occurred_at=self._clock.now(),
                source="stripe",
                note=_note(note[:MAX_NOTE]),
            )
            posted = await uow.wallets.post(entry)
            if posted and covered < amount.amount:
                client = await _client(uow, client_id)
                uncovered = Money(amount.amount - covered, wallet.currency)
                await uow.alerts.raise_once(
                    refund_shortfall_alert(
                        client_id, client.name, reference, amount, uncovered, self._clock.now()
                    )
                )
            await uow.commit()
        if posted and covered < amount.amount:
            log.warning("wallet of %s could not cover all of refund %s", client_id, reference)
        return posted

    async def statement(self, client_id: str, offset: int = 0, limit: int = 50) -> StatementPage:
        if not 0 <= offset <= 10**9 or not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"a page is 1 to {MAX_PAGE} entries from offset 0 or more")
        async with self._reads() as uow:
            await _client(uow, client_id)
            return await uow.wallets.statement(client_id, offset, limit)

    async def start_top_up(self, client_id: str, amount: Decimal | str) -> str:
        """The URL of a payment page crediting `amount` to the wallet once paid."""
        if self._checkout is None:
            raise PaymentsNotConfigured("payments are not configured")
        value = input_decimal(amount, what="the amount")
        if value <= 0:
            raise ValidationError("a top-up must be positive")
        wallet = (await self.view(client_id)).wallet
        if wallet.mode is not BillingMode.PREPAID:
            # Its calls are invoiced monthly: money paid in would sit unused. An operator may
            # still credit a wallet before switching the client to prepaid (topUpWallet).
            raise WalletIsPostpaid(
                "this client is billed on its monthly invoice (postpaid): a wallet top-up is "
                "for prepaid clients"
            )
        return await self._checkout.start(client_id, Money(value, wallet.currency))

    async def verify(self) -> list[str]:
        """Every wallet's balance equals the sum of its statement (`bizgraph ledger verify`)."""
        async with self._reads() as uow:
            sums = await uow.wallets.sums()
        return [
            f"wallet of client {client_id}: balance {balance} but its entries sum to {summed}"
            for client_id, balance, summed in sums
            if balance != summed
        ]


async def _client(uow: UnitOfWork, client_id: str) -> Client:
    client = await uow.clients.get(client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    return client


async def _wallet(uow: UnitOfWork, client_id: str, clock: Clock) -> Wallet:
    client = await _client(uow, client_id)
    found = await uow.wallets.get(client_id)
    if found is not None:
        return found
    return Wallet(client.id, client.currency, BillingMode.POSTPAID, clock.now())


def _reference(reference: str) -> str:
    check_text(reference, "a reference", max_length=MAX_REFERENCE)
    if not reference.strip():
        raise ValidationError("a reference is not blank")
    return reference.strip()


def _note(note: str) -> str:
    check_text(note, "a note", max_length=MAX_NOTE, multiline=True)
    return note
