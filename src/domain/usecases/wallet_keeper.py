"""What runs in the background for prepaid wallets (docs/wallets.md), every minute or so and
off the hot path: each period's fixed amounts drawn once (prorated by the plan timeline),
low-balance alerts, and auto top-ups through the saved payment method (at most one an hour).
Safe to run from several processes at once: draws are idempotent on their reference, alerts
on their dedupe key, auto top-ups claimed per client and hour in the database."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.alerting.alerts import Alert
from domain.billing.clients import ClientStatus
from domain.billing.money import EXACT, Money
from domain.billing.periods import Period, period_containing
from domain.billing.plans import FixedCharge, PlanTimeline
from domain.ids import new_id
from domain.payments.ports import ChargeOutcome, SavedPaymentMethods
from domain.ports import Clock, UnitOfWorkFactory
from domain.usecases.wallets import WalletUseCases
from domain.wallets.alerts import auto_top_up_failed, low_balance_alert, shortfall_alert
from domain.wallets.statement import EntryKind, WalletEntry
from domain.wallets.wallets import InsufficientBalance, Wallet

log = logging.getLogger("bizgraph.wallets")
AUTO_TOP_UP_EVERY = timedelta(hours=1)
SPEND_WINDOW = timedelta(days=7)  # "days of recent spend" averages this window


class WalletKeeper:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        wallets: WalletUseCases,
        zone: ZoneInfo | None = None,
        saved_methods: SavedPaymentMethods | None = None,
        reads: UnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._wallets = wallets
        self._zone = zone or ZoneInfo("UTC")
        self._saved = saved_methods

    async def tend(self) -> None:
        """One round over every prepaid wallet; one wallet's failure does not stop the rest."""
        async with self._reads() as uow:
            prepaid = await uow.wallets.prepaid()
        for wallet in prepaid:
            try:
                await self.tend_one(wallet)
            except Exception:
                log.exception("tending the wallet of client %s failed", wallet.client_id)

    async def tend_one(self, wallet: Wallet) -> None:
        now = self._clock.now()
        await self.draw_fixed(wallet, period_containing(now, self._zone))
        await self._low_balance(wallet, now)
        await self._auto_top_up(wallet, now)

    async def draw_fixed(self, wallet: Wallet, period: Period) -> int:
        """Draw the period's fixed amounts not drawn yet (one entry per plan stretch,
        referenced by client, period and plan version: running twice draws once). A wallet
        that cannot cover one raises an alert and, per its settings, goes negative by that
        amount or has its client suspended (drawn once topped up). How many were drawn."""
        async with self._reads() as uow:
            client = await uow.clients.get(wallet.client_id)
            timeline = PlanTimeline(await uow.plans.history(wallet.client_id))
        if client is None:
            return 0
        drawn = 0
        for charge in timeline.fixed_charges(period):
            if charge.amount.amount == 0:
                continue
            if charge.amount.currency != wallet.currency:
                log.warning(
                    "client %s: fixed amount in %s, wallet in %s: not drawn",
                    wallet.client_id,
                    charge.amount.currency,
                    wallet.currency,
                )
                continue
            drawn += await self._draw(wallet, client.name, period, charge)
        return drawn

    async def _draw(self, wallet: Wallet, owner: str, period: Period, charge: FixedCharge) -> int:
        entry = WalletEntry(
            id=new_id(),
            client_id=wallet.client_id,
            kind=EntryKind.FIXED,
            amount=-charge.amount,
            reference=f"fixed:{wallet.client_id}:{period.label}:{charge.plan_version_id}",
            occurred_at=self._clock.now(),
            source="plan",
            note=f"{charge.kind.value} {period.label}",
        )
        overdraw = wallet.settings.overdraw_fixed
        try:
            async with self._uow() as uow:
                posted = await uow.wallets.post(entry, within_balance=not overdraw)
                balance, _ = await uow.wallets.balance(wallet.client_id)
                if posted and balance < 0:  # overdrawn, by this amount at most
                    await uow.alerts.raise_once(
                        self._shortfall(wallet, owner, period, charge, balance, "overdrawn")
                    )
                await uow.commit()
        except InsufficientBalance:
            await self._suspend(wallet, owner, period, charge)
            return 0
        return 1 if posted else 0

    async def _suspend(
        self, wallet: Wallet, owner: str, period: Period, charge: FixedCharge
    ) -> None:
        async with self._uow() as uow:
            client = await uow.clients.get(wallet.client_id)
            balance, _ = await uow.wallets.balance(wallet.client_id)
            if client is not None and client.is_active:
                await uow.clients.update(client.with_status(ClientStatus.SUSPENDED))
            await uow.alerts.raise_once(
                self._shortfall(wallet, owner, period, charge, balance, "suspended")
            )
            await uow.commit()
        log.warning("client %s suspended: its wallet cannot cover %s", owner, charge.amount)

    def _shortfall(
        self,
        wallet: Wallet,
        owner: str,
        period: Period,
        charge: FixedCharge,
        balance: Decimal,
        outcome: str,
    ) -> Alert:
        now = self._clock.now()
        held = Money(balance, wallet.currency)
        return shortfall_alert(
            wallet.client_id, owner, period.label, charge.amount, held, outcome, now
        )

    async def _low_balance(self, wallet: Wallet, now: datetime) -> None:
        settings = wallet.settings
        if settings.low_balance is None and settings.low_balance_days is None:
            return
        async with self._uow() as uow:
            client = await uow.clients.get(wallet.client_id)
            balance, _ = await uow.wallets.balance(wallet.client_id)
            level = settings.low_balance or Decimal(0)
            if settings.low_balance_days is not None:
                drawn = await uow.wallets.drawn_since(wallet.client_id, now - SPEND_WINDOW)
                daily = EXACT.divide(drawn, Decimal(SPEND_WINDOW.days))
                level = max(level, EXACT.multiply(daily, Decimal(settings.low_balance_days)))
            if client is None or balance >= level:
                return
            alert = low_balance_alert(
                wallet.client_id, client.name, Money(balance, wallet.currency), level, now
            )
            await uow.alerts.raise_once(alert)
            await uow.commit()

    async def _auto_top_up(self, wallet: Wallet, now: datetime) -> None:
        settings = wallet.settings
        below, amount = settings.auto_top_up_below, settings.auto_top_up_amount
        if self._saved is None or below is None or amount is None:
            return
        async with self._uow() as uow:
            client = await uow.clients.get(wallet.client_id)
            balance, _ = await uow.wallets.balance(wallet.client_id)
            if client is None or balance >= below:
                return
            claimed = await uow.wallets.claim_auto_top_up(
                wallet.client_id, now, now - AUTO_TOP_UP_EVERY
            )
            await uow.commit()
        if not claimed:
            return
        money = Money(amount, wallet.currency)
        reference = f"auto_top_up:{wallet.client_id}:{now:%Y-%m-%dT%H:%M}"
        try:
            result = await self._saved.charge(wallet.client_id, money, reference)
        except Exception as exc:
            log.exception("auto top-up of client %s failed", wallet.client_id)
            await self._failed(wallet, client.name, money, f"the processor failed: {exc}", now)
            return
        if result.outcome is ChargeOutcome.SUCCEEDED:
            await self._wallets.credit_top_up(
                wallet.client_id,
                money,
                reference=result.reference or reference,
                source="auto_top_up",
                note=f"under {below}",
            )
        elif result.outcome is not ChargeOutcome.PENDING:  # PENDING: the processor's event credits
            reason = result.message or result.outcome.value.replace("_", " ")
            await self._failed(wallet, client.name, money, reason, now)

    async def _failed(
        self, wallet: Wallet, owner: str, amount: Money, reason: str, now: datetime
    ) -> None:
        async with self._uow() as uow:
            await uow.alerts.raise_once(
                auto_top_up_failed(wallet.client_id, owner, amount, reason, now)
            )
            await uow.commit()
