"""`bizgraph tax ...` and `bizgraph export invoices|ledger` as an operator runs them: a
standard-rate client refused until its country has a rate, then invoiced at it, and the
period exported as a balanced journal CSV that names its accounts and tax code."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tests.cli.test_cli import environment, run


def test_rates_treatment_details_close_and_export(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    env["BIZGRAPH_ACCOUNT_CODES"] = "receivables=1400,fixed_fee=8400,tax=1776"
    # The console script runs this checkout's code (the shared virtualenv may point elsewhere).
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    assert run(env, "migrate").returncode == 0
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    created = run(
        env, "clients", "create", "--name", "Acme", "--monthly-fee", "100",
        "--plan-from", month_start.isoformat(),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    client_id = created.stdout.split()[1]
    period = month_start.strftime("%Y-%m")

    bad_rate = run(env, "tax", "set-rate", "Germany", "19", "--from", "2021-01-01")
    assert bad_rate.returncode == 1
    assert "two-letter" in bad_rate.stderr
    bad_day = run(env, "tax", "set-rate", "DE", "19", "--from", "yesterday")
    assert bad_day.returncode == 1
    assert "YYYY-MM-DD" in bad_day.stderr
    no_country = run(env, "tax", "treatment", client_id, "standard")
    assert no_country.returncode == 1
    assert "country" in no_country.stderr
    details = run(
        env, "tax", "details", client_id, "--legal-name", "Acme GmbH", "--line", "Hauptstr. 1",
        "--city", "Berlin", "--postal-code", "10115", "--country", "de", "--tax-id", "DE811",
    )  # fmt: skip
    assert details.returncode == 0, details.stderr
    assert "address\tDE" in details.stdout
    assert run(env, "tax", "treatment", client_id, "standard").returncode == 0

    refused = run(env, "invoices", "close", "--period", period, "--early")
    assert refused.returncode == 0, refused.stderr
    assert "no tax rate for DE" in refused.stderr
    assert "0 invoices" in refused.stderr
    assert run(env, "tax", "set-rate", "de", "19", "--from", "2021-01-01").returncode == 0
    assert run(env, "tax", "rates").stdout == "DE\t-\t19\t2021-01-01\n"
    agency = run(
        env, "tax", "agency", "--legal-name", "Agency GmbH", "--tax-id", "DE123",
        "--terms-days", "14", "--bank", "IBAN DE89",
    )  # fmt: skip
    assert agency.returncode == 0, agency.stderr
    closed = run(env, "invoices", "close", "--period", period, "--early")
    assert closed.returncode == 0, closed.stderr
    number, _, total = closed.stdout.strip().split("\t")
    assert total == "119.00 USD"

    export = run(env, "export", "invoices", "--period", period, "--format", "csv")
    assert export.returncode == 0, export.stderr
    assert "1 entries, balanced" in export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert [(r["account"], r["debit"], r["credit"]) for r in rows] == [
        ("1400", "119.00", "0"),
        ("8400", "0", "100.00"),
        ("1776", "0", "19.00"),
    ]
    assert {(r["reference"], r["tax_code"], r["client_tax_id"]) for r in rows} == {
        (number, "S19", "DE811")
    }
    out = tmp_path / "ledger.csv"
    ledger = run(env, "export", "ledger", "--period", period, "--output", str(out))
    assert ledger.returncode == 0, ledger.stderr
    lines = list(csv.DictReader(io.StringIO(out.read_text())))
    debit = sum(Decimal(r["debit"]) for r in lines)
    assert debit == sum(Decimal(r["credit"]) for r in lines) > 0
    bad_codes = run(
        {**env, "BIZGRAPH_ACCOUNT_CODES": "nope=1"}, "export", "ledger", "--period", period
    )
    assert bad_codes.returncode == 1
    assert "BIZGRAPH_ACCOUNT_CODES" in bad_codes.stderr
