"""Invoice lines and totals: properties over random usage, plan changes and tax rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from zoneinfo import ZoneInfo

from hypothesis import assume, given
from hypothesis import strategies as st

from domain.billing.money import Money
from domain.billing.periods import Period, month_period
from domain.billing.plans import (
    FixedFee,
    FixedPrice,
    PercentageMargin,
    PlanTimeline,
    PlanVersion,
    PricingPlan,
)
from domain.invoicing.invoices import (
    AccountCredit,
    LineKind,
    UsageGroup,
    apply_credits,
    compose_lines,
    document_number,
    group_usage,
    owes_nothing,
    tax_on,
    totals,
)
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from tests.unit.domain.strategies import PROPERTY, costs, percents, token_usages

PARIS = ZoneInfo("Europe/Paris")
HALF_CENT = Decimal("0.005")
MODELS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"]
cents = st.integers(min_value=0, max_value=10**8).map(lambda n: Decimal(n).scaleb(-2))
tax_rates = st.integers(min_value=0, max_value=100 * 10**4).map(lambda n: Decimal(n).scaleb(-4))
# Exact per-call charges: up to 18 decimals (product.md "Money").
charges = st.integers(min_value=0, max_value=10**22).map(lambda n: Decimal(n).scaleb(-18))


def record(started_at: datetime, model: str, cost: Decimal, charge: Decimal) -> UsageRecord:
    return UsageRecord(
        id=f"r-{started_at.timestamp()}-{model}-{cost}",
        request_id="req",
        attempt=1,
        client_id="c",
        api_key_id="k",
        model_id=model,
        provider=model.partition("/")[0],
        usage=TokenUsage(input_tokens=10, output_tokens=5),
        cost=Money(cost),
        charge=Money(charge),
        price_version_id="p",
        plan_version_id="v",
        started_at=started_at,
        latency_ms=1,
        status=CallStatus.SUCCEEDED,
        source=UsageSource.REPORTED,
    )


def version(plan: PricingPlan, effective_from: datetime, vid: str) -> PlanVersion:
    return PlanVersion(vid, "c", plan, effective_from, effective_from)


@st.composite
def calls(draw: st.DrawFn, period: Period) -> list[tuple[datetime, str, Decimal]]:
    """(started_at, model, cost) inside the period."""
    seconds = int(period.seconds)
    drawn = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=seconds - 1),
                st.sampled_from(MODELS),
                costs,
            ),
            max_size=30,
        )
    )
    return [(period.start + timedelta(seconds=s), m, c) for s, m, c in drawn]


APRIL = month_period("2026-04", PARIS)


class TestInvoiceProperties:
    @PROPERTY
    @given(
        st.lists(st.tuples(st.sampled_from(MODELS), charges), max_size=40),
        st.lists(st.tuples(st.integers(min_value=1, max_value=29 * 86_400), cents), max_size=3),
        tax_rates,
    )
    def test_lines_sum_to_the_total_to_the_cent(
        self,
        usage: list[tuple[str, Decimal]],
        changes: list[tuple[int, Decimal]],
        rate: Decimal,
    ) -> None:
        records = [
            record(APRIL.start + timedelta(hours=i), m, Decimal(0), c)
            for i, (m, c) in enumerate(usage)
        ]
        versions = [version(FixedFee(Money("10.00")), APRIL.start, "v0")]
        versions += [
            version(FixedFee(Money(fee)), APRIL.start + timedelta(seconds=s), f"v{i + 1}")
            for i, (s, fee) in enumerate(changes)
        ]
        fixed = PlanTimeline(versions).fixed_charges(APRIL)
        lines = compose_lines(APRIL, group_usage(records, PARIS), fixed, "USD")
        result = totals(lines, rate, "USD")

        assert result.subtotal.amount == sum((line.amount.amount for line in lines), Decimal(0))
        assert result.total == result.subtotal + result.tax
        assert result.tax == tax_on(result.subtotal, rate)
        for line in lines:
            assert line.amount.amount == line.amount.amount.quantize(Decimal("0.01"))
            assert abs(line.amount.amount - line.exact_amount) <= HALF_CENT
        for value in (result.subtotal, result.tax, result.total):
            assert value.amount == value.amount.quantize(Decimal("0.01"))
        exact_usage = sum((c for _, c in usage), Decimal(0))
        usage_lines = [line for line in lines if line.kind is LineKind.USAGE]
        assert sum((line.exact_amount for line in usage_lines), Decimal(0)) == exact_usage
        assert [line.position for line in lines] == list(range(1, len(lines) + 1))

    @PROPERTY
    @given(st.data(), percents)
    def test_a_percentage_margin_invoice_is_cost_times_one_plus_m(
        self, data: st.DataObject, percent: Decimal
    ) -> None:
        plan = PercentageMargin(percent)
        drawn = data.draw(calls(APRIL))
        records = [record(t, m, c, plan.charge(Money(c)).amount) for t, m, c in drawn]
        timeline = PlanTimeline([version(plan, APRIL.start, "m")])

        lines = compose_lines(
            APRIL, group_usage(records, PARIS), timeline.fixed_charges(APRIL), "USD"
        )
        subtotal = totals(lines, Decimal(0), "USD").subtotal.amount

        cost = sum((c for _, _, c in drawn), Decimal(0))
        expected = cost * (1 + percent / 100)
        assert abs(subtotal - expected) <= len(lines) * HALF_CENT
        assert len(lines) == len({m for _, m, _ in drawn})

    @PROPERTY
    @given(st.data(), cents.filter(lambda c: c > 0), tax_rates)
    def test_a_fixed_price_invoice_is_the_price_whatever_the_usage(
        self, data: st.DataObject, price: Decimal, rate: Decimal
    ) -> None:
        plan = FixedPrice(Money(price))
        drawn = data.draw(calls(APRIL))
        records = [record(t, m, c, plan.charge(Money(c)).amount) for t, m, c in drawn]
        timeline = PlanTimeline([version(plan, APRIL.start - timedelta(days=40), "p")])

        lines = compose_lines(
            APRIL, group_usage(records, PARIS), timeline.fixed_charges(APRIL), "USD"
        )
        result = totals(lines, rate, "USD")

        assert result.subtotal == Money(price)
        assert result.total == Money(price) + tax_on(Money(price), rate)

    @PROPERTY
    @given(cents, st.lists(st.integers(min_value=1, max_value=30 * 86_400 - 1), max_size=3))
    def test_proration_over_a_split_month_sums_to_the_full_fee(
        self, fee: Decimal, splits: list[int]
    ) -> None:
        # The same fee in force the whole month, in one version or split into several (a plan
        # edit that kept the fee): the fee was in force throughout, so it is one stretch,
        # prorated and rounded once, and the month bills exactly the full fee.
        instants = sorted({APRIL.start + timedelta(seconds=s) for s in splits})
        versions = [version(FixedFee(Money(fee)), APRIL.start, "v0")]
        versions += [version(FixedFee(Money(fee)), t, f"v{i + 1}") for i, t in enumerate(instants)]
        fixed = PlanTimeline(versions).fixed_charges(APRIL)
        lines = compose_lines(APRIL, [], fixed, "USD")

        assert [line.amount for line in lines] == [Money(fee)]

    @PROPERTY
    @given(cents, cents, st.integers(min_value=1, max_value=30 * 86_400 - 1))
    def test_a_fee_changed_mid_month_bills_each_part_rounded_once(
        self, before: Decimal, after: Decimal, split: int
    ) -> None:
        # Two fees, each prorated by its own share of the month and rounded once (product.md):
        # within half a cent each of the exact shares, which sum to the blend of both fees.
        assume(before != after)
        change = APRIL.start + timedelta(seconds=split)
        timeline = PlanTimeline(
            [
                version(FixedFee(Money(before)), APRIL.start, "v0"),
                version(FixedFee(Money(after)), change, "v1"),
            ]
        )
        lines = compose_lines(APRIL, [], timeline.fixed_charges(APRIL), "USD")

        seconds = APRIL.seconds
        with localcontext(prec=60):  # as exact as the code's context
            shares = [before * split / seconds, after * (seconds - split) / seconds]
        assert len(lines) == 2
        for line, share in zip(lines, shares, strict=True):
            assert abs(line.amount.amount - share) <= HALF_CENT
            assert line.amount.amount == share.quantize(Decimal("0.01"), ROUND_HALF_EVEN)

    @PROPERTY
    @given(st.lists(token_usages(max_tokens=10**6), min_size=1, max_size=5))
    def test_tokens_and_requests_are_summed_per_model(self, usages: list[TokenUsage]) -> None:
        records = [
            record(APRIL.start + timedelta(minutes=i), MODELS[0], Decimal(0), Decimal(0))
            for i in range(len(usages))
        ]
        records = [
            UsageRecord(**{**{f: getattr(r, f) for f in r.__slots__}, "usage": u})
            for r, u in zip(records, usages, strict=True)
        ]
        [group] = group_usage(records, PARIS)
        expected = TokenUsage()
        for u in usages:
            expected = expected + u
        assert (group.requests, group.tokens) == (len(usages), expected)


def test_late_usage_is_a_prior_period_line_after_this_periods_lines() -> None:
    may = APRIL.next()
    records = [
        record(may.start + timedelta(days=1), MODELS[0], Decimal(0), Decimal("1.005")),
        record(APRIL.end - timedelta(seconds=1), MODELS[1], Decimal(0), Decimal("2.015")),
        record(APRIL.start, MODELS[0], Decimal(0), Decimal("0.5")),
    ]
    lines = compose_lines(may, group_usage(records, PARIS), [], "USD")
    assert [(line.kind, line.usage_period, line.model_id) for line in lines] == [
        (LineKind.USAGE, "2026-05", MODELS[0]),
        (LineKind.PRIOR_USAGE, "2026-04", MODELS[1]),  # by model id
        (LineKind.PRIOR_USAGE, "2026-04", MODELS[0]),
    ]
    assert [line.amount.amount for line in lines] == [
        Decimal("1.00"),  # 1.005, half-even
        Decimal("2.02"),  # 2.015, half-even
        Decimal("0.50"),
    ]


def test_a_boundary_instant_belongs_to_the_next_period_in_the_agency_zone() -> None:
    # 2026-04-30 22:00 UTC is 2026-05-01 00:00 in Paris: May's, not April's.
    at = datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
    [group] = group_usage([record(at, MODELS[0], Decimal(0), Decimal(1))], PARIS)
    assert group.period_label == "2026-05"


def test_owes_nothing_and_numbers() -> None:
    zero = UsageGroup("2026-04", MODELS[0], 3, TokenUsage(), Money("0.004"))
    assert owes_nothing(compose_lines(APRIL, [zero], [], "USD"))
    some = UsageGroup("2026-04", MODELS[1], 1, TokenUsage(), Money("0.005"))  # rounds to 0.00
    assert owes_nothing(compose_lines(APRIL, [zero, some], [], "USD"))
    cent = UsageGroup("2026-04", MODELS[1], 1, TokenUsage(), Money("0.0051"))
    assert not owes_nothing(compose_lines(APRIL, [zero, cent], [], "USD"))
    assert document_number("INV", 2026, 42) == "INV-2026-0042"
    assert document_number("CN", 2027, 12345) == "CN-2027-12345"


def test_tax_is_rounded_half_even_on_the_rounded_subtotal() -> None:
    assert tax_on(Money("0.25"), Decimal(10)) == Money("0.02")  # 0.025 -> 0.02
    assert tax_on(Money("0.35"), Decimal(10)) == Money("0.04")  # 0.035 -> 0.04
    assert tax_on(Money("100.00"), Decimal("20.5")) == Money("20.50")


credit_amounts = st.integers(min_value=1, max_value=10**6).map(lambda n: Decimal(n).scaleb(-2))


class TestCredits:
    @PROPERTY
    @given(
        st.lists(st.tuples(st.sampled_from(MODELS), charges), max_size=10),
        st.lists(credit_amounts, max_size=4),
        tax_rates,
    )
    def test_credits_never_take_an_invoice_below_zero_and_it_still_adds_up(
        self, usage: list[tuple[str, Decimal]], credits: list[Decimal], rate: Decimal
    ) -> None:
        records = [
            record(APRIL.start + timedelta(hours=i), m, Decimal(0), c)
            for i, (m, c) in enumerate(usage)
        ]
        lines = compose_lines(APRIL, group_usage(records, PARIS), [], "USD")
        before = totals(lines, rate, "USD").subtotal
        granted = [
            AccountCredit(f"c{i}", "c", Money(a), "r", APRIL.start + timedelta(days=i), Money(a))
            for i, a in enumerate(credits)
        ]

        with_credits, uses = apply_credits(lines, granted, "USD")
        result = totals(with_credits, rate, "USD")

        offered = sum(credits, Decimal(0))
        assert result.subtotal.amount == max(Decimal(0), before.amount - offered)
        assert result.total == result.subtotal + tax_on(result.subtotal, rate)
        credit_lines = [line for line in with_credits if line.kind is LineKind.CREDIT]
        assert [line.amount for line in credit_lines] == [-use.amount for use in uses]
        remaining = {c.id: c.remaining for c in granted}
        for use in uses:
            assert Money(0) < use.amount <= remaining[use.credit_id]
        assert [line.position for line in with_credits] == list(range(1, len(with_credits) + 1))


def test_credits_apply_oldest_first_and_the_rest_carries_over() -> None:
    lines = compose_lines(
        APRIL, [UsageGroup("2026-04", MODELS[0], 1, TokenUsage(), Money("10.004"))], [], "USD"
    )
    old = AccountCredit("old", "c", Money("4.00"), "old", APRIL.start, Money("4.00"))
    new = AccountCredit("new", "c", Money("50.00"), "new", APRIL.end, Money("50.00"))

    with_credits, uses = apply_credits(lines, [new, old], "USD")

    assert [(u.credit_id, u.amount) for u in uses] == [
        ("old", Money("4.00")),
        ("new", Money("6.00")),
    ]
    assert totals(with_credits, Decimal(0), "USD").subtotal == Money("0.00")
