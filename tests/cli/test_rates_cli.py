"""`bizgraph rates ...` as an operator runs them (docs/currencies.md): bad input is one clear
line and exit 1; a rate set and listed; the ECB's reference file imported with its cross rates;
a fixed fee client in EUR billed in EUR; a client's currency changed only before billing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.cli.test_cli import environment, run

ECB = """Date,USD,JPY,CYP,
2026-12-04,1.0532,161.52,N/A,
2026-12-03,1.0500,160.00,,
"""


def test_rates_set_list_import_and_a_clients_currency(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    assert run(env, "migrate").returncode == 0

    bad = run(env, "rates", "set", "USD", "EUR", "0", "--effective", "2026-04-01")
    assert bad.returncode == 1
    assert "positive" in bad.stderr
    bad_pair = run(env, "rates", "set", "dollar", "EUR", "0.9", "--effective", "2026-04-01")
    assert bad_pair.returncode == 1
    assert "ISO 4217" in bad_pair.stderr
    bad_day = run(env, "rates", "set", "USD", "EUR", "0.9", "--effective", "April")
    assert bad_day.returncode == 1
    assert "YYYY-MM-DD" in bad_day.stderr
    done = run(env, "rates", "set", "usd", "eur", "0.91", "--effective", "2026-04-01")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "USD\tEUR\t0.91\t2026-04-01\tmanual\n"

    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(ECB)
    imported = run(env, "rates", "import", str(path), "--base", "USD")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "imported 4 rates for 2 days (2026-12-03 to 2026-12-04)\n"
    listed = run(env, "rates", "list", "--base", "USD", "--quote", "EUR")
    assert listed.stdout.splitlines() == [
        "USD\tEUR\t0.94948727687\t2026-12-04\tECB",
        "USD\tEUR\t0.952380952381\t2026-12-03\tECB",
        "USD\tEUR\t0.91\t2026-04-01\tmanual",
    ]
    (tmp_path / "junk.csv").write_text("hello\n")
    junk = run(env, "rates", "import", str(tmp_path / "junk.csv"))
    assert junk.returncode == 1
    assert "not an ECB reference rates file" in junk.stderr

    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    created = run(
        env, "clients", "create", "--name", "Acme", "--currency", "EUR", "--monthly-fee", "100",
        "--plan-from", month_start.isoformat(),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    client_id = created.stdout.split()[1]
    changed = run(env, "rates", "client-currency", client_id, "JPY")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == f"{client_id}\tJPY\n"
    period = month_start.strftime("%Y-%m")
    refused = run(env, "invoices", "close", "--period", period, "--early")
    assert refused.returncode == 0, refused.stderr
    assert f"no exchange rate EUR->JPY in force on {month_start.date()}" in refused.stderr
    first = month_start.date().isoformat()
    assert run(env, "rates", "set", "EUR", "JPY", "161.5", "--effective", first).returncode == 0
    closed = run(env, "invoices", "close", "--period", period, "--early")
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.strip().endswith("16150 JPY")  # the EUR fee at the month's first rate
    late = run(env, "rates", "client-currency", client_id, "EUR")
    assert late.returncode == 1
    assert "has invoices" in late.stderr
