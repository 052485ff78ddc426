"""OpenTelemetry traces of model calls: a gateway of its own (SQLite, the session's fake
upstreams) whose tracer exports to the SDK's in-memory exporter, driven over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from adapters.tracing import otlp_tracer
from api.app import create_app
from api.container import close_container, make_container
from api.serving import server_options
from tests.api.conftest import Admin, Upstreams, _seed, gateway_settings
from tests.support.databases import sqlite_database
from tests.support.servers import serve_in_thread
from tests.upstreams.anthropic_fake import AnthropicScript

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
PROMPT = "a prompt that must never reach a span"
MODEL = "openai/gpt-4o-mini"


@dataclass
class Traced:
    url: str
    secret: str
    spans: InMemorySpanExporter

    def post(self, body: dict[str, object], **headers: str) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.secret}", **headers}
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, headers=headers)

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())


async def _prepared(tmp: Path, upstreams: Upstreams) -> tuple[str, str]:
    async with sqlite_database(tmp) as url:
        settings = gateway_settings(url, upstreams)
        await _seed(settings)
        container = make_container(settings)
        try:
            _, secret = await Admin(container).client_with_key()
        finally:
            await close_container(container)
    return url, secret


@pytest.fixture(scope="module")
def traced(upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    tmp = tmp_path_factory.mktemp("traced")
    with ThreadPoolExecutor(1) as thread:  # a loop of its own, away from pytest-asyncio's
        url, secret = thread.submit(asyncio.run, _prepared(tmp, upstreams)).result()
    exporter = InMemorySpanExporter()
    container = make_container(gateway_settings(url, upstreams))
    tracer = otlp_tracer(SimpleSpanProcessor(exporter))  # exported as each span ends
    container.tracer.override(providers.Object(tracer))
    app = create_app(container.settings(), container)
    with serve_in_thread(app, **server_options()) as base_url:
        yield Traced(base_url, secret, exporter)


@pytest.fixture
def spans(traced: Traced) -> Traced:
    traced.spans.clear()
    return traced


def _chat(stream: bool = False) -> dict[str, object]:
    return {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": stream}


def _one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def _children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[str]:
    """Their names, in the order they started."""
    assert parent.context is not None
    found = [s for s in spans if s.parent and s.parent.span_id == parent.context.span_id]
    return [s.name for s in sorted(found, key=lambda s: s.start_time or 0)]


def _attributes(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def test_a_call_continues_the_callers_trace_with_its_stages_and_genai_attributes(
    spans: Traced, upstreams: Upstreams
) -> None:
    answer = spans.post(_chat(), traceparent=TRACEPARENT)
    assert answer.status_code == 200
    finished = spans.finished()

    call = _one(finished, f"chat {MODEL}")
    assert call.kind is SpanKind.SERVER
    assert call.context is not None
    assert call.parent is not None
    assert format(call.context.trace_id, "032x") == TRACE_ID
    assert format(call.parent.span_id, "016x") == PARENT_ID
    assert _children(finished, call) == ["auth", "hold", "chat gpt-4o-mini", "settle"]
    assert {s.context.trace_id for s in finished if s.context} == {call.context.trace_id}
    attributes = _attributes(call)
    assert attributes["gen_ai.request.model"] == MODEL
    assert attributes["http.response.status_code"] == 200
    assert attributes["bizgraph.request.id"] == answer.headers["x-request-id"]
    assert call.status.status_code is StatusCode.UNSET

    upstream = _one(finished, "chat gpt-4o-mini")
    assert upstream.kind is SpanKind.CLIENT
    assert _attributes(upstream) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2025-01-01",  # what the fake says answered
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 7,
        "bizgraph.model": MODEL,
        "bizgraph.usage.estimated": False,
        "server.address": "127.0.0.1",
        "server.port": int(upstreams.urls["openai"].rsplit(":", 1)[1]),
    }

    # The provider was called within the upstream span, in the caller's trace.
    sent = upstreams.openai.last.header("traceparent")
    assert upstream.context is not None
    assert sent == f"00-{TRACE_ID}-{upstream.context.span_id:016x}-01"


def test_no_prompt_completion_or_secret_reaches_a_span(spans: Traced, upstreams: Upstreams) -> None:
    assert spans.post(_chat(), traceparent=TRACEPARENT).status_code == 200
    values = [str(v) for s in spans.finished() for v in _attributes(s).values()]
    names = [s.name for s in spans.finished()]
    for secret in (PROMPT, upstreams.openai.reply, spans.secret, upstreams.openai.api_key):
        assert not any(secret in text for text in [*values, *names])


def test_a_call_without_traceparent_starts_a_trace_of_its_own(
    spans: Traced, upstreams: Upstreams
) -> None:
    assert spans.post(_chat()).status_code == 200
    call = _one(spans.finished(), f"chat {MODEL}")
    assert call.parent is None
    assert call.context is not None
    assert format(call.context.trace_id, "032x") != TRACE_ID
    sent = upstreams.openai.last.header("traceparent")
    assert sent is not None
    assert sent.split("-")[1] == format(call.context.trace_id, "032x")


def test_a_stream_has_a_relay_span_and_the_call_ends_once_settled(
    spans: Traced, upstreams: Upstreams
) -> None:
    answer = spans.post(_chat(stream=True), traceparent=TRACEPARENT)
    assert answer.status_code == 200
    assert answer.text.endswith("data: [DONE]\n\n")
    finished = spans.finished()
    call = _one(finished, f"chat {MODEL}")
    assert _children(finished, call) == ["auth", "hold", "chat gpt-4o-mini", "relay", "settle"]
    assert call.end_time is not None
    assert all(s.end_time is not None and s.end_time <= call.end_time for s in finished)
    upstream = _attributes(_one(finished, "chat gpt-4o-mini"))
    assert upstream["gen_ai.usage.input_tokens"] == 12
    assert upstream["gen_ai.usage.output_tokens"] == 7
    assert upstream["gen_ai.response.model"] == "gpt-4o-mini-2025-01-01"
    relay = _attributes(_one(finished, "relay"))
    assert relay["bizgraph.relay.output_chars"] == len(upstreams.openai.reply)
    assert upstreams.openai.last.header("traceparent") is not None


def test_a_failed_upstream_call_marks_its_span_and_the_calls_with_an_error(
    spans: Traced, upstreams: Upstreams
) -> None:
    upstreams.openai.status = 500
    answer = spans.post(_chat(), traceparent=TRACEPARENT)
    assert answer.status_code >= 500
    finished = spans.finished()
    upstream = _one(finished, "chat gpt-4o-mini")
    assert upstream.status.status_code is StatusCode.ERROR
    assert _attributes(upstream)["error.type"] == "500"
    assert "gen_ai.usage.input_tokens" not in _attributes(upstream)
    call = _one(finished, f"chat {MODEL}")
    assert call.status.status_code is StatusCode.ERROR
    assert _attributes(call)["error.type"] == str(answer.status_code)
    settle = _one(finished, "settle")  # the failed attempt is still billed (zero usage)
    assert settle.status.status_code is StatusCode.UNSET


def test_a_refused_call_is_the_clients_error_not_the_gateways(spans: Traced) -> None:
    answer = httpx.post(
        f"{spans.url}/v1/chat/completions",
        json=_chat(),
        headers={"authorization": "Bearer bzk_not_a_key", "traceparent": TRACEPARENT},
    )
    assert answer.status_code == 401
    call = _one(spans.finished(), "chat")  # no model known: the operation alone
    assert call.status.status_code is StatusCode.UNSET
    assert _attributes(call)["error.type"] == "401"
    auth = _one(spans.finished(), "auth")
    assert auth.status.status_code is StatusCode.ERROR
    assert _attributes(auth) == {"error.type": "InvalidApiKey"}


def test_listing_models_is_not_a_call(spans: Traced) -> None:
    headers = {"authorization": f"Bearer {spans.secret}"}
    assert httpx.get(f"{spans.url}/v1/models", headers=headers).status_code == 200
    assert spans.finished() == []


def test_each_attempt_of_a_fallback_has_its_span_and_carries_its_own_context(
    spans: Traced, upstreams: Upstreams
) -> None:
    upstreams.openai.status = 503
    upstreams.anthropic.enqueue(AnthropicScript(text="Fallback", input_tokens=10, output_tokens=5))
    body = {**_chat(), "model": "openai/flaky"}
    assert spans.post(body, traceparent=TRACEPARENT).status_code == 200
    finished = spans.finished()
    call = _one(finished, "chat openai/flaky")
    assert _children(finished, call) == [
        "auth",
        "hold",
        "chat gpt-flaky",
        "chat claude-haiku-4-5",
        "settle",
    ]
    assert call.status.status_code is StatusCode.UNSET
    failed = _one(finished, "chat gpt-flaky")
    assert failed.status.status_code is StatusCode.ERROR
    assert _attributes(failed)["error.type"] == "503"
    answered = _one(finished, "chat claude-haiku-4-5")
    assert answered.status.status_code is StatusCode.UNSET
    attributes = _attributes(answered)
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.request.model"] == "claude-haiku-4-5"
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (
        10,
        5,
    )
    assert failed.context is not None
    assert answered.context is not None
    sent_openai = upstreams.openai.last.header("traceparent")
    assert sent_openai == f"00-{TRACE_ID}-{failed.context.span_id:016x}-01"
    sent_anthropic = upstreams.anthropic.requests[-1].headers.get("traceparent")
    assert sent_anthropic == f"00-{TRACE_ID}-{answered.context.span_id:016x}-01"


def test_a_stream_cut_by_the_provider_fails_its_upstream_relay_and_call_spans(
    spans: Traced, upstreams: Upstreams
) -> None:
    script = upstreams.openai
    script.reply, script.break_after, script.usage = "word " * 50, 3, None
    answer = spans.post(_chat(stream=True), traceparent=TRACEPARENT)
    assert answer.status_code == 200  # the failure came after the first byte
    finished = spans.finished()
    for name in (f"chat {MODEL}", "chat gpt-4o-mini", "relay"):
        span = _one(finished, name)
        assert span.status.status_code is StatusCode.ERROR, name
        assert _attributes(span)["error.type"] == "connection", name
    upstream = _attributes(_one(finished, "chat gpt-4o-mini"))
    assert upstream["bizgraph.usage.estimated"] is True
    assert _one(finished, "settle").status.status_code is StatusCode.UNSET
