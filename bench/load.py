"""Closed-loop load generator: `concurrency` workers, each sending its next request as soon as
the previous one is fully read, over one aiohttp session with keep-alive connections.

A run warms up (connections opened, caches filled), then measures a timed window: throughput is
the requests that ended in the window divided by its length, latencies are theirs (for streams,
the time to the end of the stream, `data: [DONE]` included, and the time to the first byte of
the body). At the end of the window workers finish the request they have in flight, so every
request sent also completes (`sent` counts them all, warm-up included: the number the gateway
must have metered). With several URLs (several server processes), worker i sends to URL
i mod n, so connections are split evenly between them.

    python -m bench.load --url http://127.0.0.1:8080/v1/chat/completions --key bzk_... \\
        --concurrency 32 --stream --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import aiohttp
import orjson
import uvloop

MODEL = "openai/gpt-4o-mini"
_DONE = b"data: [DONE]\n\n"


def request_body(model: str, stream: bool) -> bytes:
    body: dict[str, object] = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "Say hello in five words."},
        ],
        "max_tokens": 16,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return orjson.dumps(body)


@dataclass(frozen=True, slots=True)
class LoadResult:
    target: str
    mode: str  # "json" or "stream"
    concurrency: int
    seconds: float  # the measured window
    completed: int  # successful requests that ended in the window
    sent: int  # every request sent, warm-up and the tail after the window included
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    first_error: str | None = None
    ttfb_p50_ms: float | None = None  # streams: request sent to the first byte of the body
    ttfb_p99_ms: float | None = None


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class _Run:
    def __init__(self, stream: bool) -> None:
        self.stream = stream
        self.window_start = math.inf
        self.window_end = math.inf
        self.remaining: int | None = None  # a fixed request count instead of a time window
        self.stop = False
        self.sent = 0
        self.errors = 0
        self.first_error: str | None = None
        self.latencies: list[float] = []
        self.first_bytes: list[float] = []  # streams only

    def failed(self, reason: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = reason

    def check(self, status: int, payload: bytes) -> str | None:
        """Why an answer is not a proper success, or None."""
        if status != 200:
            return f"HTTP {status}: {payload[:200]!r}"
        if self.stream and not payload.endswith(_DONE):
            return f"stream did not end with [DONE]: {payload[-200:]!r}"
        if not self.stream and b'"usage"' not in payload:
            return f"answer without usage: {payload[:200]!r}"
        return None


async def _worker(
    run: _Run, session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> None:
    clock = time.perf_counter
    while not run.stop:
        if run.remaining is not None:
            if run.remaining <= 0:
                return
            run.remaining -= 1
        run.sent += 1
        started = clock()
        first_byte = started
        try:
            async with session.post(url, data=body, headers=headers) as response:
                if run.stream:
                    head = await response.content.readany()
                    first_byte = clock()
                    payload = head + await response.content.read()  # to the end of the stream
                else:
                    payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            run.failed(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(0.01)
            continue
        ended = clock()
        problem = run.check(status, payload)
        if problem is not None:
            run.failed(problem)
        elif run.window_start <= started and ended <= run.window_end:
            run.latencies.append(ended - started)
            if run.stream:
                run.first_bytes.append(first_byte - started)


async def run_load(
    url: str | Sequence[str],
    *,
    api_key: str = "sk-bench",
    stream: bool = False,
    concurrency: int = 1,
    duration: float = 5.0,
    warmup: float = 1.0,
    requests: int | None = None,
    target: str = "",
    model: str = MODEL,
) -> LoadResult:
    """Measure one cell. With `requests`, send exactly that many (no warm-up, all measured).
    With several URLs, worker i sends to URL i mod n."""
    urls = [url] if isinstance(url, str) else list(url)
    run = _Run(stream)
    body = request_body(model, stream)
    headers = {"content-type": "application/json", "authorization": f"Bearer {api_key}"}
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",)
    ) as session:
        workers = [
            asyncio.create_task(_worker(run, session, urls[i % len(urls)], body, headers))
            for i in range(concurrency)
        ]
        started = time.perf_counter()
        if requests is not None:
            run.remaining = requests
            run.window_start = started
            await asyncio.gather(*workers)
            seconds = time.perf_counter() - started
        else:
            run.window_start = started + warmup
            run.window_end = run.window_start + duration
            await asyncio.sleep(warmup + duration)
            run.stop = True
            await asyncio.gather(*workers)
            seconds = duration
    latencies = sorted(run.latencies)
    first_bytes = sorted(run.first_bytes)
    return LoadResult(
        target=target,
        mode="stream" if stream else "json",
        concurrency=concurrency,
        seconds=round(seconds, 3),
        completed=len(latencies),
        sent=run.sent,
        errors=run.errors,
        rps=round(len(latencies) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(latencies, 50) * 1000, 3),
        p99_ms=round(percentile(latencies, 99) * 1000, 3),
        mean_ms=round(sum(latencies) / len(latencies) * 1000, 3) if latencies else 0.0,
        first_error=run.first_error,
        ttfb_p50_ms=round(percentile(first_bytes, 50) * 1000, 3) if stream else None,
        ttfb_p99_ms=round(percentile(first_bytes, 99) * 1000, 3) if stream else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Closed-loop load against a chat endpoint.")
    parser.add_argument("--url", required=True, action="append", help="repeat to split connections")
    parser.add_argument("--key", default="sk-bench")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--requests", type=int, help="send exactly N requests instead")
    parser.add_argument("--model", default=MODEL)
    args = parser.parse_args()
    result = uvloop.run(
        run_load(
            args.url,
            api_key=args.key,
            stream=args.stream,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            requests=args.requests,
            model=args.model,
        )
    )
    sys.stdout.write(orjson.dumps(asdict(result)).decode() + "\n")
    if result.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
