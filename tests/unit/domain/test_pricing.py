"""Pricing plans, effective-dated plan versions, and the proration of fixed monthly amounts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import Money
from domain.billing.periods import Period, month_period
from domain.billing.plans import (
    FixedFee,
    FixedPrice,
    PercentageMargin,
    PlanKind,
    PlanTimeline,
    PlanVersion,
    PricingPlan,
)
from domain.errors import InvalidAmount, ValidationError
from tests.unit.domain.strategies import PROPERTY, costs, percents

PARIS = ZoneInfo("Europe/Paris")
ZONE_NAMES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
HALF_CENT = Decimal("0.005")


def usd(amount: str) -> Money:
    return Money(Decimal(amount))


def version(
    plan: PricingPlan, effective_from: datetime, vid: str = "", created_at: datetime = T0
) -> PlanVersion:
    return PlanVersion(
        vid or f"v-{effective_from.isoformat()}", "client-1", plan, effective_from, created_at
    )


class TestPercentageMargin:
    def test_golden(self) -> None:
        plan = PercentageMargin(Decimal("30"))
        assert plan.charge(usd("0.00042")).amount == Decimal("0.000546")
        assert plan.kind is PlanKind.PERCENTAGE_MARGIN
        assert plan.monthly_amount is None

    def test_smallest_percent_on_smallest_cost_is_exact(self) -> None:
        plan = PercentageMargin(Decimal("0.0001"))
        assert plan.charge(usd("0.000000000001")).amount == Decimal("0.000000000001000001")

    def test_zero_margin_charges_the_cost(self) -> None:
        assert PercentageMargin(Decimal(0)).charge(usd("1.234567")) == usd("1.234567")

    def test_charge_keeps_the_currency(self) -> None:
        charge = PercentageMargin(Decimal(10)).charge(Money(Decimal(1), "EUR"))
        assert charge == Money(Decimal("1.1"), "EUR")

    @pytest.mark.parametrize("percent", ["12.34567", "0.00001"])
    def test_more_than_four_decimals_refused(self, percent: str) -> None:
        with pytest.raises(InvalidAmount, match="more than 4 decimals"):
            PercentageMargin(Decimal(percent))

    def test_four_decimals_accepted(self) -> None:
        assert PercentageMargin(Decimal("12.3456")).percent == Decimal("12.3456")

    @pytest.mark.parametrize("percent", [-1, Decimal("-0.0001")])
    def test_negative_refused(self, percent: Decimal | int) -> None:
        with pytest.raises(InvalidAmount):
            PercentageMargin(percent)  # type: ignore[arg-type]

    @pytest.mark.parametrize("percent", [30.0, True, float("nan")])
    def test_inexact_refused(self, percent: object) -> None:
        with pytest.raises(InvalidAmount):
            PercentageMargin(percent)  # type: ignore[arg-type]

    def test_str_and_int_coerced(self) -> None:
        assert PercentageMargin("12.5").percent == Decimal("12.5")  # type: ignore[arg-type]
        assert isinstance(PercentageMargin(20).percent, Decimal)  # type: ignore[arg-type]

    @PROPERTY
    @given(costs, percents)
    def test_charge_is_cost_times_one_plus_percent_exactly(
        self, cost: Decimal, percent: Decimal
    ) -> None:
        charge = PercentageMargin(percent).charge(Money(cost)).amount
        assert Fraction(charge) == Fraction(cost) * (1 + Fraction(percent) / 100)
        # every charge has at most 18 decimals, so Numeric(38, 18) stores it exactly
        assert charge == charge.quantize(Decimal("1E-18"))

    @PROPERTY
    @given(costs, costs, percents, percents)
    def test_charge_is_monotone_in_cost_and_percent(
        self, cost_a: Decimal, cost_b: Decimal, p_a: Decimal, p_b: Decimal
    ) -> None:
        low_cost, high_cost = sorted((cost_a, cost_b))
        low_p, high_p = sorted((p_a, p_b))
        assert PercentageMargin(low_p).charge(Money(low_cost)) <= PercentageMargin(low_p).charge(
            Money(high_cost)
        )
        assert PercentageMargin(low_p).charge(Money(high_cost)) <= PercentageMargin(high_p).charge(
            Money(high_cost)
        )
        assert Money(low_cost) <= PercentageMargin(low_p).charge(Money(low_cost))


class TestFixedPlans:
    @PROPERTY
    @given(costs)
    def test_fixed_price_charges_nothing_per_call(self, cost: Decimal) -> None:
        plan = FixedPrice(usd("500.00"))
        assert plan.charge(Money(cost, "EUR")) == Money.zero("EUR")
        assert plan.charge(Money(cost)).amount == 0

    @PROPERTY
    @given(costs)
    def test_fixed_fee_charges_the_cost(self, cost: Decimal) -> None:
        assert FixedFee(usd("99.00")).charge(Money(cost)) == Money(cost)

    def test_monthly_amounts_and_kinds(self) -> None:
        assert FixedFee(usd("99.00")).monthly_amount == usd("99")
        assert FixedFee(usd("99.00")).kind is PlanKind.FIXED_FEE
        assert FixedPrice(usd("500")).monthly_amount == usd("500")
        assert FixedPrice(usd("500")).kind is PlanKind.FIXED_PRICE

    @pytest.mark.parametrize("plan_type", [FixedFee, FixedPrice])
    @pytest.mark.parametrize(
        "amount", [Money(Decimal("10.001")), Money(Decimal("0.005")), Money(Decimal("10.5"), "JPY")]
    )
    def test_amounts_must_be_whole_minor_units(
        self, plan_type: type[FixedFee] | type[FixedPrice], amount: Money
    ) -> None:
        with pytest.raises(ValidationError, match="whole number of minor units"):
            plan_type(amount)

    @pytest.mark.parametrize("plan_type", [FixedFee, FixedPrice])
    def test_negative_amounts_refused(self, plan_type: type[FixedFee] | type[FixedPrice]) -> None:
        with pytest.raises(ValidationError, match="negative"):
            plan_type(usd("-1.00"))

    @pytest.mark.parametrize("plan_type", [FixedFee, FixedPrice])
    @pytest.mark.parametrize(
        "amount",
        [
            Money(Decimal("0")),
            Money(Decimal("10.50")),
            Money(Decimal("10.500")),
            Money(Decimal(7), "JPY"),
        ],
    )
    def test_whole_minor_units_accepted(
        self, plan_type: type[FixedFee] | type[FixedPrice], amount: Money
    ) -> None:
        assert plan_type(amount).monthly_amount == amount


class TestPlanTimeline:
    def test_in_force_at(self) -> None:
        a = version(PercentageMargin(Decimal(10)), T0, "a")
        b = version(FixedFee(usd("50")), T0 + timedelta(days=10), "b")
        timeline = PlanTimeline([b, a])

        assert timeline.in_force_at(T0 - timedelta(microseconds=1)) is None
        assert timeline.in_force_at(T0) is a
        assert timeline.in_force_at(T0 + timedelta(days=10) - timedelta(microseconds=1)) is a
        assert timeline.in_force_at(T0 + timedelta(days=10)) is b
        assert [v.id for v in timeline.versions] == ["a", "b"]

    def test_spans(self) -> None:
        a = version(PercentageMargin(Decimal(10)), T0, "a")
        b = version(FixedFee(usd("50")), T0 + timedelta(days=10), "b")
        assert PlanTimeline([b, a]).spans() == [(a, b.effective_from), (b, None)]

    def test_a_past_version_is_inserted_and_later_versions_stay(self) -> None:
        a = version(PercentageMargin(Decimal(10)), T0, "a", created_at=T0)
        c = version(FixedFee(usd("50")), T0 + timedelta(days=20), "c", created_at=T0)
        b = version(
            FixedPrice(usd("80")), T0 + timedelta(days=10), "b", created_at=T0 + timedelta(days=30)
        )

        timeline = PlanTimeline([a, c, b])

        assert timeline.in_force_at(T0 + timedelta(days=15)) is b
        assert timeline.in_force_at(T0 + timedelta(days=25)) is c

    def test_at_the_same_instant_the_later_created_version_wins(self) -> None:
        old = version(PercentageMargin(Decimal(10)), T0, "old", created_at=T0)
        new = version(PercentageMargin(Decimal(20)), T0, "new", created_at=T0 + timedelta(hours=1))

        timeline = PlanTimeline([new, old])

        assert timeline.in_force_at(T0) is new
        period = month_period("2026-01", ZoneInfo("UTC"))
        fee_old = version(FixedFee(usd("10")), T0, "fee-old", created_at=T0)
        fee_new = version(FixedFee(usd("20")), T0, "fee-new", created_at=T0 + timedelta(hours=1))
        charges = PlanTimeline([fee_new, fee_old]).fixed_charges(period)
        assert [(c.plan_version_id, c.amount) for c in charges] == [("fee-new", usd("20.00"))]

    def test_naive_instants_refused(self) -> None:
        with pytest.raises(ValidationError):
            version(PercentageMargin(Decimal(1)), datetime(2026, 1, 1))
        with pytest.raises(ValidationError):
            PlanTimeline([]).in_force_at(datetime(2026, 1, 1))

    def test_versions_in_a_dst_fold_are_ordered_as_instants(self) -> None:
        earlier = version(
            PercentageMargin(Decimal(1)), datetime(2026, 10, 25, 2, 45, fold=0, tzinfo=PARIS), "a"
        )
        later = version(
            PercentageMargin(Decimal(2)), datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS), "b"
        )
        assert earlier.effective_from.astimezone(UTC) < later.effective_from.astimezone(UTC)

        timeline = PlanTimeline([earlier, later])

        assert [v.id for v in timeline.versions] == ["a", "b"]


class TestProrationExamples:
    def test_a_version_in_force_all_month_bills_the_full_amount(self) -> None:
        period = month_period("2026-03", PARIS)  # 31 days minus the DST hour
        fee = version(FixedFee(usd("99.99")), period.start - timedelta(days=40), "fee")

        [charge] = PlanTimeline([fee]).fixed_charges(period)

        assert charge.amount == usd("99.99")
        assert charge.full_amount == usd("99.99")
        assert charge.kind is PlanKind.FIXED_FEE
        assert (charge.start, charge.end) == (period.start, period.end)

    def test_a_version_starting_mid_month_is_prorated_by_elapsed_seconds(self) -> None:
        period = month_period("2026-03", PARIS)
        start = datetime(2026, 3, 16, tzinfo=PARIS)
        fee = version(FixedPrice(usd("100.00")), start, "price")

        [charge] = PlanTimeline([fee]).fixed_charges(period)

        # (16 days - the DST hour) / (31 days - the DST hour) = 1378800 / 2674800 = 0.51547...
        assert charge.amount == usd("51.55")
        assert charge.amount.amount.as_tuple().exponent == -2
        assert (charge.start, charge.end) == (start, period.end)

    @pytest.mark.parametrize(
        ("fee", "half"), [("0.25", "0.12"), ("0.35", "0.18"), ("0.45", "0.22")]
    )
    def test_proration_rounds_half_even(self, fee: str, half: str) -> None:
        period = month_period("2026-04", ZoneInfo("UTC"))  # 30 days
        versions = [
            version(FixedFee(usd(fee)), period.start, "first"),
            version(PercentageMargin(Decimal(10)), datetime(2026, 4, 16, tzinfo=UTC), "second"),
        ]

        [charge] = PlanTimeline(versions).fixed_charges(period)

        assert charge.plan_version_id == "first"
        assert charge.amount == usd(half)

    def test_percentage_margin_has_no_fixed_charge(self) -> None:
        period = month_period("2026-04", ZoneInfo("UTC"))
        margin = version(PercentageMargin(Decimal(30)), period.start, "m")
        assert PlanTimeline([margin]).fixed_charges(period) == []

    def test_versions_outside_the_period_contribute_nothing(self) -> None:
        period = month_period("2026-04", ZoneInfo("UTC"))
        versions = [
            version(FixedFee(usd("10")), period.start - timedelta(days=20), "before"),
            version(PercentageMargin(Decimal(5)), period.start - timedelta(days=10), "margin"),
            version(FixedPrice(usd("30")), period.end, "after"),
            version(FixedPrice(usd("40")), period.end + timedelta(days=3), "later"),
        ]
        assert PlanTimeline(versions).fixed_charges(period) == []

    def test_a_version_ending_exactly_at_the_start_contributes_nothing(self) -> None:
        period = month_period("2026-04", ZoneInfo("UTC"))
        versions = [
            version(FixedFee(usd("10")), period.start - timedelta(days=20), "before"),
            version(FixedFee(usd("20")), period.start, "from-start"),
        ]
        charges = PlanTimeline(versions).fixed_charges(period)
        assert [(c.plan_version_id, c.amount) for c in charges] == [("from-start", usd("20.00"))]

    def test_no_versions_no_charges(self) -> None:
        timeline = PlanTimeline([])
        assert timeline.spans() == []
        assert timeline.fixed_charges(month_period("2026-04", PARIS)) == []


# ------------------------------------------------------------------------ proration properties


def micros_between(start: datetime, end: datetime) -> int:
    """Elapsed microseconds between two aware instants, computed through POSIX timestamps."""

    def micros(instant: datetime) -> int:
        utc = instant.astimezone(UTC)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        delta = utc - epoch
        return delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds

    return micros(end) - micros(start)


def expected_share(full: Decimal, in_force_micros: int, period_micros: int) -> Decimal:
    """amount x (seconds in force / seconds in the period), 60 digits, rounded once half-even."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = full * Decimal(in_force_micros) / Decimal(period_micros)
        return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@st.composite
def months(draw: st.DrawFn) -> Period:
    zone = ZoneInfo(draw(st.sampled_from(ZONE_NAMES)))
    # 2026-03/10/11 hold DST changes in Paris and New York; drawn often on purpose.
    month = draw(st.sampled_from([3, 10, 11]) | st.integers(min_value=1, max_value=12))
    year = draw(st.integers(min_value=2024, max_value=2027))
    return month_period(f"{year:04d}-{month:02d}", zone)


cents = st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n).scaleb(-2))


def fixed_plan(kind: str, amount: Decimal) -> PricingPlan:
    return FixedFee(Money(amount)) if kind == "fee" else FixedPrice(Money(amount))


class TestProrationProperties:
    @PROPERTY
    @given(
        months(),
        st.lists(st.integers(min_value=1, max_value=10**12), max_size=4, unique=True),
        st.integers(min_value=0, max_value=40 * 86_400 * 10**6),
        cents,
        st.lists(st.sampled_from(["fee", "price"]), min_size=5, max_size=5),
    )
    def test_a_constant_amount_split_across_versions_sums_to_the_full_amount(
        self,
        period: Period,
        change_points: list[int],
        lead_micros: int,
        amount: Decimal,
        kinds: list[str],
    ) -> None:
        period_micros = micros_between(period.start, period.end)
        changes = sorted(
            period.start + timedelta(microseconds=p % period_micros)
            for p in change_points
            if p % period_micros
        )
        first = period.start - timedelta(microseconds=lead_micros)
        instants = [first, *dict.fromkeys(changes)]
        versions = [
            version(fixed_plan(kind, amount), instant, f"v{i}")
            for i, (kind, instant) in enumerate(zip(kinds, instants, strict=False))
        ]

        charges = PlanTimeline(versions).fixed_charges(period)

        # Consecutive versions of one kind and amount are one stretch, rounded once; a change
        # of kind starts a new part, each part rounded on its own.
        used = kinds[: len(versions)]
        parts = 1 + sum(1 for a, b in itertools.pairwise(used) if a != b)
        assert len(charges) == parts
        total = sum((c.amount.amount for c in charges), Decimal(0))
        assert abs(total - amount) <= len(charges) * HALF_CENT
        if parts == 1:
            assert total == amount
        assert sum(micros_between(c.start, c.end) for c in charges) == period_micros

    @PROPERTY
    @given(
        months(),
        st.lists(
            st.tuples(
                st.integers(min_value=-40 * 86_400, max_value=72 * 86_400),  # seconds from start
                st.integers(min_value=0, max_value=999_999),
                st.sampled_from(["fee", "price", "margin"]),
                cents,
            ),
            min_size=1,
            max_size=5,
            unique_by=lambda t: (t[0], t[1]),
        ),
    )
    def test_each_version_gets_its_share_of_the_period_rounded_once(
        self, period: Period, drawn: list[tuple[int, int, str, Decimal]]
    ) -> None:
        versions = []
        for i, (seconds, micros, kind, amount) in enumerate(drawn):
            effective = period.start + timedelta(seconds=seconds, microseconds=micros)
            plan = PercentageMargin(Decimal(5)) if kind == "margin" else fixed_plan(kind, amount)
            versions.append(version(plan, effective, f"v{i}"))

        charges = {c.plan_version_id: c for c in PlanTimeline(versions).fixed_charges(period)}

        # Independent computation: each version is in force until the next one starts.
        ordered = sorted(versions, key=lambda v: v.effective_from)
        stops: list[datetime | None] = [v.effective_from for v in ordered[1:]]
        period_micros = micros_between(period.start, period.end)
        expected: dict[str, Decimal] = {}
        for v, stop in zip(ordered, [*stops, None], strict=True):
            start = max(v.effective_from, period.start)
            end = period.end if stop is None else min(stop, period.end)
            full = v.plan.monthly_amount
            if full is None or end <= start:
                continue
            expected[v.id] = expected_share(full.amount, micros_between(start, end), period_micros)

        assert {vid: c.amount.amount for vid, c in charges.items()} == expected
        for vid, charge in charges.items():
            assert charge.amount.amount.as_tuple().exponent == -2
            assert (
                charge.full_amount == next(v for v in versions if v.id == vid).plan.monthly_amount
            )
            assert period.start <= charge.start < charge.end <= period.end
