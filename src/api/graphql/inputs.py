"""Input types. Amounts are Decimal (a string on the wire), never Float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.graphql.types import BudgetBasis, BudgetMode, Role


@strawberry.input
class PercentageMarginInput:
    percent: Decimal


@strawberry.input
class FixedFeeInput:
    monthly_fee: Decimal = strawberry.field(description="In the client's currency.")


@strawberry.input
class FixedPriceInput:
    monthly_price: Decimal = strawberry.field(description="In the client's currency.")


@strawberry.input(one_of=True, description="Exactly one plan.")
class PricingInput:
    percentage_margin: PercentageMarginInput | None = strawberry.UNSET
    fixed_fee: FixedFeeInput | None = strawberry.UNSET
    fixed_price: FixedPriceInput | None = strawberry.UNSET


@strawberry.input
class CreateClientInput:
    name: str
    pricing: PricingInput
    currency: str = "USD"
    billing_email: str | None = None
    tax_rate: Decimal = Decimal(0)
    pricing_effective_from: datetime | None = strawberry.field(
        default=None, description="Default: the client's creation; may be earlier, never later."
    )


@strawberry.input
class UpdateClientInput:
    name: str | None = None
    billing_email: str | None = None
    tax_rate: Decimal | None = None
    clear_billing_email: bool = False


@strawberry.input
class IssueApiKeyInput:
    name: str = ""
    expires_at: datetime | None = None
    allowed_models: list[str] = strawberry.field(default_factory=list)
    rpm_limit: int | None = None
    tpm_limit: int | None = None


@strawberry.input
class BudgetInput:
    limit: Decimal = strawberry.field(description="Per billing period, in the client's currency.")
    mode: BudgetMode = BudgetMode.HARD
    basis: BudgetBasis | None = strawberry.field(
        default=None, description="Default: provider cost for fixed_price, the charge otherwise."
    )
    thresholds: list[int] = strawberry.field(
        default_factory=lambda: [50, 80, 100], description="Alert thresholds, percents."
    )


@strawberry.input
class RateLimitsInput:
    rpm_limit: int | None = strawberry.field(default=None, description="Requests per minute.")
    tpm_limit: int | None = strawberry.field(default=None, description="Tokens per minute.")


@strawberry.input
class SetModelPriceInput:
    model: str = strawberry.field(description='"provider/name", or a name under `provider`.')
    provider: str
    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None = None
    cache_write_per_million: Decimal | None = None
    reasoning_per_million: Decimal | None = None
    currency: str = "USD"
    effective_from: datetime | None = strawberry.field(default=None, description="Default: now.")
    upstream_name: str | None = strawberry.field(
        default=None, description="What the provider calls it (a new model only)."
    )


@strawberry.input
class CreateStaffTokenInput:
    name: str
    role: Role
    email: str | None = None
