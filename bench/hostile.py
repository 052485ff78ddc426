"""What hostile requests cost now: each hostile GraphQL document (tests/support/hostile.py)
through the served schema, and the JSON nesting check on a typical and on maximal bodies
(time of `parse_json`, which includes orjson's parse, next to orjson's parse alone).

    .venv/bin/python -m bench.hostile
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson

from api.graphql.schema import build_schema
from api.request_body import parse_json
from tests.support.hostile import HOSTILE_DOCUMENTS, padded_with_comment

MAX_BODY = 10 * 1024 * 1024  # BIZGRAPH_MAX_BODY_BYTES' default


def best_ms(action: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


async def documents() -> None:
    served = build_schema(development=False)
    shapes = {**HOSTILE_DOCUMENTS, "one comment up to the body limit (served)": padded_with_comment}
    for name, make in shapes.items():
        document = make()
        start = time.perf_counter()
        answer = await served.execute(document)
        elapsed = 1000 * (time.perf_counter() - start)
        outcome = "refused" if answer.data is None else "served"
        print(f"  {name:45s} {len(document):7d} B  {elapsed:7.1f} ms  {outcome}")


def bodies() -> None:
    typical = orjson.dumps(
        {
            "model": "openai/gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Summarise: " + "lorem ipsum " * 40},
            ],
            "max_tokens": 200,
        }
    )
    nest = b"[" * 63 + b"]" * 63
    shapes = {
        "typical chat body": typical,
        "10 MiB of text in one message": orjson.dumps(
            {"messages": [{"role": "user", "content": "[{" * (MAX_BODY // 2 - 64)}]}
        ),
        "10 MiB of empty arrays": b"[" + b"[]," * (MAX_BODY // 3 - 2) + b"[]]",
        "10 MiB of 63-deep arrays": b"[" + b",".join([nest] * (MAX_BODY // 127 - 1)) + b"]",
    }
    for name, body in shapes.items():
        parse = best_ms(lambda body=body: orjson.loads(body))
        checked = best_ms(lambda body=body: parse_json(body))
        print(f"  {name:32s} {len(body):9d} B  orjson {parse:8.3f} ms  checked {checked:8.3f} ms")


def main() -> None:
    print("GraphQL documents (schema.execute, production schema):")
    asyncio.run(documents())
    print("JSON bodies (nesting bounded at 64):")
    bodies()


if __name__ == "__main__":
    main()
