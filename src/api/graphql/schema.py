"""The GraphQL management API's schema, composed from its features: each module of this
package (clients, keys, plans, catalog, usage, budgets, alerts, webhooks, invoices, staff)
holds its types, inputs, queries and mutations; Query and Mutation below name every field, in
the order schema.graphql shows them. Reads go through Management, scoped by the caller's
principal; mutations (POST only) return a result union: the success type or the typed expected
failure. Importing this module has no side effects, so `schema.graphql` can be exported from it
(`print_schema(schema)`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    SchemaExtension,
)

from api.graphql import alerts as alert_api
from api.graphql import aliases as alias_api
from api.graphql import budgets as budget_api
from api.graphql import byok as byok_api
from api.graphql import catalog as catalog_api
from api.graphql import clients as client_api
from api.graphql import delivery as delivery_api
from api.graphql import invoices as invoice_api
from api.graphql import keys as key_api
from api.graphql import payments as payment_api
from api.graphql import plans as plan_api
from api.graphql import rates as rates_api
from api.graphql import reconciliation as reconciliation_api
from api.graphql import settlements as settlements_api
from api.graphql import staff as staff_api
from api.graphql import tax as tax_api
from api.graphql import usage as usage_api
from api.graphql import wallets as wallet_api
from api.graphql import webhooks as webhook_api
from api.graphql.context import Info
from api.graphql.errors import should_mask_error
from api.graphql.fields import field
from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, MeasureFirst
from api.graphql.schema_version import version

MAX_TOKENS = 2000

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_TOKENS", "build_schema", "schema"]


@field(
    description="The agency's time zone (IANA name, e.g. Europe/Paris): periods and days "
    "are counted in it, and the web apps show dates in it."
)
def time_zone(info: Info) -> str:
    return info.context.management.time_zone()


@strawberry.type
class Query:
    alerts = alert_api.alerts
    webhooks = webhook_api.webhooks
    invoices = invoice_api.invoices
    draft_invoice = invoice_api.draft_invoice
    credits = invoice_api.credits
    invoice = invoice_api.invoice
    invoice_email = delivery_api.invoice_email
    invoice_deliveries = delivery_api.invoice_deliveries
    overdue_invoices = delivery_api.overdue_invoices
    payments_enabled = payment_api.payments_enabled
    invoice_payment = payment_api.invoice_payment
    version = strawberry.field(
        resolver=version, description="The version of Bizgraph serving this API."
    )
    me = staff_api.me
    time_zone = time_zone
    clients = client_api.clients
    client = client_api.client
    models = catalog_api.models
    overview = usage_api.overview
    staff_tokens = staff_api.staff_tokens
    model_aliases = alias_api.model_aliases
    alias_usage = alias_api.alias_usage
    reconciliation = reconciliation_api.reconciliation
    reconciled_through = reconciliation_api.reconciled_through
    calls_to_settle = settlements_api.calls_to_settle
    tax_rates = tax_api.tax_rates
    client_tax = tax_api.client_tax
    agency_profile = tax_api.agency_profile
    accounting_export = tax_api.accounting_export
    exchange_rates = rates_api.exchange_rates
    wallet = wallet_api.wallet
    provider_credentials = byok_api.provider_credentials
    byok_settings = byok_api.byok_settings
    byok_usage = byok_api.byok_usage


@strawberry.type
class Mutation:
    acknowledge_alert = alert_api.acknowledge_alert
    create_webhook = webhook_api.create_webhook
    delete_webhook = webhook_api.delete_webhook
    close_period = invoice_api.close_period
    void_invoice = invoice_api.void_invoice
    mark_invoice_paid = invoice_api.mark_invoice_paid
    issue_credit_note = invoice_api.issue_credit_note
    grant_credit = invoice_api.grant_credit
    settle_estimated_call = settlements_api.settle_estimated_call
    send_invoice = delivery_api.send_invoice
    resend_invoice = delivery_api.resend_invoice
    create_client = client_api.create_client
    update_client = client_api.update_client
    suspend_client = client_api.suspend_client
    resume_client = client_api.resume_client
    set_pricing = plan_api.set_pricing
    issue_api_key = key_api.issue_api_key
    revoke_api_key = key_api.revoke_api_key
    set_budget = budget_api.set_budget
    set_key_budget = budget_api.set_key_budget
    remove_budget = budget_api.remove_budget
    remove_key_budget = budget_api.remove_key_budget
    set_key_rate_limits = key_api.set_key_rate_limits
    set_model_price = catalog_api.set_model_price
    create_staff_token = staff_api.create_staff_token
    create_portal_token = staff_api.create_portal_token
    revoke_staff_token = staff_api.revoke_staff_token
    revoke_portal_token = staff_api.revoke_portal_token
    set_model_alias = alias_api.set_model_alias
    remove_model_alias = alias_api.remove_model_alias
    set_tax_rate = tax_api.set_tax_rate
    remove_tax_rate = tax_api.remove_tax_rate
    set_client_tax_treatment = tax_api.set_client_tax_treatment
    set_client_billing_details = tax_api.set_client_billing_details
    set_agency_profile = tax_api.set_agency_profile
    set_exchange_rate = rates_api.set_exchange_rate
    remove_exchange_rate = rates_api.remove_exchange_rate
    import_exchange_rates = rates_api.import_exchange_rates
    set_client_currency = rates_api.set_client_currency
    set_billing_mode = wallet_api.set_billing_mode
    top_up_wallet = wallet_api.top_up_wallet
    adjust_wallet = wallet_api.adjust_wallet
    set_wallet_settings = wallet_api.set_wallet_settings
    start_wallet_top_up = wallet_api.start_wallet_top_up
    set_provider_credential = byok_api.set_provider_credential
    remove_provider_credential = byok_api.remove_provider_credential
    set_byok_settings = byok_api.set_byok_settings


schema = strawberry.Schema(query=Query, mutation=Mutation)


def build_schema(*, development: bool) -> strawberry.Schema:
    """The served schema: a token limit at parse, then depth, alias and field limits with
    fragments expanded, measured before any validation rule runs (limits.py); introspection
    only in development; unexpected errors masked (their details go to the server log)."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        MeasureFirst,
        partial(MaskErrors, should_mask_error=should_mask_error),
    ]
    if not development:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)
