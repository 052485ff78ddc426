"""`bizgraph wallets show|top-up|adjust|mode` and `ledger verify` over the wallets: what an
operator types, on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import environment, run


def test_wallets_from_the_command_line(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0
    client_id = run(env, "clients", "create", "--name", "Acme", "--margin", "30").stdout.split()[1]

    mode = run(env, "wallets", "mode", client_id, "prepaid")
    first = run(env, "wallets", "top-up", client_id, "--amount", "40", "--reference", "wire-7")
    again = run(env, "wallets", "top-up", client_id, "--amount", "40", "--reference", "wire-7")
    adjusted = run(env, "wallets", "adjust", client_id, "--amount", "-2.5", "--reason", "fee")
    shown = run(env, "wallets", "show", client_id)
    verified = run(env, "ledger", "verify")
    bad = run(env, "wallets", "top-up", client_id, "--amount", "-1")
    no_reason = run(env, "wallets", "adjust", client_id, "--amount", "1", "--reason", " ")
    unknown = run(env, "wallets", "show", "nobody")

    assert mode.returncode == 0, mode.stderr
    assert f"{client_id} prepaid balance 0 USD" in mode.stdout
    assert "balance 40 USD" in first.stdout
    assert "already credited" in again.stdout
    assert "balance 37.5 USD" in adjusted.stdout
    assert "top_up\t40\twire-7\toperator" in shown.stdout
    assert "adjustment\t-2.5\t" in shown.stdout
    assert "2 entries in all" in shown.stdout
    assert verified.returncode == 0, verified.stderr
    assert "wallets agree" in verified.stdout
    for failed in (bad, no_reason, unknown):
        assert failed.returncode == 1
        assert failed.stderr.startswith("error:")
        assert "Traceback" not in failed.stderr
