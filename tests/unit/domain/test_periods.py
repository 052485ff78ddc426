"""Billing periods: calendar months in the agency's zone, half-open [start, end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.periods import month_period, period_containing
from domain.errors import ValidationError
from tests.unit.domain.strategies import PROPERTY

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
ZONES = [ZoneInfo("UTC"), PARIS, NEW_YORK, KOLKATA]
DAY = 86_400
HOUR = 3_600


class TestMonthPeriod:
    def test_boundaries_are_local_midnights_of_the_first(self) -> None:
        period = month_period("2026-03", PARIS)

        assert period.label == "2026-03"
        assert period.start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # CET, +01:00
        assert period.end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # CEST, +02:00

    def test_december_ends_on_the_next_first_of_january(self) -> None:
        period = month_period("2026-12", ZoneInfo("UTC"))
        assert period.start == datetime(2026, 12, 1, tzinfo=UTC)
        assert period.end == datetime(2027, 1, 1, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("label", "zone", "seconds"),
        [
            ("2026-01", ZoneInfo("UTC"), 31 * DAY),
            ("2026-02", ZoneInfo("UTC"), 28 * DAY),
            ("2028-02", ZoneInfo("UTC"), 29 * DAY),
            ("2026-04", ZoneInfo("UTC"), 30 * DAY),
            ("2026-03", PARIS, 31 * DAY - HOUR),  # spring forward on 29 March
            ("2026-10", PARIS, 31 * DAY + HOUR),  # fall back on 25 October
            ("2026-06", PARIS, 30 * DAY),
            ("2026-03", NEW_YORK, 31 * DAY - HOUR),  # spring forward on 8 March
            ("2026-11", NEW_YORK, 30 * DAY + HOUR),  # fall back on 1 November
            ("2026-03", KOLKATA, 31 * DAY),
        ],
    )
    def test_seconds_are_elapsed_seconds(self, label: str, zone: ZoneInfo, seconds: int) -> None:
        period = month_period(label, zone)
        assert period.seconds == Decimal(seconds)

    @pytest.mark.parametrize(
        "label",
        ["2026-13", "2026-00", "2026-3", "26-03", "2026/03", "", "2026-03-01", " 2026-03", "x"],
    )
    def test_bad_labels_refused(self, label: str) -> None:
        with pytest.raises(ValidationError):
            month_period(label, PARIS)

    def test_label_with_trailing_newline_refused(self) -> None:
        with pytest.raises(ValidationError):
            month_period("2026-03\n", PARIS)

    def test_label_with_non_ascii_digits_refused(self) -> None:
        with pytest.raises(ValidationError):
            month_period("٢٠٢٦-03", PARIS)

    @pytest.mark.parametrize("label", ["0000-01", "9999-12"])
    def test_unrepresentable_months_refused_as_validation_errors(self, label: str) -> None:
        with pytest.raises(ValidationError):
            month_period(label, PARIS)


class TestContains:
    def test_half_open(self) -> None:
        period = month_period("2026-03", PARIS)
        assert period.contains(period.start)
        assert period.contains(period.end - timedelta(microseconds=1))
        assert not period.contains(period.end)
        assert not period.contains(period.start - timedelta(microseconds=1))

    def test_naive_instant_refused(self) -> None:
        with pytest.raises(ValidationError):
            month_period("2026-03", PARIS).contains(datetime(2026, 3, 10))


class TestPeriodContaining:
    def test_last_microsecond_of_the_month_in_local_time(self) -> None:
        instant = datetime(2026, 3, 31, 23, 59, 59, 999_999, tzinfo=PARIS)
        assert period_containing(instant, PARIS).label == "2026-03"
        # The same instant seen from UTC is still March in Paris.
        utc = instant.astimezone(UTC)
        assert utc == datetime(2026, 3, 31, 21, 59, 59, 999_999, tzinfo=UTC)
        assert period_containing(utc, PARIS).label == "2026-03"

    def test_local_midnight_starts_the_next_month(self) -> None:
        instant = datetime(2026, 4, 1, 0, 0, tzinfo=PARIS)
        assert period_containing(instant, PARIS).label == "2026-04"
        assert period_containing(instant.astimezone(UTC), PARIS).label == "2026-04"
        # ...while in UTC it is still March.
        assert period_containing(instant, ZoneInfo("UTC")).label == "2026-03"

    def test_new_year_in_new_york(self) -> None:
        instant = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)  # 2026-12-31 22:00 in New York
        assert period_containing(instant, NEW_YORK).label == "2026-12"
        assert period_containing(instant, KOLKATA).label == "2027-01"

    def test_naive_instant_refused(self) -> None:
        with pytest.raises(ValidationError):
            period_containing(datetime(2026, 3, 10), PARIS)

    @PROPERTY
    @given(
        st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ),
        st.sampled_from(ZONES),
    )
    def test_the_containing_period_contains_the_instant(
        self, instant: datetime, zone: ZoneInfo
    ) -> None:
        period = period_containing(instant, zone)
        assert period.contains(instant)
        local_start = period.start.astimezone(zone)
        assert (local_start.day, local_start.hour, local_start.minute) == (1, 0, 0)
        assert period.label == f"{local_start.year:04d}-{local_start.month:02d}"


class TestNavigation:
    def test_next_across_the_year_end(self) -> None:
        assert month_period("2026-12", PARIS).next() == month_period("2027-01", PARIS)

    def test_previous_across_the_year_end(self) -> None:
        assert month_period("2027-01", PARIS).previous() == month_period("2026-12", PARIS)

    def test_next_and_previous_across_dst(self) -> None:
        march = month_period("2026-03", PARIS)
        assert march.next().label == "2026-04"
        assert march.next().start == march.end
        assert march.previous().label == "2026-02"
        assert march.previous().end == march.start

    @PROPERTY
    @given(
        st.integers(min_value=2000, max_value=2098),
        st.integers(min_value=1, max_value=12),
        st.sampled_from(ZONES),
    )
    def test_months_tile_time(self, year: int, month: int, zone: ZoneInfo) -> None:
        period = month_period(f"{year:04d}-{month:02d}", zone)
        assert period.next().start == period.end
        assert period.next().previous() == period
        assert period.previous().next() == period
        assert 28 * DAY - HOUR <= period.seconds <= 31 * DAY + HOUR
