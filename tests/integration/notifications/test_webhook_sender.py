"""The outbound POST: destinations checked after DNS resolution (unless private URLs are
allowed), redirects not followed, a hanging receiver cut off by the timeout; every URL that
creation accepts is one httpx sends to, and a bad stored URL is an error, never an exception."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.notifications.webhooks import HttpxWebhookSender
from domain.alerting.webhooks import validate_url
from domain.errors import ValidationError
from tests.support.servers import WebhookReceiver, serve_in_thread


def resolving_to(*addresses: str) -> object:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return list(addresses)

    return resolve


def recording(status: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers={"location": "http://127.0.0.1/next"})

    return httpx.MockTransport(handle)


async def test_a_name_resolving_to_a_private_address_is_refused_before_any_request() -> None:
    for private in ("127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "fe80::1%eth0"):
        seen: list[httpx.Request] = []
        sender = HttpxWebhookSender(
            timeout_seconds=1,
            allow_private=False,
            resolver=resolving_to("93.184.216.34", private),  # type: ignore[arg-type]
            transport=recording(200, seen),
        )
        result = await sender.send("https://hooks.example.test/x", b"{}", {})
        await sender.aclose()
        assert not result.delivered
        assert result.error is not None
        assert "non-public" in result.error
        assert seen == []


async def test_a_public_destination_is_posted_and_redirects_are_not_followed() -> None:
    seen: list[httpx.Request] = []
    sender = HttpxWebhookSender(
        timeout_seconds=1,
        allow_private=False,
        resolver=resolving_to("93.184.216.34"),  # type: ignore[arg-type]
        transport=recording(302, seen),
    )
    result = await sender.send("https://hooks.example.test/x", b'{"a":1}', {"x-test": "1"})
    await sender.aclose()
    assert result.status_code == 302
    assert not result.delivered
    # Sent to the address that was checked; the name kept for Host and TLS (SNI, certificate).
    [request] = seen
    assert (request.url.host, request.url.path) == ("93.184.216.34", "/x")
    assert request.headers["host"] == "hooks.example.test"
    assert request.extensions["sni_hostname"] == "hooks.example.test"
    assert (request.content, request.headers["x-test"]) == (b'{"a":1}', "1")


async def test_the_checked_address_is_the_one_called_so_rebinding_cannot_swap_it() -> None:
    # A name that answers a public address to the check and a private one afterwards (DNS
    # rebinding): resolution happens once, and the request goes to what was checked.
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    seen: list[httpx.Request] = []
    sender = HttpxWebhookSender(
        timeout_seconds=1,
        allow_private=False,
        resolver=rebinding,
        transport=recording(200, seen),
    )
    result = await sender.send("https://hooks.example.test:8443/x?y=1", b"{}", {})
    await sender.aclose()
    assert result.delivered
    [request] = seen
    assert str(request.url) == "https://93.184.216.34:8443/x?y=1"
    assert request.headers["host"] == "hooks.example.test:8443"


async def test_an_ipv6_destination_is_pinned_in_brackets() -> None:
    seen: list[httpx.Request] = []
    sender = HttpxWebhookSender(
        timeout_seconds=1,
        allow_private=False,
        resolver=resolving_to("2606:2800:220:1:248:1893:25c8:1946"),  # type: ignore[arg-type]
        transport=recording(204, seen),
    )
    result = await sender.send("https://hooks.example.test/x", b"{}", {})
    await sender.aclose()
    assert result.delivered
    assert str(seen[0].url) == "https://[2606:2800:220:1:248:1893:25c8:1946]/x"


async def test_an_unresolvable_name_is_an_error_not_an_exception() -> None:
    async def fail(host: str, port: int) -> Sequence[str]:
        raise OSError("no such host")

    sender = HttpxWebhookSender(timeout_seconds=1, allow_private=False, resolver=fail)
    result = await sender.send("https://nowhere.invalid/x", b"{}", {})
    await sender.aclose()
    assert result.error == "could not resolve nowhere.invalid"


async def test_a_hanging_receiver_is_cut_off_by_the_timeout() -> None:
    receiver = WebhookReceiver(hang_seconds=5)
    sender = HttpxWebhookSender(timeout_seconds=0.5, allow_private=True)
    with serve_in_thread(receiver.app) as url:
        started = time.monotonic()
        result = await sender.send(url + "/hook", b"{}", {})
        elapsed = time.monotonic() - started
        await sender.aclose()
    assert result.error == "timed out"
    assert elapsed < 4  # generous: the point is that it does not wait for the receiver


# Hosts as a careless or hostile operator might type them: ASCII, full-width and circled
# forms, IDNA dots, letters outside ASCII, numbers in every base.
HOST_PARTS = st.sampled_from(
    [
        "a",
        "Z",
        "0",
        "1",
        "7",
        "x",
        "0x",
        "-",
        "_",
        ".",
        "%",
        "\uff11",
        "\uff4c",
        "\u3002",
        "\u24db",
        "\u00fc",
        "\u00df",
        "xn--",
        "127",
        "0177",
        "localhost",
        "example",
        "com",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(HOST_PARTS, min_size=1, max_size=8).map("".join))
@example("0177.0.0.1")
@example("\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54")
@example("\uff11\uff12\uff17.\uff10.\uff10.\uff11")
@example("0x7f000001")
def test_every_url_accepted_at_creation_is_one_httpx_can_send_to(host: str) -> None:
    """What creation accepts, delivery can parse (no exception at every attempt), reads as
    the very host that was checked, and creation accepts again unchanged."""
    try:
        stored = validate_url(f"http://{host}/hook", allow_private=True)
    except ValidationError:
        return
    parsed = httpx.URL(stored)  # raised InvalidURL at every delivery for 0177.0.0.1
    checked = urlsplit(stored).hostname
    assert parsed.raw_host.decode("ascii") == checked
    assert validate_url(stored, allow_private=True) == stored
    if checked is not None and checked.replace(".", "").isdigit():
        assert str(ipaddress.IPv4Address(checked)) == checked


async def test_a_url_stored_before_canonical_checks_is_an_error_not_an_exception() -> None:
    for allow_private in (False, True):
        sender = HttpxWebhookSender(
            timeout_seconds=1,
            allow_private=allow_private,
            resolver=resolving_to("93.184.216.34"),  # type: ignore[arg-type]
        )
        for url in ("http://0177.0.0.1/x", "http://\uff4c\uff4f\uff43\uff41\uff4c/x"):
            result = await sender.send(url, b"{}", {})
            assert not result.delivered
            assert result.error is not None
            assert "invalid URL" in result.error
        await sender.aclose()
