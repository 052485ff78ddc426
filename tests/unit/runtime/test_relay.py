"""The relay settles every stream, whatever the client does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from domain.metering.tokens import TokenUsage
from domain.providers import ProviderError, ProviderFailure
from domain.runtime_ports import Outcome
from runtime.relay import Relay


class ScriptedStream:
    def __init__(self, items: int, fail_after: int | None = None, delay: float = 0) -> None:
        self.usage: TokenUsage | None = None
        self.closed = False
        self._items, self._fail_after, self._delay = items, fail_after, delay

    def __aiter__(self) -> AsyncIterator[str]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[str]:
        for i in range(self._items):
            if self._fail_after is not None and i == self._fail_after:
                raise ProviderError(ProviderFailure.CONNECTION, "cut")
            await asyncio.sleep(self._delay)
            yield "xx"
        self.usage = TokenUsage(input_tokens=3, output_tokens=self._items)

    async def aclose(self) -> None:
        self.closed = True


def relay_for(stream: ScriptedStream, drain: float = 5.0) -> tuple[Relay, list[Outcome]]:
    settled: list[Outcome] = []

    async def settle(outcome: Outcome) -> None:
        settled.append(outcome)

    return Relay(stream, "xx", len, settle, drain_seconds=drain, buffer=4), settled


async def test_a_consumer_reading_to_the_end_gets_every_item_then_settlement() -> None:
    stream = ScriptedStream(10)
    relay, settled = relay_for(stream)

    items = [item async for item in relay]

    assert len(items) == 11  # the first event, then ten more
    assert len(settled) == 1
    assert settled[0].output_chars == 22
    assert stream.usage == TokenUsage(input_tokens=3, output_tokens=10)
    assert stream.closed


async def test_a_consumer_that_leaves_does_not_stop_the_upstream_being_read() -> None:
    stream = ScriptedStream(50, delay=0.001)
    relay, settled = relay_for(stream)

    async for _ in relay:
        break
    await relay.wait_settled()

    assert len(settled) == 1
    assert stream.usage is not None  # read to the usage report after the client left
    assert not settled[0].cut_short


async def test_a_consumer_that_never_starts_reading_still_gets_the_call_settled() -> None:
    stream = ScriptedStream(50)
    relay, settled = relay_for(stream, drain=0.05)

    await asyncio.wait_for(relay.wait_settled(), timeout=5)

    assert len(settled) == 1
    assert stream.closed


async def test_a_provider_failure_mid_stream_is_reported_to_settlement() -> None:
    stream = ScriptedStream(10, fail_after=3)
    relay, settled = relay_for(stream)

    items = [item async for item in relay]

    assert len(items) == 4
    assert isinstance(settled[0].error, ProviderError)
    assert relay.outcome.error is settled[0].error


async def test_a_stream_checkpoints_the_output_it_relayed_at_most_every_interval() -> None:
    noted: list[int] = []

    async def settle(outcome: Outcome) -> None:
        pass

    every_chunk = Relay(
        ScriptedStream(5), "xx", len, settle, 5.0, checkpoint=noted.append, checkpoint_seconds=0
    )
    _ = [item async for item in every_chunk]
    assert noted == [4, 6, 8, 10, 12]  # running totals, the first event included

    noted.clear()
    rarely = Relay(
        ScriptedStream(5), "xx", len, settle, 5.0, checkpoint=noted.append, checkpoint_seconds=60
    )
    _ = [item async for item in rarely]
    assert noted == []  # a short stream costs no checkpoint write at all
