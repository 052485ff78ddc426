"""Secrets never reach a log line: a filter on every handler masks secret-shaped strings and the
configured secrets, in messages, their arguments and tracebacks.

The record keeps its format string and arguments (each argument redacted on its own), because
some formatters read `record.args` themselves: uvicorn's access formatter unpacks it into
client address, method, path, HTTP version and status."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from domain.access.keys import KEY_PREFIX
from domain.access.principals import PORTAL_PREFIX, STAFF_PREFIX
from domain.alerting.webhooks import SECRET_PREFIX as WEBHOOK_SECRET_PREFIX

if TYPE_CHECKING:
    from api.settings import Settings

# Every shape of secret the product issues or holds, in one list (docs/security in SECURITY.md).
SECRET_SHAPES: tuple[str, ...] = (
    # Issued here: client API keys (any bzk_ family, not only bzk_live_), staff and portal
    # tokens, webhook signing secrets.
    re.escape(KEY_PREFIX.split("_")[0] + "_") + r"[A-Za-z0-9_\-]{8,}",
    re.escape(STAFF_PREFIX) + r"[A-Za-z0-9_\-]{8,}",
    re.escape(PORTAL_PREFIX) + r"[A-Za-z0-9_\-]{8,}",
    re.escape(WEBHOOK_SECRET_PREFIX) + r"[A-Za-z0-9_\-]{8,}",
    # Held for the agency: OpenAI and Anthropic (sk-, sk-ant-), Google (AIza) keys.
    r"sk-[A-Za-z0-9_\-]{16,}",
    r"AIza[0-9A-Za-z_\-]{20,}",
)
_KEY_SHAPES = re.compile("|".join(SECRET_SHAPES))
# A `key=` query parameter (Gemini clients may send their key so): whatever its shape, the
# access log's request line never shows it.
_KEY_PARAMETER = re.compile(r"([?&](?:key|api_key|x-goog-api-key)=)[^&\s\"']+", re.IGNORECASE)
MASK = "[redacted]"
_PLAIN = (int, float, type(None))  # bool is an int; none of these can hold a secret


class _Redacted(str):
    """A redacted stand-in for a log argument that is not a string: `%s` shows its redacted
    str(), `%r` its redacted repr()."""

    _repr: str

    def __new__(cls, text: str, shown: str) -> _Redacted:
        made = super().__new__(cls, text)
        made._repr = shown
        return made

    def __repr__(self) -> str:
        return self._repr


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
        text = _KEY_PARAMETER.sub(lambda m: m.group(1) + MASK, text)
        return _KEY_SHAPES.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        original = record.getMessage()
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        else:
            record.msg = self._argument(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._argument(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: self._argument(value) for key, value in record.args.items()}
        try:
            complete = self.redact(record.getMessage()) == record.getMessage()
        except (TypeError, ValueError, KeyError):
            complete = False
        if not complete:  # a secret split between format and argument: give up the arguments
            record.msg, record.args = self.redact(original), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _argument(self, value: Any) -> Any:
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, str):
            return self.redact(value)
        text, shown = str(value), repr(value)
        redacted_text, redacted_shown = self.redact(text), self.redact(shown)
        if redacted_text == text and redacted_shown == shown:
            return value  # kept as is, so %d and friends still see a number-like object
        return _Redacted(redacted_text, redacted_shown)


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


def shared_filter() -> RedactingFilter:
    """The process's one filter; also a dictConfig filter factory (api/logs.py)."""
    return _FILTER


def url_password(url: str | None) -> str | None:
    """The password in a connection URL (`scheme://user:password@host/...`), to be masked."""
    if not url:
        return None
    return urlsplit(url).password or None


def configured_secrets(settings: Settings) -> list[str | None]:
    """The configured secrets a log line (or `bizgraph doctor`'s output) must never show."""
    return [
        settings.secret_key,
        settings.admin_token,
        settings.openai.api_key,
        settings.anthropic.api_key,
        settings.gemini.api_key,
        settings.openai.admin_key,
        settings.anthropic.admin_key,
        settings.email.password if settings.email else None,
        url_password(settings.database_url),
        url_password(settings.redis_url),
        settings.metrics.token,
        settings.stripe.secret_key if settings.stripe else None,
        settings.stripe.webhook_secret if settings.stripe else None,
    ]
