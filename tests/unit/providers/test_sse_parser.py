"""Server-sent events framed from bytes as they arrive, however the reads split them."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from adapters.providers.http import SseEvent, SseParser

STREAM = (
    b": a comment, skipped\r\n"
    b"event: message_start\r\n"
    b'data: {"type": "message_start"}\r\n'
    b"\r\n"
    b"data: first line\n"
    b"data:second line, no space\n"
    b"id: 7\n"
    b"\n"
    b"event: ping\r"
    b"data: {}\r"
    b"\r"
    b"data: caf\xc3\xa9 \xe2\x80\xa8 stays on its line\n\n"
    b"event: lost\n\n"
    b"data: [DONE]"
)
EVENTS = [
    SseEvent("message_start", '{"type": "message_start"}'),
    SseEvent("message", "first line\nsecond line, no space"),
    SseEvent("ping", "{}"),
    SseEvent("message", "caf\u00e9 \u2028 stays on its line"),
    SseEvent("message", "[DONE]"),
]


def parse(chunks: list[bytes]) -> list[SseEvent]:
    parser = SseParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return events + parser.end()


def test_a_stream_read_whole() -> None:
    assert parse([STREAM]) == EVENTS


def test_a_stream_read_byte_by_byte() -> None:
    assert parse([STREAM[i : i + 1] for i in range(len(STREAM))]) == EVENTS


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_a_stream_split_anywhere(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    assert parse([STREAM[a:b] for a, b in itertools.pairwise(bounds)]) == EVENTS


def test_a_crlf_split_between_two_reads_is_one_line_end() -> None:
    assert parse([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [SseEvent("message", "a\nb")]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert parse([b"data: \xff\xfe\n\n"]) == [SseEvent("message", "\ufffd\ufffd")]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert parse([b"event: empty\n\n: only a comment\n\n"]) == []
