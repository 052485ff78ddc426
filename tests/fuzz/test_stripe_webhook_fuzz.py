"""The fuzzing stage for POST /webhooks/stripe: Stripe events of every type Bizgraph reads,
mutated into wrong types and sizes and then signed with the endpoint's secret (so they pass
the signature and reach the event reader), plus raw bytes signed or not. Every answer is
below 500 and a 4xx is `{"error": {"message", "code"}}`; the gateway serves afterwards."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.payment_settings import StripeSettings
from tests.api.conftest import Upstreams, gateway_settings
from tests.fuzz.conftest import _client_key, _database
from tests.fuzz.shapes import mutated
from tests.fuzz.test_http_fuzz import FUZZ, RAW
from tests.support.servers import serve_in_thread
from tests.upstreams.anthropic_fake import AnthropicFake
from tests.upstreams.gemini_fake import GeminiScript
from tests.upstreams.openai_fake import OpenAIScript
from tests.upstreams.stripe_fake import sign

SECRET = "whsec_fuzz"
# Signature headers that are valid HTTP header values (others never reach the route).
HEADERS = st.text(alphabet=string.ascii_letters + string.digits + "=,._-", max_size=80)
IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=30)
UNITS = st.integers(min_value=0, max_value=10**9)
CURRENCIES = st.sampled_from(["usd", "jpy", "kwd", "eur"])
META = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["invoice", "top_up", "auto_top_up", "other"]),
        "client_id": IDS,
        "invoice_id": IDS,
    }
)
OBJECTS = {
    "checkout.session.completed": st.fixed_dictionaries(
        {
            "id": IDS, "payment_intent": IDS, "customer": IDS, "amount_total": UNITS,
            "currency": CURRENCIES, "payment_status": st.sampled_from(["paid", "unpaid"]),
            "metadata": META,
        }
    ),
    "payment_intent.succeeded": st.fixed_dictionaries(
        {
            "id": IDS, "amount": UNITS, "amount_received": UNITS, "currency": CURRENCIES,
            "customer": IDS, "latest_charge": IDS, "metadata": META,
        }
    ),
    "payment_intent.payment_failed": st.fixed_dictionaries(
        {
            "id": IDS, "amount": UNITS, "currency": CURRENCIES, "metadata": META,
            "last_payment_error": st.fixed_dictionaries({"message": st.text(max_size=40)}),
        }
    ),
    "charge.refunded": st.fixed_dictionaries(
        {"id": IDS, "payment_intent": IDS, "amount_refunded": UNITS, "currency": CURRENCIES}
    ),
    "charge.dispute.created": st.fixed_dictionaries(
        {"id": IDS, "charge": IDS, "payment_intent": IDS, "amount": UNITS, "currency": CURRENCIES}
    ),
}  # fmt: skip


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(OBJECTS)))
    return {
        "id": "evt_" + draw(IDS),
        "object": "event",
        "type": kind,
        "created": draw(st.integers(0, 2**33)),
        "data": {"object": draw(OBJECTS[kind])},
    }


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, httpx.Client]]:
    fakes = Upstreams(OpenAIScript(), AnthropicFake(), GeminiScript())
    unused = "http://127.0.0.1:9"  # no model call is made here
    fakes.urls = {"openai": unused, "anthropic": unused, "gemini": unused}
    url = asyncio.run(_database(Path(tmp_path_factory.mktemp("fuzz-stripe"))))
    stripe = StripeSettings("sk_test_fuzz", SECRET, "https://billing.example")
    settings = dataclasses.replace(gateway_settings(url, fakes), stripe=stripe)
    asyncio.run(_client_key(settings))
    with (
        serve_in_thread(create_app(settings)) as base_url,
        httpx.Client(timeout=httpx.Timeout(15.0)) as http,
    ):
        yield base_url, http


def _post(hook: tuple[str, httpx.Client], content: bytes, signature: str | None) -> None:
    base, http = hook
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["stripe-signature"] = signature
    response = http.post(base + "/webhooks/stripe", content=content, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str), error
        assert error["message"], error
        assert isinstance(error["code"], str), error


@FUZZ
@given(event=st.one_of(mutated(events(), keep=("id",)), events()))
def test_signed_events(hook: tuple[str, httpx.Client], event: Any) -> None:
    payload = json.dumps(event).encode()
    _post(hook, payload, sign(payload, SECRET))


@FUZZ
@given(body=RAW, signed=st.booleans(), header=HEADERS)
def test_raw_bodies(hook: tuple[str, httpx.Client], body: bytes, signed: bool, header: str) -> None:
    _post(
        hook,
        body,
        sign(body, SECRET) if signed else header.encode("latin-1", "replace").decode("latin-1"),
    )


def test_the_gateway_is_healthy_after_the_fuzzing(hook: tuple[str, httpx.Client]) -> None:
    base, http = hook
    assert http.get(base + "/healthz").status_code == 200
