"""`bizgraph serve` itself (uvloop, its own protocol class) bounds request heads: 431 past
the limit, the process serving on afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from api.serving import MAX_HEAD_BYTES
from tests.cli.test_cli import environment, run, serve  # noqa: F401 (serve is a fixture)
from tests.support.raw_http import connect, read_answer, request_head


def test_serve_answers_431_to_an_oversized_head(
    tmp_path: Path,
    serve: Callable[[dict[str, str]], str],  # noqa: F811 (the fixture imported above)
) -> None:
    env = environment(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    assert run(env, "migrate").returncode == 0
    url = serve(env)

    with connect(url) as sock:
        sock.sendall(request_head("GET", "/healthz", {"x-big": "a" * MAX_HEAD_BYTES}))
        refused = read_answer(sock)

    assert refused.status == 431
    assert httpx.get(url + "/healthz").status_code == 200
