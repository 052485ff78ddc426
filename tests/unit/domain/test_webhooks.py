"""Webhooks in the core: outbound-URL rule, signature, payload, retry schedule, outcomes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.alerting.alerts import Alert, AlertKind
from domain.alerting.webhooks import (
    AGENCY_KINDS,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    SendResult,
    Webhook,
    after_attempt,
    event_kinds,
    payload,
    signature,
    validate_url,
)
from domain.errors import ValidationError

NOW = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "example.com/hook",
        "http://",
        "https://user:pw@example.com/hook",
        "http://example.com:99999/hook",
        "https://example.com/" + "x" * 2000,
    ],
)
def test_malformed_urls_are_refused_whatever_the_private_setting(url: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(ValidationError):
            validate_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8080/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata: link-local
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://[::]/hook",
        "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "http://100.64.0.1/hook",  # carrier-grade NAT, not global
        "http://localhost:8080/hook",
        "http://LOCALHOST./hook",
        "http://printer.local/hook",
        "http://api.localhost/hook",
    ],
)
def test_local_and_private_hosts_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(ValidationError, match="BIZGRAPH_ALLOW_PRIVATE_URLS"):
        validate_url(url, allow_private=False)
    canonical = {
        "http://LOCALHOST./hook": "http://localhost/hook",
        "http://[::ffff:127.0.0.1]/hook": "http://[::ffff:7f00:1]/hook",
    }
    assert validate_url(url, allow_private=True) == canonical.get(url, url)


@pytest.mark.parametrize(
    "url",
    [
        "http://0177.0.0.1/hook",  # octal
        "http://0x7f000001/hook",  # one hexadecimal number
        "http://0x7f.0.0.1/hook",
        "http://2130706433/hook",  # one decimal number
        "http://017700000001/hook",
        "http://127.1/hook",  # fewer than four parts
        "http://10.0.1/hook",
        "http://8.8.8.08/hook",  # a leading zero
        "http://example.123/hook",  # a numeric last label is read as an address
    ],
)
def test_non_canonical_ip_spellings_are_refused_whatever_the_private_setting(url: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(ValidationError, match=r"non-standard way.*a\.b\.c\.d"):
            validate_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/h", "http://localhost/h"),
        ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/h", "http://127.0.0.1/h"),
        ("http://127\u30020\u30020\u30021/h", "http://127.0.0.1/h"),  # ideographic full stops
        (
            "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3:81/h",
            "http://localhost:81/h",
        ),
        ("http://\uff10\uff58\uff17\uff46\uff10\uff10\uff10\uff10\uff10\uff11/h", None),
    ],
)
def test_full_width_and_other_idna_spellings_are_judged_as_what_they_map_to(
    url: str, canonical: str | None
) -> None:
    with pytest.raises(ValidationError):
        validate_url(url, allow_private=False)
    if canonical is None:  # full-width 0x7f000001: a non-canonical address once mapped
        with pytest.raises(ValidationError, match="non-standard way"):
            validate_url(url, allow_private=True)
    else:
        assert validate_url(url, allow_private=True) == canonical


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://B\u00fccher.example/x", "https://xn--bcher-kva.example/x"),
        ("https://HOOKS.Example.com.:8443/a?b=1", "https://hooks.example.com:8443/a?b=1"),
        ("https://[2606:4700:0::1111]/x", "https://[2606:4700::1111]/x"),
    ],
)
def test_public_hosts_are_stored_in_their_one_ascii_spelling(url: str, stored: str) -> None:
    assert validate_url(url, allow_private=False) == stored
    assert validate_url(stored, allow_private=False) == stored


@pytest.mark.parametrize(
    "url",
    [
        "http://a%41.example.com/h",  # percent-encoding is no part of a host name
        "http://xn--a-.example.com/h",  # punycode that does not decode to itself
        "http://a..example.com/h",
        "http://" + "a" * 64 + ".example.com/h",
        "http://exa!mple.com/h",
        "http://[fe80::1%25eth0]/h",
    ],
)
def test_hosts_no_client_can_resolve_are_refused(url: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(ValidationError):
            validate_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/bizgraph", "http://93.184.216.34:8443/x?y=1"]
)
def test_public_hosts_are_accepted(url: str) -> None:
    assert validate_url(f"  {url} ", allow_private=False) == url


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":"evt"}'
    expected = hmac.new(b"whsec_abc", body, hashlib.sha256).hexdigest()
    assert signature("whsec_abc", body) == f"sha256={expected}"
    assert signature("whsec_abd", body) != signature("whsec_abc", body)


def _alert(**overrides: object) -> Alert:
    values: dict[str, object] = {
        "id": "alert-1",
        "kind": AlertKind.SPEND_SPIKE,
        "client_id": "client-1",
        "key_id": None,
        "dedupe_key": "spike:client-1:h",
        "message": "Acme spent 12 USD in the last hour",
        "created_at": NOW,
        "details": {"last_hour": "12.000000000000000001", "currency": "USD"},
    }
    return Alert(**(values | overrides))  # type: ignore[arg-type]


def test_the_payload_carries_the_event_id_type_client_and_data_with_exact_amounts() -> None:
    body = json.loads(payload(_alert(), "Acme"))
    assert body == {
        "id": "alert-1",
        "type": "spend_spike",
        "created_at": "2026-11-30T05:00:00+00:00",
        "client": {"id": "client-1", "name": "Acme"},
        "key_id": None,
        "data": {
            "message": "Acme spent 12 USD in the last hour",
            "details": {"last_hour": "12.000000000000000001", "currency": "USD"},
        },
    }
    assert payload(_alert(), "Acme") == payload(_alert(), "Acme")  # byte-stable


def test_a_webhook_wants_its_clients_alerts_of_its_kinds_while_active() -> None:
    agency = Webhook("w1", "https://x.test", None, (AlertKind.SPEND_SPIKE,), "salt", NOW)
    own = Webhook("w2", "https://x.test", "client-1", tuple(AlertKind), "salt", NOW)
    other = Webhook("w3", "https://x.test", "client-2", tuple(AlertKind), "salt", NOW)
    spike, threshold = _alert(), _alert(kind=AlertKind.BUDGET_THRESHOLD)
    assert agency.wants(spike)
    assert not agency.wants(threshold)
    assert own.wants(spike)
    assert own.wants(threshold)
    assert not other.wants(spike)
    disabled = Webhook("w4", "https://x.test", None, tuple(AlertKind), "s", NOW, disabled_at=NOW)
    assert not disabled.wants(spike)


def test_no_event_kinds_means_every_kind_and_duplicates_collapse() -> None:
    assert event_kinds([]) == tuple(AlertKind)
    assert event_kinds([AlertKind.SPEND_SPIKE, AlertKind.SPEND_SPIKE]) == (AlertKind.SPEND_SPIKE,)


def test_the_retry_delay_doubles_up_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(max_attempts=8, base_seconds=10, cap_seconds=300, jitter=0.25)
    assert [policy.delay(n, 0).total_seconds() for n in range(1, 7)] == [
        10,
        20,
        40,
        80,
        160,
        300,
    ]
    assert policy.delay(1, 0.999).total_seconds() == pytest.approx(12.4975)


@given(attempts=st.integers(1, 60), spread=st.floats(0, 0.999999))
def test_a_retry_delay_is_within_base_and_cap_plus_jitter(attempts: int, spread: float) -> None:
    policy = RetryPolicy(base_seconds=10, cap_seconds=3600, jitter=0.25)
    seconds = policy.delay(attempts, spread).total_seconds()
    assert 10 <= seconds <= 3600 * 1.25


def _delivery(attempts: int) -> Delivery:
    return Delivery("d1", "alert-1", "w1", "{}", NOW, NOW, attempts=attempts)


def test_a_2xx_is_delivered_anything_else_retries_until_the_last_attempt_fails() -> None:
    policy = RetryPolicy(max_attempts=3, base_seconds=10, jitter=0)
    later = NOW + timedelta(seconds=5)

    delivered = after_attempt(_delivery(1), SendResult(status_code=204), later, policy, 0)
    assert delivered.status is DeliveryStatus.DELIVERED
    assert delivered.delivered_at == later

    retry = after_attempt(_delivery(2), SendResult(status_code=500), later, policy, 0)
    assert retry.status is DeliveryStatus.PENDING
    assert retry.next_attempt_at == later + timedelta(seconds=20)
    assert retry.last_status_code == 500

    timed_out = after_attempt(_delivery(1), SendResult(error="timed out"), later, policy, 0)
    assert timed_out.status is DeliveryStatus.PENDING
    assert timed_out.last_error == "timed out"

    failed = after_attempt(_delivery(3), SendResult(status_code=302), later, policy, 0)
    assert failed.status is DeliveryStatus.FAILED
    assert failed.delivered_at is None


def test_mailto_needs_smtp_and_one_plain_address() -> None:
    with pytest.raises(ValidationError, match="SMTP"):
        validate_url("mailto:ops@agency.test", allow_private=False)
    assert (
        validate_url("mailto:ops@agency.test", allow_private=False, allow_email=True)
        == "mailto:ops@agency.test"
    )
    for bad in (
        "mailto:ops",
        "mailto:ops@agency",
        "mailto:a@b.test,c@d.test",
        "mailto:ops@agency.test?bcc=x@y.test",
        "mailto:ops@agency.test\r\nBcc: x@y.test",
        "mailto:a@b@c.test",
    ):
        with pytest.raises(ValidationError):
            validate_url(bad, allow_private=True, allow_email=True)


def test_agency_alert_kinds_are_for_agency_webhooks_only() -> None:
    assert AlertKind.RECONCILIATION_DRIFT in event_kinds([])
    assert not AGENCY_KINDS & set(event_kinds([], for_client=True))
    with pytest.raises(ValidationError, match="reconciliation_drift"):
        event_kinds([AlertKind.RECONCILIATION_DRIFT], for_client=True)
