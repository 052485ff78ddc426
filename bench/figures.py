"""The benchmark's figures: the table of cells (medians over rounds), every gateway cell against
the bare passthrough's (and the budgeted gateway against the unbudgeted one), and issue 11's
targets checked on them, met or NOT MET."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.deploy import GATEWAY_SPECS
from bench.load import LoadResult

BASELINE = "passthrough"
NO_BUDGET = "gateway"  # what the budgeted gateway is compared with

# The measures of a gateway cell, each against its yardstick. Issue 11's targets are ratios
# and differences within one run (absolute figures move with the shared machine's load).
THROUGHPUT = "throughput"  # req/s over the passthrough's
ADDED_P50 = "added p50"  # p50 minus the passthrough's (ms)
ADDED_TTFB = "added TTFB"  # stream time to first byte minus the passthrough's (ms)
VS_NO_BUDGET = "x no-budget"  # req/s over the same cell of `gateway`


@dataclass(frozen=True, slots=True)
class Goal:
    """One of issue 11's targets, checked on every measured cell it names."""

    target: str
    measure: str
    limit: float
    at_least: bool  # the value must be >= limit (else <= limit)
    modes: tuple[str, ...] = ("json", "stream")
    concurrencies: tuple[int, ...] | None = None  # None: every level measured


GOALS = (
    Goal("gateway", THROUGHPUT, 0.5, True, concurrencies=(1, 32)),
    Goal("gateway", ADDED_P50, 0.6, False, concurrencies=(1,)),
    Goal("gateway", ADDED_TTFB, 0.6, False, modes=("stream",), concurrencies=(1,)),
    Goal("gateway-budget", VS_NO_BUDGET, 0.85, True),
    Goal("gateway-pg", THROUGHPUT, 0.35, True, concurrencies=(32,)),
)


@dataclass(frozen=True, slots=True)
class Row:
    """One cell of the table: the median over repeats."""

    target: str
    mode: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    ttfb_p50_ms: float | None
    errors: int
    repeats: int


@dataclass(frozen=True, slots=True)
class Ratio:
    """A gateway cell against the passthrough's (and the budgeted one against `gateway`)."""

    target: str
    mode: str
    concurrency: int
    throughput: float
    added_p50_ms: float
    added_ttfb_ms: float | None
    vs_no_budget: float | None

    def value(self, measure: str) -> float | None:
        return {
            THROUGHPUT: self.throughput,
            ADDED_P50: self.added_p50_ms,
            ADDED_TTFB: self.added_ttfb_ms,
            VS_NO_BUDGET: self.vs_no_budget,
        }[measure]


@dataclass(frozen=True, slots=True)
class Check:
    target: str
    mode: str
    concurrency: int
    measure: str
    value: float
    goal: str
    met: bool


def summarize(runs: Sequence[LoadResult]) -> list[Row]:
    cells: dict[tuple[str, str, int], list[LoadResult]] = {}
    for run in runs:
        cells.setdefault((run.target, run.mode, run.concurrency), []).append(run)
    rows = []
    for (target, mode, concurrency), group in cells.items():
        ttfbs = [r.ttfb_p50_ms for r in group if r.ttfb_p50_ms is not None]
        rows.append(
            Row(
                target=target,
                mode=mode,
                concurrency=concurrency,
                rps=round(statistics.median(r.rps for r in group), 1),
                p50_ms=round(statistics.median(r.p50_ms for r in group), 3),
                p99_ms=round(statistics.median(r.p99_ms for r in group), 3),
                ttfb_p50_ms=round(statistics.median(ttfbs), 3) if ttfbs else None,
                errors=sum(r.errors for r in group),
                repeats=len(group),
            )
        )
    return rows


def ratios(rows: Sequence[Row]) -> list[Ratio]:
    by_cell = {(r.target, r.mode, r.concurrency): r for r in rows}
    found = []
    for row in rows:
        if row.target not in GATEWAY_SPECS:
            continue
        base = by_cell.get((BASELINE, row.mode, row.concurrency))
        if base is None or base.rps == 0:
            continue
        added_ttfb = None
        if row.ttfb_p50_ms is not None and base.ttfb_p50_ms is not None:
            added_ttfb = round(row.ttfb_p50_ms - base.ttfb_p50_ms, 3)
        vs_no_budget = None
        unbudgeted = by_cell.get((NO_BUDGET, row.mode, row.concurrency))
        if GATEWAY_SPECS[row.target].budget and unbudgeted is not None and unbudgeted.rps:
            vs_no_budget = round(row.rps / unbudgeted.rps, 3)
        found.append(
            Ratio(
                target=row.target,
                mode=row.mode,
                concurrency=row.concurrency,
                throughput=round(row.rps / base.rps, 3),
                added_p50_ms=round(row.p50_ms - base.p50_ms, 3),
                added_ttfb_ms=added_ttfb,
                vs_no_budget=vs_no_budget,
            )
        )
    return found


def check_goals(found: Sequence[Ratio], goals: Sequence[Goal] = GOALS) -> list[Check]:
    checks = []
    for goal in goals:
        for ratio in found:
            if ratio.target != goal.target or ratio.mode not in goal.modes:
                continue
            if goal.concurrencies is not None and ratio.concurrency not in goal.concurrencies:
                continue
            value = ratio.value(goal.measure)
            if value is None:
                continue
            met = value >= goal.limit if goal.at_least else value <= goal.limit
            checks.append(
                Check(
                    ratio.target,
                    ratio.mode,
                    ratio.concurrency,
                    goal.measure,
                    value,
                    _goal_text(goal),
                    met,
                )
            )
    return checks


def _goal_text(goal: Goal) -> str:
    if goal.measure in (THROUGHPUT, VS_NO_BUDGET):
        return f"{'>=' if goal.at_least else '<='} {goal.limit:g}x"
    return f"{'>=' if goal.at_least else '<='} {goal.limit:g} ms"


def _value_text(measure: str, value: float) -> str:
    if measure in (THROUGHPUT, VS_NO_BUDGET):
        return f"{value:.2f}x"
    return f"{value:+.2f} ms"


def table(headers: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(
    rows: Sequence[Row], found: Sequence[Ratio], checks: Sequence[Check], repeat: int
) -> str:
    note = f" (median of {repeat} runs)" if repeat > 1 else ""
    parts = [
        f"Throughput and latency{note}:",
        table(
            ["target", "mode", "conc", "req/s", "p50 ms", "p99 ms", "TTFB p50", "errors"],
            [
                [
                    r.target,
                    r.mode,
                    str(r.concurrency),
                    f"{r.rps:.1f}",
                    f"{r.p50_ms:.2f}",
                    f"{r.p99_ms:.2f}",
                    _ms(r.ttfb_p50_ms),
                    str(r.errors),
                ]
                for r in rows
            ],
        ),
    ]
    if found:
        parts += [
            "",
            "Gateways against the bare passthrough (x bare: req/s ratio; added: gateway minus "
            "passthrough; x no-budget: the budgeted gateway's req/s over `gateway`'s):",
            table(
                [
                    "target",
                    "mode",
                    "conc",
                    "x bare",
                    "added p50 ms",
                    "added TTFB ms",
                    "x no-budget",
                ],
                [
                    [
                        f.target,
                        f.mode,
                        str(f.concurrency),
                        f"{f.throughput:.2f}x",
                        f"{f.added_p50_ms:+.2f}",
                        "-" if f.added_ttfb_ms is None else f"{f.added_ttfb_ms:+.2f}",
                        "-" if f.vs_no_budget is None else f"{f.vs_no_budget:.2f}x",
                    ]
                    for f in found
                ],
            ),
        ]
    if checks:
        met = sum(c.met for c in checks)
        parts += [
            "",
            f"Issue 11 targets: {met} of {len(checks)} met "
            "(gateway-w2 and gateway-pg2 are reported, without a target):",
            table(
                ["target", "mode", "conc", "measure", "value", "goal", "result"],
                [
                    [
                        c.target,
                        c.mode,
                        str(c.concurrency),
                        c.measure,
                        _value_text(c.measure, c.value),
                        c.goal,
                        "met" if c.met else "NOT MET",
                    ]
                    for c in checks
                ],
            ),
        ]
    return "\n".join(parts)
