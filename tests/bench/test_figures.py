"""The benchmark's verdicts: every gateway cell against the passthrough's, the budgeted gateway
against the unbudgeted one, and issue 11's targets applied only to the cells they name."""

from __future__ import annotations

from bench.figures import (
    ADDED_P50,
    ADDED_TTFB,
    THROUGHPUT,
    VS_NO_BUDGET,
    Check,
    Goal,
    Row,
    check_goals,
    ratios,
    report,
)


def row(
    target: str, mode: str, concurrency: int, rps: float, p50: float, ttfb: float | None = None
) -> Row:
    return Row(target, mode, concurrency, rps, p50, p50 * 2, ttfb, 0, 1)


def test_a_gateway_cell_against_the_passthrough_and_the_budget_against_no_budget() -> None:
    rows = [
        row("passthrough", "stream", 1, 2000, 0.5, ttfb=0.4),
        row("gateway", "stream", 1, 1000, 1.0, ttfb=0.9),
        row("gateway-budget", "stream", 1, 900, 1.2, ttfb=1.0),
        row("upstream", "stream", 1, 5000, 0.2, ttfb=0.2),
    ]

    found = {r.target: r for r in ratios(rows)}

    assert set(found) == {"gateway", "gateway-budget"}  # yardsticks are not gateways
    assert found["gateway"].throughput == 0.5
    assert found["gateway"].added_p50_ms == 0.5
    assert found["gateway"].added_ttfb_ms == 0.5
    assert found["gateway"].vs_no_budget is None
    assert found["gateway-budget"].vs_no_budget == 0.9


def test_json_cells_have_no_time_to_first_byte() -> None:
    found = ratios([row("passthrough", "json", 1, 2000, 0.5), row("gateway", "json", 1, 500, 2)])

    assert found[0].added_ttfb_ms is None


def test_a_target_is_met_at_its_limit_and_not_beyond() -> None:
    rows = [
        row("passthrough", "json", 1, 1000, 0.4),
        row("gateway", "json", 1, 500, 1.0),  # 0.5x, +0.6 ms: both exactly at the limit
        row("passthrough", "json", 32, 1000, 32),
        row("gateway", "json", 32, 499, 64),  # 0.499x
    ]

    checks = {(c.concurrency, c.measure): c for c in check_goals(ratios(rows))}

    assert checks[(1, THROUGHPUT)].met
    assert checks[(1, ADDED_P50)].met
    assert not checks[(32, THROUGHPUT)].met
    assert (32, ADDED_P50) not in checks  # the latency target is for concurrency 1 only


def test_targets_apply_only_to_the_cells_they_name() -> None:
    rows = [
        row("passthrough", "json", 1, 1000, 0.4),
        row("passthrough", "json", 32, 1000, 32),
        row("gateway-pg", "json", 1, 10, 100),
        row("gateway-pg", "json", 32, 400, 80),
        row("gateway-pg2", "json", 32, 10, 3200),
        row("gateway-w2", "json", 32, 10, 3200),
    ]

    checks = check_goals(ratios(rows))

    assert checks == [Check("gateway-pg", "json", 32, THROUGHPUT, 0.4, ">= 0.35x", True)]


def test_the_budget_target_needs_the_unbudgeted_cell() -> None:
    rows = [row("passthrough", "json", 1, 1000, 0.4), row("gateway-budget", "json", 1, 400, 3)]
    goals = [Goal("gateway-budget", VS_NO_BUDGET, 0.85, True)]

    assert check_goals(ratios(rows), goals) == []


def test_an_at_most_goal_refuses_a_larger_value() -> None:
    rows = [
        row("passthrough", "stream", 1, 1000, 0.4, ttfb=0.3),
        row("gateway", "stream", 1, 900, 0.9, ttfb=0.91),
    ]
    goals = [Goal("gateway", ADDED_TTFB, 0.6, False, modes=("stream",))]

    [check] = check_goals(ratios(rows), goals)

    assert check.value == 0.61
    assert not check.met


def test_the_report_prints_each_verdict() -> None:
    rows = [row("passthrough", "json", 1, 1000, 0.4), row("gateway", "json", 1, 100, 5.0)]
    found = ratios(rows)

    text = report(rows, found, check_goals(found), repeat=1)

    assert "0.10x" in text
    assert "+4.60" in text
    assert "NOT MET" in text
