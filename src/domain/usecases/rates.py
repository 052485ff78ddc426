"""Exchange rates as operators keep them (docs/currencies.md): set, list, remove, import the
ECB's reference file, and a client's billing currency changed while nothing is billed yet.
Every change bumps the configuration revision, so cached snapshots read the new rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from domain.access.principals import NotAllowed, Principal
from domain.billing.clients import Client
from domain.billing.ecb import parse_reference_rates
from domain.billing.exchange import ExchangeRate, RateBook, derive_rates
from domain.billing.money import to_decimal, validate_currency
from domain.errors import Conflict, NotFound, ValidationError
from domain.invoicing.invoices import InvoiceStatus
from domain.invoicing.ports import InvoiceFilter
from domain.ports import Clock, InvoicingUnitOfWorkFactory

MAX_IMPORT_BYTES = 8 * 1024 * 1024  # the ECB's full history is about 1.5 MB
MAX_BASES = 10
MAX_LIST = 1000


@dataclass(frozen=True, slots=True)
class ImportResult:
    written: int
    days: int
    first: date
    last: date


def _code(value: str, what: str) -> str:
    try:
        return validate_currency(value.strip().upper())
    except ValueError:
        raise ValidationError(f"{what} must be a three-letter ISO 4217 code") from None


class RateUseCases:
    def __init__(self, uow: InvoicingUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def book(self) -> RateBook:
        """Every stored rate (reports convert with it)."""
        async with self._uow() as uow:
            return await uow.rates.book()

    async def list(
        self, base: str | None = None, quote: str | None = None, limit: int = 100
    ) -> Sequence[ExchangeRate]:
        if not 1 <= limit <= MAX_LIST:
            raise ValidationError(f"limit is between 1 and {MAX_LIST}")
        base = None if base is None else _code(base, "base")
        quote = None if quote is None else _code(quote, "quote")
        async with self._uow() as uow:
            return await uow.rates.list(base, quote, limit)

    async def set(
        self,
        base: str,
        quote: str,
        rate: Decimal | str,
        effective_on: date,
        source: str = "manual",
    ) -> ExchangeRate:
        """Add or replace the rate of (pair, day). An invoice already finalized keeps the
        rates it froze."""
        value = ExchangeRate(
            _code(base, "base"), _code(quote, "quote"), to_decimal(rate), effective_on, source
        )
        async with self._uow() as uow:
            await uow.rates.set([value], self._clock.now())
            await uow.commit()
        return value

    async def remove(self, base: str, quote: str, effective_on: date) -> bool:
        async with self._uow() as uow:
            removed = await uow.rates.remove(
                _code(base, "base"), _code(quote, "quote"), effective_on
            )
            await uow.commit()
        return removed

    async def import_reference(
        self, text: str, bases: Sequence[str] = ("USD",), source: str = "ECB"
    ) -> ImportResult:
        """The ECB's eurofxref.csv or eurofxref-hist.csv: for each day, each base to every
        currency of the day (cross rates through the euro, docs/currencies.md)."""
        if len(text.encode()) > MAX_IMPORT_BYTES:
            raise ValidationError(f"the file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB")
        codes = sorted({_code(b, "base") for b in bases})
        if not codes or len(codes) > MAX_BASES:
            raise ValidationError(f"1 to {MAX_BASES} base currencies")
        days = parse_reference_rates(text)
        rates = derive_rates(days, codes, source)
        async with self._uow() as uow:
            written = await uow.rates.set(rates, self._clock.now())
            await uow.commit()
        when = [d.day for d in days]
        return ImportResult(written, len(days), min(when), max(when))

    async def set_client_currency(self, client_id: str, currency: str) -> Client:
        """A client's billing currency, changed only while nothing was billed or paid in the
        old one: no invoice, no ledger entry (usage, top-ups), no budget or wallet."""
        code = _code(currency, "currency")
        async with self._uow() as uow:
            client = await uow.clients.get(client_id)
            if client is None:
                raise NotFound(f"no client {client_id}")
            if client.currency == code:
                return client
            invoices = await uow.invoices.find(InvoiceFilter([client.id]))
            if any(i.status is not InvoiceStatus.VOID for i in invoices):
                raise Conflict("the client has invoices: its currency can no longer change")
            if await uow.ledger.entries(client.id):
                raise Conflict(
                    "the client has usage or payments on its books: its currency can no "
                    "longer change"
                )
            budgets = [b for b in await uow.budgets.all() if b.client_id == client.id]
            if budgets or await uow.wallets.get(client.id) is not None:
                raise Conflict(
                    "remove the client's budgets and wallet first (they are in its currency)"
                )
            await uow.rates.set_client_currency(client.id, code)
            await uow.commit()
        return replace(client, currency=code)


class RateDesk:
    """The rates as one principal may use them: staff read, owners and admins change, a
    portal token sees none (its invoices state the rates they used)."""

    def __init__(self, principal: Principal, rates: RateUseCases | None) -> None:
        self._principal = principal
        self._rates = rates

    def _use(self) -> RateUseCases:
        if self._rates is None:
            raise NotAllowed("exchange rates are not available in this process")
        if self._principal.client_id is not None:
            raise NotAllowed("exchange rates are for staff only")
        return self._rates

    def _write(self) -> RateUseCases:
        rates = self._use()
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not change exchange rates (owner or admin only)")
        return rates

    async def list(
        self, base: str | None = None, quote: str | None = None, limit: int = 100
    ) -> Sequence[ExchangeRate]:
        return await self._use().list(base, quote, limit)

    async def set(
        self, base: str, quote: str, rate: Decimal | str, effective_on: date, source: str
    ) -> ExchangeRate:
        return await self._write().set(base, quote, rate, effective_on, source)

    async def remove(self, base: str, quote: str, effective_on: date) -> bool:
        return await self._write().remove(base, quote, effective_on)

    async def import_reference(self, text: str, bases: Sequence[str], source: str) -> ImportResult:
        return await self._write().import_reference(text, bases, source)

    async def set_client_currency(self, client_id: str, currency: str) -> Client:
        rates = self._write()
        if not self._principal.may_see_client(client_id):
            raise NotFound(f"no client {client_id}")
        return await rates.set_client_currency(client_id, currency)
