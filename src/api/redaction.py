"""Secrets never reach a log line: a filter on every handler masks key-shaped strings and the
configured secrets, in messages and in tracebacks."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# Client keys, and the shapes of OpenAI, Anthropic and Google keys.
_KEY_SHAPES = re.compile(r"bzk_[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}")
MASK = "[redacted]"


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str | None]) -> None:
        known = set(self._secrets) | {s for s in secrets if s and len(s) >= 8}
        self._secrets = sorted(known, key=len, reverse=True)  # longest first: no partial masks

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _KEY_SHAPES.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install_redaction(secrets: Iterable[str | None]) -> RedactingFilter:
    """Attach the process's one filter to the handlers of the root and uvicorn loggers (handler
    filters also see records propagated from child loggers), adding these secrets to it."""
    _FILTER.add(secrets)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
    return _FILTER


_FILTER = RedactingFilter()


def url_password(url: str | None) -> str | None:
    """The password in a connection URL (`scheme://user:password@host/...`), to be masked."""
    if not url:
        return None
    return urlsplit(url).password or None
