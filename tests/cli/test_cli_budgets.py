"""`bizgraph budgets set|show|remove` and `keys limits`: what an operator types, on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import environment, run


def test_budgets_and_rate_limits_from_the_command_line(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0
    client_id = run(env, "clients", "create", "--name", "Acme", "--margin", "30").stdout.split()[1]
    key_id = run(env, "keys", "issue", client_id).stderr.split()[1]

    created = run(env, "budgets", "set", client_id, "--limit", "12.50", "--threshold", "75")
    keyed = run(env, "budgets", "set", client_id, "--key", key_id, "--limit", "2", "--mode", "soft")
    shown = run(env, "budgets", "show", client_id)
    limits = run(env, "keys", "limits", key_id, "--rpm", "60")
    removed = run(env, "budgets", "remove", client_id)
    again = run(env, "budgets", "show", client_id)
    bad = run(env, "budgets", "set", client_id, "--limit", "-3")
    not_a_number = run(env, "budgets", "set", client_id, "--limit", "lots")

    assert created.returncode == 0, created.stderr
    assert f"client:{client_id} hard 12.50 USD" in created.stdout
    assert "thresholds 75" in created.stdout
    assert f"key:{key_id} soft 2 USD" in keyed.stdout
    assert "spent 0, reserved 0, remaining 12.5 " in shown.stdout
    assert "rpm 60, tpm -" in limits.stdout
    assert removed.stdout.strip() == "budget removed"
    assert (again.returncode, again.stderr.strip()) == (1, "error: no budget")
    for failed in (bad, not_a_number):
        assert failed.returncode == 1
        assert failed.stderr.startswith("error:")
        assert "Traceback" not in failed.stderr
