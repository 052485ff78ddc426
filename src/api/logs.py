"""Log output: plain text (the default) or one JSON object per line (BIZGRAPH_LOG_FORMAT=json,
docs/operations.md "Logs").

In JSON mode each line carries the request it was written for: RequestIdMiddleware puts a
`RequestContext` in a context variable and `authorize` fills in the client and model once they
are known. uvicorn writes its access line from inside the app's own `send` call (the response
start), so that line sees the same context and carries the request id too. In text mode the
context variable is never set: the hot path does no extra work."""

from __future__ import annotations

import copy
import logging
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from api.redaction import shared_filter
from api.settings import LogFormat

ACCESS_LOGGER = "uvicorn.access"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Fields a call may also pass in `extra=` (they win over the context's).
EXTRA_FIELDS = ("request_id", "client_id", "model", "status", "duration_ms")


class RequestContext:
    """What is known of the request being served; mutable, so a value noted in the handler is
    seen by tasks started from it (a stream's sender) and by the access line."""

    __slots__ = ("client_id", "model", "request_id", "started")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.started = time.perf_counter()
        self.client_id: str | None = None
        self.model: str | None = None


_CURRENT: ContextVar[RequestContext | None] = ContextVar("bizgraph_request", default=None)


def begin_request(request_id: str) -> None:
    """Called by RequestIdMiddleware, in JSON mode only; each request runs in its own task,
    whose context copy dies with it, so nothing is reset."""
    _CURRENT.set(RequestContext(request_id))


def note_call(client_id: str, model: str) -> None:
    """The client and model of the current request, once authorized (no-op in text mode)."""
    context = _CURRENT.get()
    if context is not None:
        context.client_id = client_id
        context.model = model


def current_request() -> RequestContext | None:
    return _CURRENT.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the request's
    fields when known, uvicorn's access fields, and `exception` as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _CURRENT.get()
        if context is not None:
            entry["request_id"] = context.request_id
            if context.client_id is not None:
                entry["client_id"] = context.client_id
                entry["model"] = context.model
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            # uvicorn's call: '%s - "%s %s HTTP/%s" %d' with these arguments (already redacted
            # by the handler's filter, which runs before the formatter).
            entry["client_addr"], entry["method"], entry["path"] = args[0], args[1], args[2]
            entry["http_version"], entry["status"] = args[3], args[4]
            if context is not None:  # written when the response starts: time to its headers
                entry["duration_ms"] = round((time.perf_counter() - context.started) * 1000, 3)
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            # The redaction filter formats (and masks) it first; mask here too for a handler
            # configured without the filter.
            record.exc_text = shared_filter().redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return orjson.dumps(entry, default=str).decode()


def configure_cli_logging(log_format: LogFormat) -> None:
    """The root logger of a CLI command (warnings and up, on stderr), redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format is LogFormat.JSON else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(shared_filter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def uvicorn_log_config(log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's `log_config` (a dictConfig) for `bizgraph serve`: uvicorn applies it in the
    serving process and again in each `--workers` child. Text mode keeps uvicorn's own
    formatters; both modes give the root logger a handler (a worker has none otherwise, so its
    warnings went to logging's last-resort handler, unredacted) and redact every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "api.redaction.shared_filter"}}
    if log_format is LogFormat.JSON:
        # One dict each: dictConfig pops "()" from the dict it configures.
        config["formatters"] = {
            name: {"()": "api.logs.JsonFormatter"} for name in ("default", "access", "plain")
        }
    else:
        config["formatters"]["plain"] = {"format": TEXT_FORMAT}
    config["handlers"]["root"] = {
        "formatter": "plain",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["root"] = {"handlers": ["root"], "level": "WARNING"}
    return config
