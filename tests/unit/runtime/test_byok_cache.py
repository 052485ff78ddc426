"""The hot path's BYOK cache (runtime/byok_cache.py): one load per configuration revision,
nothing read at all while calls present the same snapshot, and `last used` times written at
most once per interval, in the background."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.byok.credentials import ByokSettings, ClientByok
from runtime.byok_cache import ByokCache

AT = datetime(2026, 1, 1, tzinfo=UTC)


class Revision:
    def __init__(self) -> None:
        self.value = 1
        self.reads = 0

    async def current(self) -> int:
        self.reads += 1
        return self.value


async def test_one_load_per_revision_and_no_read_for_the_same_snapshot() -> None:
    loads: list[int] = []
    revision = Revision()

    async def load() -> dict[str, ClientByok]:
        loads.append(revision.value)
        return {"c": ClientByok(ByokSettings("c"), ())}

    cache = ByokCache(load, revision)
    snapshot = object()
    first = await cache.for_client("c", snapshot)
    for _ in range(5):
        assert await cache.for_client("c", snapshot) is first
    assert await cache.for_client("other", snapshot) is None
    assert (loads, revision.reads) == ([1], 1)

    revision.value = 2
    assert await cache.for_client("c", object()) is not None
    assert (loads, revision.reads) == ([1, 2], 2)
    assert await cache.for_client("c") is not None  # no snapshot: the revision is read
    assert (loads, revision.reads) == ([1, 2], 3)


async def test_last_used_times_are_written_at_most_once_per_interval() -> None:
    written: list[dict[str, datetime]] = []

    async def load() -> dict[str, ClientByok]:
        return {}

    async def touch(used: dict[str, datetime]) -> None:
        written.append(used)

    cache = ByokCache(load, Revision(), touch=touch, now=lambda: AT, touch_every=3600)
    for _ in range(10):
        cache.note_used("cred-1")
    cache.note_used("cred-2")
    assert written == []
    await cache.flush()
    assert written == [{"cred-1": AT, "cred-2": AT}]
