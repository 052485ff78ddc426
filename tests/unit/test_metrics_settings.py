"""BIZGRAPH_METRICS and BIZGRAPH_METRICS_TOKEN: off by default; on in production only with a
strong token; the serve command's private multiprocess directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.metrics import prepare_metrics_dir, remove_metrics_dir
from api.redaction import configured_secrets
from api.settings import load_settings
from api.settings_values import SettingsError

BASE = {
    "BIZGRAPH_SECRET_KEY": "metrics-settings-secret-0123456789abcdef",
    "BIZGRAPH_DATABASE_URL": "sqlite:///x.db",
}
TOKEN = "metrics-token-0123456789abcdefghijklmnop"


def test_off_by_default() -> None:
    assert not load_settings(BASE).metrics.enabled


def test_on_with_a_token() -> None:
    settings = load_settings(BASE | {"BIZGRAPH_METRICS": "true", "BIZGRAPH_METRICS_TOKEN": TOKEN})
    assert settings.metrics.enabled
    assert settings.metrics.token == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN in configured_secrets(settings)  # masked in logs


@pytest.mark.parametrize("token", [None, "short", "a" * 40])
def test_production_needs_a_strong_token(token: str | None) -> None:
    env = BASE | {"BIZGRAPH_METRICS": "true"}
    if token is not None:
        env["BIZGRAPH_METRICS_TOKEN"] = token
    with pytest.raises(SettingsError, match="BIZGRAPH_METRICS_TOKEN"):
        load_settings(env)


def test_development_may_leave_metrics_open() -> None:
    env = BASE | {"BIZGRAPH_METRICS": "true", "BIZGRAPH_ENV": "development"}
    assert load_settings(env).metrics.token is None


def test_a_bad_flag_is_refused() -> None:
    with pytest.raises(SettingsError, match="BIZGRAPH_METRICS"):
        load_settings(BASE | {"BIZGRAPH_METRICS": "sometimes"})


def test_the_private_directory_is_fresh_and_dead_servers_dirs_go(tmp_path: Path) -> None:
    settings = load_settings(BASE | {"BIZGRAPH_DATA_DIR": str(tmp_path)})
    parent = tmp_path / "prometheus"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (parent / f"serve-{dead}").mkdir(parents=True)
    (parent / f"serve-{dead}" / "counter_1.db").write_bytes(b"old")
    alive = parent / f"serve-{os.getppid()}"  # the process that ran pytest: alive
    alive.mkdir()
    mine = parent / f"serve-{os.getpid()}"
    mine.mkdir()
    (mine / "counter_2.db").write_bytes(b"stale")

    made = prepare_metrics_dir(settings)

    assert made == mine
    assert list(made.iterdir()) == []
    assert not (parent / f"serve-{dead}").exists()
    assert alive.exists()
    assert made.stat().st_mode & 0o777 == 0o700
    remove_metrics_dir(made)
    assert not made.exists()
