"""How `bizgraph serve` runs uvicorn (the tests serve the app the same way): uvloop, and
httptools with request heads bounded. httptools itself takes a header of any size (it grows
the value in memory until the line ends: one 200 MB header took 48 s and 400 MB), so the
protocol counts a request's head as it arrives and answers 431 past 64 KiB or 100 header
fields, then closes the connection; nothing reaches the app."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024  # request line and header fields together
MAX_HEADER_FIELDS = 100


class HeadTooLarge(Exception):
    """Raised from a parser callback; the parser stops and the connection gets a 431."""


class BoundedHeadProtocol(HttpToolsProtocol):
    # Two counts: the exact size of the parsed request line and fields (from the callbacks),
    # and the raw bytes received since the head began, for a head that has not ended yet
    # (httptools only calls back once a header value is complete).
    _head_bytes = 0
    _head_fields = 0
    _received_in_head = 0
    _in_head = True
    _head_too_large = False

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._received_in_head += len(data)
        super().data_received(data)
        if self._in_head and self._received_in_head > MAX_HEAD_BYTES and not self._closed():
            self._head_too_large = True
            self.send_400_response("")  # answered with the 431 below

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._head_fields = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url), 0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, 1)  # "name: value\r\n"
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._received_in_head = True, 0  # the next request's head

    def send_400_response(self, msg: str) -> None:
        if not self._head_too_large:
            super().send_400_response(msg)
            return
        message = (
            f"request header fields too large: at most {MAX_HEAD_BYTES} bytes"
            f" and {MAX_HEADER_FIELDS} fields\n"
        ).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(message)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + message
        )
        self.transport.close()

    def _count(self, size: int, fields: int) -> None:
        self._head_bytes += size
        self._head_fields += fields
        if self._head_bytes > MAX_HEAD_BYTES or self._head_fields > MAX_HEADER_FIELDS:
            self._head_too_large = True
            raise HeadTooLarge  # the parser raises; uvicorn answers through send_400_response

    def _closed(self) -> bool:
        return self.transport is None or self.transport.is_closing()


def server_options() -> dict[str, Any]:
    """uvicorn's event loop and HTTP protocol, for `bizgraph serve` and the tests alike."""
    return {"loop": "uvloop", "http": BoundedHeadProtocol}
