"""Wallets as one principal may use them: staff read every client's wallet, a portal token
only its own client's (another client's is "not found"); switching the mode, top-ups,
adjustments and settings need a role that may write; a portal may start a top-up of its own
wallet through the payment page (the client pays)."""

from __future__ import annotations

from decimal import Decimal

from domain.access.principals import NotAllowed, Principal
from domain.errors import NotFound, ValidationError
from domain.usecases.wallets import WalletUseCases, WalletView
from domain.wallets.statement import StatementPage, WalletEntry
from domain.wallets.wallets import BillingMode, WalletSettings


class WalletDesk:
    def __init__(self, principal: Principal, wallets: WalletUseCases | None) -> None:
        self._principal = principal
        self._wallets = wallets

    def _cases(self) -> WalletUseCases:
        if self._wallets is None:
            raise NotFound("wallets are not available here")
        return self._wallets

    def _visible(self, client_id: str) -> WalletUseCases:
        if not self._principal.may_see_client(client_id):
            raise NotFound(f"no client {client_id}")  # the same answer as an unknown id
        return self._cases()

    def _writer(self, client_id: str) -> WalletUseCases:
        cases = self._visible(client_id)
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not change anything")
        return cases

    @property
    def _actor(self) -> str:
        return self._principal.name

    @property
    def payments_configured(self) -> bool:
        return self._wallets is not None and self._wallets.payments_configured

    async def view(self, client_id: str) -> WalletView:
        return await self._visible(client_id).view(client_id)

    async def statement(self, client_id: str, offset: int, limit: int) -> StatementPage:
        return await self._visible(client_id).statement(client_id, offset, limit)

    async def set_mode(self, client_id: str, mode: BillingMode) -> WalletView:
        return await self._writer(client_id).set_mode(client_id, mode, self._actor)

    async def set_settings(self, client_id: str, settings: WalletSettings) -> WalletView:
        return await self._writer(client_id).set_settings(client_id, settings)

    async def top_up(
        self, client_id: str, amount: Decimal, reference: str | None, note: str
    ) -> bool:
        if amount <= 0:
            raise ValidationError("a top-up must be positive")
        return await self._writer(client_id).top_up(client_id, amount, reference, note, self._actor)

    async def adjust(self, client_id: str, amount: Decimal, reason: str) -> WalletEntry:
        return await self._writer(client_id).adjust(client_id, amount, reason, self._actor)

    async def start_top_up(self, client_id: str | None, amount: Decimal) -> str:
        """A portal token tops up its own wallet; staff who may write, any client's."""
        own = self._principal.client_id
        if own is not None:
            if client_id is not None and client_id != own:
                raise NotFound(f"no client {client_id}")
            return await self._cases().start_top_up(own, amount)
        if client_id is None:
            raise ValidationError("name the client whose wallet to top up")
        return await self._writer(client_id).start_top_up(client_id, amount)
