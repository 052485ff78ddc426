"""`bizgraph invoices send|resend|deliveries` and `bizgraph dunning run|overdue` as an
operator runs them, against a local SMTP sink; without SMTP, send fails with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.cli.test_cli import environment, run
from tests.support.smtp_sink import smtp_sink

SRC = Path(__file__).resolve().parents[2] / "src"


def cli_environment(tmp_path: Path) -> dict[str, str]:
    """This checkout's code first (a shared virtualenv may point at another checkout)."""
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    env["PYTHONPATH"] = str(SRC)
    return env


def close_an_invoice(env: dict[str, str], email: str | None = "ap@acme.test") -> str:
    assert run(env, "migrate").returncode == 0
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    options = ["--email", email] if email else []
    created = run(
        env,
        "clients",
        "create",
        "--name",
        "Acme",
        "--monthly-fee",
        "120",
        "--plan-from",
        month_start.isoformat(),
        *options,
    )
    assert created.returncode == 0, created.stderr
    closed = run(env, "invoices", "close", "--period", month_start.strftime("%Y-%m"), "--early")
    assert closed.returncode == 0, closed.stderr
    return closed.stdout.split("\t")[0]


def test_send_resend_and_history_through_smtp(tmp_path: Path) -> None:
    env = cli_environment(tmp_path)
    env["BIZGRAPH_INVOICE_EMAIL"] = "off"  # on demand only
    with smtp_sink() as sink:
        env.update(
            BIZGRAPH_SMTP_HOST=sink.host,
            BIZGRAPH_SMTP_PORT=str(sink.port),
            BIZGRAPH_SMTP_SECURITY="none",
            BIZGRAPH_SMTP_FROM="billing@agency.test",
        )
        number = close_an_invoice(env)
        sent = run(env, "invoices", "send", number)
        assert sent.returncode == 0, sent.stderr
        assert "\tinvoice\tsent\tap@acme.test\tattempts=1" in sent.stdout
        twice = run(env, "invoices", "send", number)
        assert twice.returncode == 1
        assert "resend" in twice.stderr
        again = run(env, "invoices", "resend", number)
        assert again.returncode == 0, again.stderr
        assert len(sink.received) == 2
        assert number in str(sink.received[0].message["Subject"])
    history = run(env, "invoices", "deliveries", number)
    assert history.stdout.count("\tsent\t") == 2
    dunning = run(env, "dunning", "run")
    assert dunning.returncode == 0, dunning.stderr
    assert dunning.stdout.startswith("0 overdue")
    assert run(env, "dunning", "overdue").stdout == ""
    unknown = run(env, "invoices", "send", "INV-1999-0001")
    assert unknown.returncode == 1
    assert "no invoice" in unknown.stderr


def test_without_smtp_send_fails_and_says_why(tmp_path: Path) -> None:
    env = cli_environment(tmp_path)
    number = close_an_invoice(env)
    refused = run(env, "invoices", "send", number)
    assert refused.returncode == 1
    assert "BIZGRAPH_SMTP_HOST" in refused.stderr
