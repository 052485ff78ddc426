"""The snapshot cache keeps what exists, never what a caller merely names: a stream of
made-up model names leaves memory where it was (the catalog is read once per revision)."""

from __future__ import annotations

import gc
import tracemalloc

from domain.catalog.models import Model
from runtime.lookups import Lookups
from tests.fakes import FakeUnitOfWorkFactory

NAMES = 20_000  # of 200 characters: 4 MB and more if they were kept


class FixedRevision:
    async def current(self) -> int:
        return 1


async def test_unknown_model_names_are_not_kept() -> None:
    uow = FakeUnitOfWorkFactory()
    async with uow() as tx:
        await tx.catalog.save_model(Model("demo/chat", "demo", "chat"))
        await tx.commit()
    snapshot = await Lookups(uow, FixedRevision()).snapshot()
    assert await snapshot.model("demo/chat") is not None  # the catalog is read and cached

    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    for i in range(NAMES):
        name = f"{i:08d}".ljust(200, "x")
        assert await snapshot.model(name) is None
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert after - before < 512 * 1024
    assert await snapshot.model("demo/chat") == Model("demo/chat", "demo", "chat")
