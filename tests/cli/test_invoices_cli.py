"""`bizgraph invoices close|list` and `bizgraph ledger verify` as an operator runs them."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.cli.test_cli import environment, run


def test_close_list_and_verify_then_a_tampered_ledger_fails(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = environment(f"sqlite:///{db}", tmp_path)
    assert run(env, "migrate").returncode == 0
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    created = run(
        env,
        "clients",
        "create",
        "--name",
        "Acme",
        "--monthly-fee",
        "120",
        "--tax-rate",
        "10",
        "--plan-from",
        month_start.isoformat(),
    )
    assert created.returncode == 0, created.stderr
    period = month_start.strftime("%Y-%m")

    not_ended = run(env, "invoices", "close", "--period", period)
    assert not_ended.returncode == 1
    assert "has not ended" in not_ended.stderr
    bad = run(env, "invoices", "close", "--period", "2026-13")
    assert bad.returncode == 1
    assert "YYYY-MM" in bad.stderr

    client_id = created.stdout.split()[1]
    bad_credit = run(env, "invoices", "grant-credit", client_id, "--amount", "-1", "--reason", "x")
    assert bad_credit.returncode == 1
    assert "positive" in bad_credit.stderr
    credit = run(env, "invoices", "grant-credit", client_id, "--amount", "2", "--reason", "sorry")
    assert credit.returncode == 0, credit.stderr
    closed = run(env, "invoices", "close", "--period", period, "--early")
    assert closed.returncode == 0, closed.stderr
    number, _, total = closed.stdout.strip().split("\t")
    assert number == f"INV-{period[:4]}-0001"
    assert total == "129.80 USD"  # (120.00 - 2.00 credit) + 10 % tax
    again = run(env, "invoices", "close", "--period", period, "--early")
    assert again.stdout == ""
    assert "0 invoices" in again.stderr
    listed = run(env, "invoices", "list", "--period", period)
    assert listed.stdout.startswith(number)

    verified = run(env, "ledger", "verify")
    assert verified.returncode == 0, verified.stderr
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO ledger_entries VALUES (?, ?, 'fee', '5', 'USD', ?, ?, 'stray')",
            (str(uuid.uuid4()), client_id, datetime.now(UTC).isoformat(), "stray"),
        )
    tampered = run(env, "ledger", "verify")
    assert tampered.returncode == 1
    assert "owes" in tampered.stderr
