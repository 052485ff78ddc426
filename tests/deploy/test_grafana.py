"""deploy/grafana/bizgraph.json: valid JSON whose every PromQL expression names only metrics the
gateway exposes (read from the Prometheus adapter's own exposition, so a renamed metric fails
here), and docs/operations.md lists every metric."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from adapters.telemetry.prometheus import PrometheusTelemetry, Reading

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "bizgraph.json"
NAME = re.compile(r"\bbizgraph_[a-z_]+\b")
SERIES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exposed() -> dict[str, str]:
    """Every series name the adapter exposes, and its family's name."""
    text, _ = PrometheusTelemetry().exposition(Reading(budget_used={"c": 0.5}))
    names = {}
    for family in text_string_to_metric_families(text.decode()):
        for suffix in SERIES[family.type]:
            names[family.name + suffix] = family.name
    return names


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in expressions(item)]
    return []


def test_every_expression_names_only_exposed_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    names = exposed()
    found = expressions(dashboard)
    assert len(found) >= 20
    used = set()
    for expr in found:
        named = NAME.findall(expr)
        assert named, f"an expression over no Bizgraph metric: {expr}"
        for name in named:
            assert name in names, f"{name} (in {expr!r}) is not exposed"
            used.add(names[name])
    assert used == set(names.values())  # and the dashboard shows every metric


def test_the_checker_sees_an_unknown_metric() -> None:
    assert "bizgraph_request_total" not in exposed()  # a typo of bizgraph_requests_total
    assert "bizgraph_requests_total" in exposed()


def test_docs_list_every_metric() -> None:
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = docs.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    for family in set(exposed().values()):
        shown = family + "_total" if family + "_total" in exposed() else family
        assert f"`{shown}" in section, f"{shown} is not documented"
