"""Every use case the management facade needs, over the in-memory fakes (the container's
wiring in miniature). Invoicing needs a real database for its own behaviour, so it is only
wired here, and exercised in tests/integration and tests/api."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adapters.rendering import InvoiceFiles
from domain.invoicing.ports import AgencyDetails
from domain.usecases.access import AccessUseCases
from domain.usecases.alerts import AlertUseCases
from domain.usecases.aliases import AliasUseCases
from domain.usecases.budgets import BudgetUseCases
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases
from domain.usecases.invoice_desk import Documents
from domain.usecases.invoicing import InvoiceUseCases
from domain.usecases.keys import KeyUseCases
from domain.usecases.management import UseCases
from domain.usecases.reports import ReportUseCases
from domain.usecases.wallets import WalletUseCases
from domain.usecases.webhooks import WebhookUseCases
from runtime.lookups import Lookups
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock


def fake_use_cases(
    factory: FakeUnitOfWorkFactory, clock: FrozenClock, hasher: FakeKeyHasher
) -> UseCases:
    return UseCases(
        clients=ClientUseCases(factory, clock),
        keys=KeyUseCases(factory, clock, hasher, Lookups(factory)),
        catalog=CatalogUseCases(factory),
        reports=ReportUseCases(factory, clock),
        access=AccessUseCases(factory, clock, hasher),
        budgets=BudgetUseCases(factory, clock, ZoneInfo("UTC")),
        invoices=InvoiceUseCases(factory, clock),  # type: ignore[arg-type]
        documents=Documents(renderer=InvoiceFiles(), agency=AgencyDetails("Agency")),
        alerts=AlertUseCases(factory, clock),
        webhooks=WebhookUseCases(factory, clock, hasher, allow_private=True),
        aliases=AliasUseCases(factory, clock),
        wallets=WalletUseCases(factory, clock),
    )
