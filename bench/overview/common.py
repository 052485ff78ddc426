"""Settings and helpers every part of the overview benchmark shares."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from api.settings import Settings
from domain.billing.periods import period_containing

RESULTS = Path(__file__).resolve().parent.parent / "results" / "overview.json"
ADMIN_URL = os.environ.get(
    "BIZGRAPH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TARGET_MS = 200.0
UTC_ZONE = ZoneInfo("UTC")


def bench_settings(url: str, admin_token: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key=secrets.token_urlsafe(36),
        admin_token=admin_token,
        timezone=UTC_ZONE,
    )


def previous_month(now: datetime) -> str:
    return period_containing(now, UTC_ZONE).previous().label


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
