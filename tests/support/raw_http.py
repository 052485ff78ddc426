"""HTTP/1.1 over a raw socket, for what clients libraries refuse to send: chunked bodies that
never end, huge headers, several requests on one keep-alive connection."""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def connect(base_url: str, timeout: float = 30) -> socket.socket:
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: test", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket) -> Answer:
    """One response (Content-Length or chunked body) from the socket."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"connection closed before a response: {buffer!r}")
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(rest) < length:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
        return Answer(int(status_line.split()[1]), headers, rest[:length])
    body = b""
    while True:  # chunked
        while b"\r\n" not in rest:
            rest += sock.recv(65536)
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        while len(rest) < size + 2:
            rest += sock.recv(65536)
        body, rest = body + rest[:size], rest[size + 2 :]
        if size == 0:
            return Answer(int(status_line.split()[1]), headers, body)


def exchange(
    sock: socket.socket, method: str, path: str, headers: dict[str, str], body: bytes
) -> Answer:
    sock.sendall(request_head(method, path, {**headers, "content-length": str(len(body))}) + body)
    return read_answer(sock)


def stream_until_answered(
    base_url: str, path: str, headers: dict[str, str], total: int, chunk: int = 64 * 1024
) -> tuple[Answer, int]:
    """POST a chunked body of `total` bytes (no Content-Length), stopping as soon as the
    server answers; returns the answer and how many bytes were sent by then."""
    head = request_head("POST", path, {**headers, "transfer-encoding": "chunked"})
    piece = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"
    return send_until_answered(base_url, head, piece, total, b"0\r\n\r\n")


def send_until_answered(
    base_url: str, start: bytes, piece: bytes, total: int, end: bytes
) -> tuple[Answer, int]:
    """Send `start`, then `piece` over and over up to `total` bytes, then `end`, stopping as
    soon as the server answers (or closes); returns the answer and the bytes sent by then."""
    sock = connect(base_url)
    sent = 0
    try:
        sock.sendall(start)
        pending = b""
        while sent < total or pending:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable or not writable:  # answered, or stuck for 30 s
                break
            pending = pending or piece
            try:
                done = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            pending, sent = pending[done:], sent + done
        else:
            sock.sendall(end)
        return read_answer(sock), sent
    finally:
        sock.close()
