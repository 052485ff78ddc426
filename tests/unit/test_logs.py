"""JSON log lines (api/logs.py): the fields, the request context, uvicorn's access fields,
exceptions as one string, and redaction through the same configuration `bizgraph serve` uses."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import logging.config
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from api.logs import JsonFormatter, begin_request, note_call, uvicorn_log_config
from api.redaction import MASK
from api.settings import LogFormat, load_settings, log_format
from api.settings_values import SettingsError

KEY = "bzk_live_SECRETSECRETSECRETSECRET"


def record(
    message: str, *args: Any, name: str = "bizgraph.test", **extra: Any
) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args or None, None)
    made.__dict__.update(extra)
    return made


def formatted(made: logging.LogRecord) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(JsonFormatter().format(made))
    return found


def test_a_line_has_time_level_logger_and_message_and_no_request_outside_one() -> None:
    line = formatted(record("%d calls", 3))

    assert line["level"] == "WARNING"
    assert line["logger"] == "bizgraph.test"
    assert line["message"] == "3 calls"
    assert line["time"].endswith("Z")
    assert "T" in line["time"]
    assert "request_id" not in line


def test_the_request_context_and_extra_fields_are_added() -> None:
    def inside_a_request() -> dict[str, Any]:
        begin_request("req_abc")
        before = formatted(record("authorizing"))
        assert "client_id" not in before
        note_call("client-1", "openai/gpt-4o-mini")
        return formatted(record("done", status=502, duration_ms=12.5))

    line = contextvars.copy_context().run(inside_a_request)

    assert line["request_id"] == "req_abc"
    assert (line["client_id"], line["model"]) == ("client-1", "openai/gpt-4o-mini")
    assert (line["status"], line["duration_ms"]) == (502, 12.5)
    assert "request_id" not in formatted(record("after"))  # the context stayed in its copy


def test_a_task_started_in_a_request_sees_the_client_noted_later() -> None:
    async def request() -> dict[str, Any]:
        begin_request("req_task")
        noted = asyncio.Event()

        async def sender() -> dict[str, Any]:  # a stream's sender, started before authorize
            await noted.wait()
            return formatted(record("chunk"))

        task = asyncio.create_task(sender())
        note_call("client-2", "m")
        noted.set()
        return await task

    line = asyncio.run(request())

    assert (line["request_id"], line["client_id"]) == ("req_task", "client-2")


def test_uvicorn_access_arguments_become_fields() -> None:
    def inside_a_request() -> dict[str, Any]:
        begin_request("req_access")
        args = ("203.0.113.9:51000", "GET", "/v1/models", "1.1", 200)
        return formatted(record('%s - "%s %s HTTP/%s" %d', *args, name="uvicorn.access"))

    line = contextvars.copy_context().run(inside_a_request)

    assert line["message"] == '203.0.113.9:51000 - "GET /v1/models HTTP/1.1" 200'
    assert (line["client_addr"], line["method"], line["path"]) == (
        "203.0.113.9:51000",
        "GET",
        "/v1/models",
    )
    assert (line["http_version"], line["status"]) == ("1.1", 200)
    assert line["request_id"] == "req_access"
    assert line["duration_ms"] >= 0


def test_an_exception_is_one_string_field_with_secrets_masked() -> None:
    try:
        raise RuntimeError(f"upstream refused {KEY}")
    except RuntimeError:
        made = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())

    line = formatted(made)

    assert line["message"] == "boom"
    assert "Traceback" in line["exception"]
    assert "RuntimeError" in line["exception"]
    assert KEY not in line["exception"]


@pytest.fixture
def serve_logging() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """`bizgraph serve`'s JSON configuration applied here, its streams captured; the loggers it
    touches are restored afterwards."""
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = [
        (
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    ]
    out, err = io.StringIO(), io.StringIO()
    config = uvicorn_log_config(LogFormat.JSON)
    for handler in config["handlers"].values():
        handler["stream"] = out if handler["stream"] == "ext://sys.stdout" else err
    logging.config.dictConfig(config)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    try:
        yield out, err
    finally:
        for n, (handlers, level, propagate) in zip(names, saved, strict=True):
            logger = logging.getLogger(n)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def test_secrets_are_masked_in_json_messages_and_access_paths(
    serve_logging: tuple[io.StringIO, io.StringIO],
) -> None:
    out, err = serve_logging

    logging.getLogger("bizgraph.test").warning("key %s refused, also in %s", KEY, f"x{KEY}")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/healthz?key={KEY}", "1.1", 200
    )

    (message,) = [orjson.loads(line) for line in err.getvalue().splitlines()]
    (access,) = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert KEY not in err.getvalue() + out.getvalue()
    assert message["message"] == f"key {MASK} refused, also in x{MASK}"
    assert access["path"] == f"/healthz?key={MASK}"


def test_the_text_configuration_keeps_uvicorns_formatters() -> None:
    config = uvicorn_log_config(LogFormat.TEXT)

    assert config["formatters"]["access"]["()"] == "uvicorn.logging.AccessFormatter"
    assert config["root"] == {"handlers": ["root"], "level": "WARNING"}
    assert all(h["filters"] == ["redact"] for h in config["handlers"].values())


def test_the_log_format_setting() -> None:
    assert load_settings({"BIZGRAPH_ENV": "development"}).log_format is LogFormat.TEXT
    assert log_format({"BIZGRAPH_LOG_FORMAT": "JSON"}) is LogFormat.JSON
    with pytest.raises(SettingsError, match="BIZGRAPH_LOG_FORMAT must be text or json, not 'xml'"):
        load_settings({"BIZGRAPH_ENV": "development", "BIZGRAPH_LOG_FORMAT": "xml"})
