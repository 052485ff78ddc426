"""Prepaid wallets: a client's billing mode, balance, settings and statement, and the
mutations that switch the mode, top up, adjust, change settings and start a payment-page
top-up (docs/wallets.md). A portal token reads its own wallet and may start a top-up."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotAllowedError, NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate
from api.graphql.shared import Money
from domain.errors import NotFound
from domain.usecases.wallets import WalletView
from domain.wallets import statement as entries
from domain.wallets import wallets as domain

strawberry.enum(domain.BillingMode, name="BillingMode")
strawberry.enum(entries.EntryKind, name="WalletEntryKind")
BillingMode: TypeAlias = domain.BillingMode
WalletEntryKind: TypeAlias = entries.EntryKind
WRITE = [CanMutate]
_VN = (ValidationError, NotFoundError)
MAX_PAGE = 200


@strawberry.type(description="A wallet's settings (amounts in the wallet's currency).")
class WalletSettings:
    low_balance: Decimal | None = strawberry.field(description="Alert under this balance.")
    low_balance_days: int | None = strawberry.field(
        description="Alert when the balance covers fewer days of the last week's spend."
    )
    auto_top_up_below: Decimal | None
    auto_top_up_amount: Decimal | None
    overdraw_fixed: bool = strawberry.field(
        description="A wallet short of a period's fixed amounts goes negative by them (true) "
        "or the client is suspended (false)."
    )

    @classmethod
    def of(cls, settings: domain.WalletSettings) -> WalletSettings:
        return cls(
            low_balance=settings.low_balance,
            low_balance_days=settings.low_balance_days,
            auto_top_up_below=settings.auto_top_up_below,
            auto_top_up_amount=settings.auto_top_up_amount,
            overdraw_fixed=settings.overdraw_fixed,
        )


@strawberry.type(description="One movement of a wallet's balance.")
class WalletEntry:
    id: strawberry.ID
    kind: WalletEntryKind
    amount: Money = strawberry.field(description="Signed: credits positive, draws negative.")
    reference: str
    source: str
    note: str
    occurred_at: datetime

    @classmethod
    def of(cls, entry: entries.WalletEntry) -> WalletEntry:
        return cls(
            id=strawberry.ID(entry.id),
            kind=entry.kind,
            amount=Money.of(entry.amount),
            reference=entry.reference,
            source=entry.source,
            note=entry.note,
            occurred_at=entry.occurred_at,
        )


@strawberry.type
class WalletStatement:
    entries: list[WalletEntry] = strawberry.field(description="Newest first.")
    total: int = strawberry.field(description="Entries in the whole statement.")


@strawberry.type(description="A client's billing mode and prepaid wallet.")
class Wallet:
    client_id: strawberry.ID
    mode: BillingMode
    currency: str
    balance: Money = strawberry.field(description="The sum of the statement's entries.")
    held: Money = strawberry.field(description="Held by calls in flight.")
    available: Money = strawberry.field(description="balance - held: what calls may hold.")
    settings: WalletSettings
    payments_configured: bool = strawberry.field(
        description="Whether a payment processor is configured (portal top-ups, auto top-up)."
    )

    @field(description="The statement, newest first, a page at a time.")
    async def statement(self, info: Info, offset: int = 0, limit: int = 50) -> WalletStatement:
        page = await visible(
            info.context.management.wallets.statement(str(self.client_id), offset, limit)
        )
        return WalletStatement(entries=[WalletEntry.of(e) for e in page.entries], total=page.total)

    @classmethod
    def of(cls, view: WalletView, payments_configured: bool) -> Wallet:
        wallet, balance = view.wallet, view.balance
        return cls(
            client_id=strawberry.ID(wallet.client_id),
            mode=wallet.mode,
            currency=wallet.currency,
            balance=Money.of(balance.balance),
            held=Money.of(balance.held),
            available=Money.of(balance.available),
            settings=WalletSettings.of(wallet.settings),
            payments_configured=payments_configured,
        )


def _wallet(info: Info, view: WalletView) -> Wallet:
    return Wallet.of(view, info.context.management.wallets.payments_configured)


@field(
    description="A client's wallet; null for a client this token may not see (a portal "
    "token sees its own client's only) or that does not exist."
)
async def wallet(info: Info, client_id: strawberry.ID) -> Wallet | None:
    try:
        view = await info.context.management.wallets.view(str(client_id))
    except NotFound:
        return None  # as `client(id)`: an unknown id and another client's look the same
    return _wallet(info, view)


@strawberry.type
class WalletSuccess:
    wallet: Wallet


@strawberry.type
class TopUpSuccess:
    wallet: Wallet
    credited: bool = strawberry.field(
        description="False when this reference was credited already (nothing added)."
    )


@strawberry.type
class AdjustWalletSuccess:
    wallet: Wallet
    entry: WalletEntry


@strawberry.type
class StartTopUpSuccess:
    url: str = strawberry.field(description="The payment page; the wallet is credited once paid.")


WalletResult = Annotated[
    WalletSuccess | ValidationError | NotFoundError, strawberry.union("WalletResult")
]
TopUpResult = Annotated[
    TopUpSuccess | ValidationError | NotFoundError, strawberry.union("TopUpWalletResult")
]
AdjustResult = Annotated[
    AdjustWalletSuccess | ValidationError | NotFoundError, strawberry.union("AdjustWalletResult")
]
StartTopUpResult = Annotated[
    StartTopUpSuccess | ValidationError | NotFoundError | NotAllowedError,
    strawberry.union("StartWalletTopUpResult"),
]


@strawberry.input
class WalletSettingsInput:
    low_balance: Decimal | None = None
    low_balance_days: int | None = None
    auto_top_up_below: Decimal | None = strawberry.field(
        default=None, description="Needs a payment processor (code payments_not_configured)."
    )
    auto_top_up_amount: Decimal | None = None
    overdraw_fixed: bool = False


@mutation(
    permissions=WRITE,
    description="Postpaid (the monthly invoice) or prepaid (calls draw down the wallet).",
)
async def set_billing_mode(info: Info, client_id: strawberry.ID, mode: BillingMode) -> WalletResult:
    async def run() -> WalletSuccess:
        view = await info.context.management.wallets.set_mode(str(client_id), mode)
        return WalletSuccess(wallet=_wallet(info, view))

    return await attempt(run, _VN)


@mutation(
    permissions=WRITE,
    description="Credit money received (a bank transfer, say); once per reference.",
)
async def top_up_wallet(
    info: Info,
    client_id: strawberry.ID,
    amount: Decimal,
    reference: str | None = None,
    note: str = "",
) -> TopUpResult:
    async def run() -> TopUpSuccess:
        desk = info.context.management.wallets
        credited = await desk.top_up(str(client_id), amount, reference, note)
        return TopUpSuccess(
            wallet=_wallet(info, await desk.view(str(client_id))), credited=credited
        )

    return await attempt(run, _VN)


@mutation(permissions=WRITE, description="A signed correction with its reason (on the statement).")
async def adjust_wallet(
    info: Info, client_id: strawberry.ID, amount: Decimal, reason: str
) -> AdjustResult:
    async def run() -> AdjustWalletSuccess:
        desk = info.context.management.wallets
        entry = await desk.adjust(str(client_id), amount, reason)
        view = await desk.view(str(client_id))
        return AdjustWalletSuccess(wallet=_wallet(info, view), entry=WalletEntry.of(entry))

    return await attempt(run, _VN)


@mutation(permissions=WRITE)
async def set_wallet_settings(
    info: Info, client_id: strawberry.ID, input: WalletSettingsInput
) -> WalletResult:
    async def run() -> WalletSuccess:
        settings = domain.WalletSettings(
            low_balance=input.low_balance,
            low_balance_days=input.low_balance_days,
            auto_top_up_below=input.auto_top_up_below,
            auto_top_up_amount=input.auto_top_up_amount,
            overdraw_fixed=input.overdraw_fixed,
        )
        view = await info.context.management.wallets.set_settings(str(client_id), settings)
        return WalletSuccess(wallet=_wallet(info, view))

    return await attempt(run, _VN)


@mutation(
    description="A payment page (Stripe Checkout) topping up a prepaid wallet in the wallet's "
    "currency (a portal token: its own; staff who may write name the client); the card is "
    "saved for auto top-up. Codes: payments_not_configured without a payment processor, "
    "wallet_postpaid for a postpaid client."
)
async def start_wallet_top_up(
    info: Info, amount: Decimal, client_id: strawberry.ID | None = None
) -> StartTopUpResult:
    async def run() -> StartTopUpSuccess:
        desk = info.context.management.wallets
        url = await desk.start_top_up(None if client_id is None else str(client_id), amount)
        return StartTopUpSuccess(url=url)

    return await attempt(run, (ValidationError, NotFoundError, NotAllowedError))
