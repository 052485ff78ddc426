"""The load generator against the fake upstream: streams get a time to first byte, several URLs
share the connections, every request sent is counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.load import run_load
from bench.upstream import UpstreamProtocol


class CountingUpstream(UpstreamProtocol):
    answered = 0

    def on_message_complete(self) -> None:
        type(self).answered += 1
        super().on_message_complete()


class FirstUpstream(CountingUpstream):
    answered = 0


class SecondUpstream(CountingUpstream):
    answered = 0


async def start(protocol: type[UpstreamProtocol]) -> tuple[asyncio.Server, str]:
    server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1/chat/completions"


@pytest.fixture
async def upstreams() -> AsyncIterator[list[str]]:
    FirstUpstream.answered = SecondUpstream.answered = 0
    first, first_url = await start(FirstUpstream)
    second, second_url = await start(SecondUpstream)
    yield [first_url, second_url]
    for server in (first, second):
        server.close()
        await server.wait_closed()


async def test_a_stream_has_a_time_to_first_byte_within_its_latency(
    upstreams: list[str],
) -> None:
    result = await run_load(upstreams[0], stream=True, concurrency=2, requests=40)

    assert result.errors == 0
    assert result.sent == 40
    assert result.completed == 40
    assert result.ttfb_p50_ms is not None
    assert result.ttfb_p99_ms is not None
    assert 0 < result.ttfb_p50_ms <= result.p50_ms


async def test_a_json_answer_has_no_time_to_first_byte(upstreams: list[str]) -> None:
    result = await run_load(upstreams[0], stream=False, concurrency=1, requests=10)

    assert result.errors == 0
    assert result.completed == 10
    assert result.ttfb_p50_ms is None


async def test_workers_split_between_urls(upstreams: list[str]) -> None:
    result = await run_load(upstreams, stream=False, concurrency=4, requests=200)

    assert result.errors == 0
    assert FirstUpstream.answered + SecondUpstream.answered == 200
    assert FirstUpstream.answered > 0
    assert SecondUpstream.answered > 0
