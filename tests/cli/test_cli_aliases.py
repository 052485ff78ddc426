"""`bizgraph aliases set|list|remove`: what an operator types, on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import environment, run


def test_aliases_from_the_command_line(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0
    client_id = run(env, "clients", "create", "--name", "Acme", "--margin", "30").stdout.split()[1]

    agency = run(env, "aliases", "set", "gpt-4o", "demo/chat")
    own = run(env, "aliases", "set", "gpt-4o", "openai/gpt-4o-mini", "--client", client_id)
    every = run(env, "aliases", "list")
    theirs = run(env, "aliases", "list", "--client", client_id)
    removed = run(env, "aliases", "remove", "gpt-4o", "--client", client_id)
    after = run(env, "aliases", "list", "--client", client_id)

    assert agency.stdout.strip() == "alias gpt-4o -> demo/chat for every client"
    assert own.stdout.strip() == f"alias gpt-4o -> openai/gpt-4o-mini for client {client_id}"
    assert every.stdout.splitlines() == [
        "gpt-4o\tdemo/chat\t*",
        f"gpt-4o\topenai/gpt-4o-mini\t{client_id}",
    ]
    assert theirs.stdout.splitlines() == [f"gpt-4o\topenai/gpt-4o-mini\t{client_id}"]
    assert removed.stdout.strip() == "alias gpt-4o removed"
    assert after.stdout.splitlines() == ["gpt-4o\tdemo/chat\t*"]

    failures = {
        "bad name": run(env, "aliases", "set", "openai/x", "demo/chat"),
        "unknown model": run(env, "aliases", "set", "bot", "openai/nope"),
        "unknown client": run(env, "aliases", "set", "bot", "demo/chat", "--client", "nobody"),
        "not there": run(env, "aliases", "remove", "bot"),
    }
    for what, failed in failures.items():
        assert failed.returncode == 1, what
        assert failed.stderr.startswith("error:"), what
        assert "Traceback" not in failed.stderr, what
    assert "'/'" in failures["bad name"].stderr
    assert "openai/nope" in failures["unknown model"].stderr
