"""Payments through Stripe, when BIZGRAPH_STRIPE_SECRET_KEY is set (else None everywhere:
no pay links, no top-up page, /webhooks/stripe answers 404)."""

from __future__ import annotations

from adapters.payments.stripe_processor import StripeProcessor
from api.settings import Settings
from domain.payments.ports import WalletCredits
from domain.payments.processor import ReturnUrls
from domain.ports import Clock, InvoicingUnitOfWorkFactory
from domain.usecases.payments import PaymentTerms, PaymentUseCases


def build_payments(
    settings: Settings,
    uow: InvoicingUnitOfWorkFactory,
    clock: Clock,
    wallets: WalletCredits | None = None,
) -> PaymentUseCases | None:
    stripe = settings.stripe
    if stripe is None:
        return None
    processor = StripeProcessor(stripe.secret_key, stripe.webhook_secret, stripe.api_base)
    urls = ReturnUrls(stripe.success_url, stripe.cancel_url)
    terms = PaymentTerms(urls, settings.invoices.agency_name)
    return PaymentUseCases(uow, clock, processor, terms, wallets)
