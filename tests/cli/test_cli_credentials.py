"""`bizgraph credentials set|list|remove|settings|rotate`: what an operator types, on SQLite,
with the provider check answered by the strict OpenAI fake. The key is read from a variable,
never printed whole, and a rotation moves every credential to the new secret's key."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import environment, run
from tests.support.servers import serve_in_thread
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

KEY = "sk-client-cli-key-4321"
# This checkout's code (the console script's own path may point at another checkout's src).
SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_credentials_from_the_command_line(tmp_path: Path) -> None:
    script = OpenAIScript(client_keys={KEY})
    with serve_in_thread(openai_fake_app(script)) as upstream:
        env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
        env.update(
            OPENAI_BASE_URL=upstream + "/v1",
            BIZGRAPH_SECRET_KEY="cli-secret-one-" + "x" * 32,
            CLIENT_KEY=KEY,
            WRONG_KEY="sk-wrong-key-0000",
            PYTHONPATH=SRC,
        )
        assert run(env, "migrate").returncode == 0
        created = run(env, "clients", "create", "--name", "Acme", "--margin", "30")
        client_id = created.stdout.split()[1]

        stored = run(env, "credentials", "set", client_id, "openai", "--key-env", "CLIENT_KEY")
        refused = run(env, "credentials", "set", client_id, "openai", "--key-env", "WRONG_KEY")
        listed = run(env, "credentials", "list", client_id)
        fee = run(
            env, "credentials", "settings", client_id, "--fee", "percent_of_list", "--amount", "5"
        )
        bad_fee = run(
            env, "credentials", "settings", client_id, "--fee", "per_request", "--amount", "x"
        )
        env_rotated = {
            **env,
            "BIZGRAPH_SECRET_KEY": "cli-secret-two-" + "y" * 32,
            "OLD_SECRET": env["BIZGRAPH_SECRET_KEY"],
        }
        rotated = run(env_rotated, "credentials", "rotate", "--old-secret-env", "OLD_SECRET")
        again = run(env_rotated, "credentials", "rotate", "--old-secret-env", "OLD_SECRET")
        credential_id = listed.stdout.split()[0]
        removed = run(env_rotated, "credentials", "remove", client_id, credential_id)

    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.strip().endswith("openai …4321")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error:")
    assert "refused the key" in refused.stderr
    assert "Traceback" not in refused.stderr
    [line] = listed.stdout.splitlines()
    assert line.split("\t")[1:4] == ["openai", "…4321", "*"]
    assert fee.returncode == 0, fee.stderr
    assert bad_fee.returncode == 1
    assert bad_fee.stderr.startswith("error:")
    assert "Traceback" not in bad_fee.stderr
    assert rotated.stdout.strip() == "1 credentials re-encrypted under the current key"
    assert again.stdout.strip() == "1 credentials re-encrypted under the current key"
    assert removed.stdout.strip() == f"credential {credential_id} removed"
    for result in (stored, refused, listed, fee, rotated, removed):
        assert KEY not in result.stdout + result.stderr
