"""Request heads are bounded by the protocol `bizgraph serve` runs (api/serving.py): past
64 KiB or 100 header fields the answer is 431 and the connection closes, however slowly or
quickly the head arrives, before the app or httptools' buffers see the rest (before: one
200 MB header took 48 s and 400 MB)."""

from __future__ import annotations

import httpx

from api.serving import MAX_HEAD_BYTES, MAX_HEADER_FIELDS
from tests.api.conftest import Gateway
from tests.support.raw_http import connect, read_answer, request_head, send_until_answered

HUGE = 256 * 1024 * 1024  # never sent in full


def test_one_endless_header_is_refused_as_it_arrives(gateway: Gateway) -> None:
    start = b"GET /healthz HTTP/1.1\r\nhost: test\r\nx-big: "

    answer, sent = send_until_answered(gateway.url, start, b"a" * 65536, HUGE, b"\r\n\r\n")

    assert answer.status == 431
    assert answer.headers["connection"] == "close"
    assert sent < HUGE // 4


def test_an_endless_url_is_refused_as_it_arrives(gateway: Gateway) -> None:
    answer, sent = send_until_answered(
        gateway.url, b"GET /healthz?", b"a" * 65536, HUGE, b" HTTP/1.1\r\nhost: t\r\n\r\n"
    )

    assert answer.status == 431
    assert sent < HUGE // 4


def _get(gateway: Gateway, headers: dict[str, str]) -> int:
    with connect(gateway.url) as sock:
        sock.sendall(request_head("GET", "/healthz", headers))
        return read_answer(sock).status


def test_heads_within_the_limits_are_served_and_past_them_refused(gateway: Gateway) -> None:
    # "host: test" and the request line take the rest of the room
    filler = {"x-fill": "a" * (MAX_HEAD_BYTES - 200)}
    over = {"x-fill": "a" * (MAX_HEAD_BYTES + 1)}
    many = {f"x-h{i}": "1" for i in range(MAX_HEADER_FIELDS - 1)}
    too_many = {f"x-h{i}": "1" for i in range(MAX_HEADER_FIELDS)}

    assert _get(gateway, filler) == 200
    assert _get(gateway, over) == 431  # complete heads arriving at once are counted too
    assert _get(gateway, many) == 200
    assert _get(gateway, too_many) == 431
    assert httpx.get(gateway.url + "/healthz").status_code == 200  # the server is fine
