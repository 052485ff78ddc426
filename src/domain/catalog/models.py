"""The model catalog: models addressed as `provider/model`, with effective-dated prices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.billing.money import (
    EXACT,
    MAX_PRICE_DECIMALS,
    PER_MILLION,
    Money,
    bounded_decimal,
    exact_sum,
    validate_currency,
)
from domain.errors import NoPriceInForce, ValidationError
from domain.metering.tokens import TokenUsage
from domain.text import check_text
from domain.timeutil import require_aware, to_utc


class ModelKind(StrEnum):
    CHAT = "chat"
    EMBEDDING = "embedding"


@dataclass(frozen=True, slots=True)
class Model:
    """A callable model. `id` is `provider/name`; `upstream_name` is what the provider calls it."""

    id: str
    provider: str
    upstream_name: str
    kind: ModelKind = ModelKind.CHAT
    max_output_tokens: int = 4096
    context_window: int = 128_000
    fallbacks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_text(self.id, "a model id", max_length=200)
        check_text(self.provider, "a provider name", max_length=100)
        check_text(self.upstream_name, "an upstream model name", max_length=200)
        provider, sep, name = self.id.partition("/")
        if not sep or not provider or not name or provider != self.provider:
            raise ValidationError(f"model id must be 'provider/model', got {self.id!r}")
        if self.max_output_tokens <= 0 or self.context_window <= 0:
            raise ValidationError("token limits must be positive")


def _price(value: Decimal | int | str | None, what: str) -> Decimal | None:
    if value is None:
        return None
    return bounded_decimal(value, places=MAX_PRICE_DECIMALS, what=what)


@dataclass(frozen=True, slots=True)
class PriceVersion:
    """Prices per million tokens of one model from `effective_from` until the next version.

    `cached_input`/`cache_write` default to the input price and `reasoning` to the output price
    when None: a class without a price of its own is billed like its parent class.
    """

    model_id: str
    effective_from: datetime
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None
    currency: str = "USD"
    id: str = ""

    def __post_init__(self) -> None:
        # In UTC, so ordering is by instant even inside a DST fold.
        object.__setattr__(self, "effective_from", to_utc(self.effective_from, "effective_from"))
        validate_currency(self.currency)
        for name in ("input", "output", "cached_input", "cache_write", "reasoning"):
            object.__setattr__(self, name, _price(getattr(self, name), f"{name} price"))

    def cost(self, usage: TokenUsage) -> Money:
        """Provider cost, exact: each token billed once at its own class's price."""
        cached = self.cached_input if self.cached_input is not None else self.input
        write = self.cache_write if self.cache_write is not None else self.input
        if self.reasoning is None:
            reasoning_price, plain_output = self.output, usage.output_tokens
        else:
            reasoning_price = self.reasoning
            plain_output = usage.output_tokens - usage.reasoning_tokens
        reasoning = usage.reasoning_tokens if self.reasoning is not None else 0
        per_million = exact_sum(
            EXACT.multiply(Decimal(usage.uncached_input_tokens), self.input),
            EXACT.multiply(Decimal(usage.cached_input_tokens), cached),
            EXACT.multiply(Decimal(usage.cache_write_tokens), write),
            EXACT.multiply(Decimal(plain_output), self.output),
            EXACT.multiply(Decimal(reasoning), reasoning_price),
        )
        return Money(EXACT.divide(per_million, PER_MILLION), self.currency)


def max_cost(price: PriceVersion, input_tokens: int, output_tokens: int) -> Money:
    """The most a call can cost: every input token at the dearest input class, every output
    token at the dearest output class."""
    inputs = (price.input, price.cached_input, price.cache_write)
    input_rate = max(p for p in inputs if p is not None)
    output_rate = max(p for p in (price.output, price.reasoning) if p is not None)
    per_million = exact_sum(
        EXACT.multiply(Decimal(input_tokens), input_rate),
        EXACT.multiply(Decimal(output_tokens), output_rate),
    )
    return Money(EXACT.divide(per_million, PER_MILLION), price.currency)


@dataclass(slots=True)
class PriceHistory:
    """All price versions of one model, ordered by `effective_from`."""

    model_id: str
    versions: list[PriceVersion] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.versions.sort(key=lambda v: v.effective_from)

    def in_force_at(self, instant: datetime) -> PriceVersion:
        require_aware(instant, "instant")
        current: PriceVersion | None = None
        for version in self.versions:
            if version.effective_from > instant:
                break
            current = version
        if current is None:
            raise NoPriceInForce(f"no price for {self.model_id} at {instant.isoformat()}")
        return current


def resolve_model_id(requested: str, models: Sequence[Model]) -> str | None:
    """`provider/model` as given, or an unambiguous bare name (an alias)."""
    ids = {m.id for m in models}
    if requested in ids:
        return requested
    matches = [m.id for m in models if m.id.partition("/")[2] == requested]
    return matches[0] if len(matches) == 1 else None
