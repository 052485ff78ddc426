"""/readyz's report (api/readiness.py): every check named with its finding, a failing or slow
check makes the process not ready without breaking the route, and one measurement a second."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import HEAD_REVISION, upgrade
from api.readiness import Readiness, database_check
from tests.support.private_services import free_port


async def test_ready_when_every_check_passes_and_measured_once_a_second() -> None:
    runs = 0

    async def fine() -> None:
        nonlocal runs
        runs += 1

    readiness = Readiness({"database": fine, "writer": fine}, ttl=60)
    reports = await asyncio.gather(*(readiness.report() for _ in range(20)))
    assert runs == 2  # the 20 callers shared one measurement of the two checks
    assert all(r.ready for r in reports)
    body = reports[0].body()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "writer"}
    assert body["checks"]["writer"]["ok"] is True


async def test_a_failing_raising_or_slow_check_is_a_finding() -> None:
    async def fine() -> None:
        return None

    async def backed_up() -> str:
        return "the writer is backed up"

    async def broken() -> None:
        raise KeyError("secret detail")

    async def slow() -> None:
        await asyncio.sleep(10)

    readiness = Readiness(
        {"ok": fine, "writer": backed_up, "broken": broken, "slow": slow}, deadline=0.05
    )
    report = await readiness.report()
    assert not report.ready
    checks = report.body()["checks"]
    assert checks["ok"] == {"ok": True, "ms": checks["ok"]["ms"]}
    assert checks["writer"]["problem"] == "the writer is backed up"
    assert checks["broken"]["problem"] == "failed (KeyError)"  # no exception text
    assert checks["slow"]["problem"] == "no answer within 0.05s"


async def test_the_database_check_names_a_schema_behind_the_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ready.db'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        check = database_check(engine)
        assert await check() is None
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert (
            await check() == f"the schema is at 0001, this code needs {HEAD_REVISION}: run migrate"
        )
    finally:
        await engine.dispose()
    missing = create_engine(f"postgresql://postgres:pw@127.0.0.1:{free_port()}/nowhere")
    try:
        problem = await database_check(missing)()
        assert problem is not None
        assert problem.startswith("the database does not answer (")
        assert "127.0.0.1" not in problem
        assert "pw" not in problem
    finally:
        await missing.dispose()
