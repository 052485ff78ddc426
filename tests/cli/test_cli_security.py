"""`bizgraph serve` as an operator runs it: weak configured secrets are refused in production
with a clear message (development accepts them), and `--access-log` writes one redacted line
per request, without a logging traceback."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.cli.test_cli import BIZGRAPH, environment, free_port, run

STRONG = "cli-security-server-secret-0123456789abcdef"
KEY_IN_URL = "bzk_live_SECRETSECRETSECRETSECRET"


def test_serve_refuses_a_weak_admin_token_in_production_with_a_clear_message(
    tmp_path: Path,
) -> None:
    env = environment(f"sqlite:///{tmp_path / 'weak.db'}", tmp_path)
    weak = {"BIZGRAPH_SECRET_KEY": STRONG, "BIZGRAPH_ADMIN_TOKEN": "hunter2"}

    refused = run(env | weak, "serve", "--port", str(free_port()))

    assert refused.returncode == 1
    assert "BIZGRAPH_ADMIN_TOKEN is too weak for production" in refused.stderr
    assert "hunter2" not in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_access_log_writes_redacted_lines_without_tracebacks(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'access.db'}", tmp_path)
    env["BIZGRAPH_SECRET_KEY"] = STRONG
    assert run(env, "migrate").returncode == 0
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        command = [*BIZGRAPH, "serve", "--port", str(port), "--access-log"]
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert httpx.get(f"{url}/healthz?key={KEY_IN_URL}").status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=20)
    text = log_path.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in text
    assert '"GET /healthz?key=[redacted] HTTP/1.1" 200' in text
    assert "SECRETSECRET" not in text
    assert "Traceback" not in text
    assert "Logging error" not in text
