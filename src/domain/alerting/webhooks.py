"""Webhooks: where alerts are delivered, how each delivery is signed, retried and given up.

A webhook's signing secret is never stored: the row keeps a random salt and the secret is
HMAC(server secret, salt) (the KeyHasher port), derived again whenever a body is signed. A
database leak alone therefore reveals no secret; rotating BIZGRAPH_SECRET_KEY changes every
webhook secret (as it invalidates API keys).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from domain.alerting.alerts import Alert, AlertKind
from domain.errors import ValidationError
from domain.timeutil import require_aware

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Bizgraph-Signature"
EVENT_ID_HEADER = "X-Bizgraph-Event-Id"
MAX_URL_LENGTH = 2000
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# A last label that URL parsers (WHATWG) and inet_aton read as a number: the host is an IPv4
# address in some spelling (127.1, 0x7f000001, 2130706433, 0177.0.0.1).
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or being attempted)
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # every attempt failed; no more retries
    CANCELLED = "cancelled"  # its webhook was deleted before it was delivered


@dataclass(frozen=True, slots=True)
class Webhook:
    """`client_id` None: the agency's webhook, which receives every client's alerts."""

    id: str
    url: str
    client_id: str | None
    events: tuple[AlertKind, ...]
    secret_salt: str = field(repr=False)
    created_at: datetime
    disabled_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        if not self.events:
            raise ValidationError("a webhook needs at least one event kind")

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def wants(self, alert: Alert) -> bool:
        return (
            self.is_active
            and (self.client_id is None or self.client_id == alert.client_id)
            and alert.kind in self.events
        )


@dataclass(frozen=True, slots=True)
class IssuedWebhook:
    secret: str = field(repr=False)
    webhook: Webhook


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert to one webhook. `payload` is the exact body sent on every attempt, so a retry
    carries the same bytes (and the same event id) as the first try."""

    id: str
    alert_id: str
    webhook_id: str
    payload: str
    created_at: datetime
    next_attempt_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one POST got: a status code, or an error when no answer came."""

    status_code: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt n (1-based) failing waits base x 2^(n-1), capped, plus up to `jitter` of it
    more (so receivers coming back are not hit by every sender at once)."""

    max_attempts: int = 8
    base_seconds: float = 10.0
    cap_seconds: float = 3600.0
    jitter: float = 0.25

    def delay(self, attempts: int, spread: float) -> timedelta:
        """`spread` in [0, 1) picks where in the jitter band this retry lands."""
        seconds = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds * (1 + self.jitter * spread))


def after_attempt(
    delivery: Delivery, result: SendResult, now: datetime, policy: RetryPolicy, spread: float
) -> Delivery:
    """The delivery once an attempt (already counted in `attempts`) got `result`."""
    base = replace(delivery, last_status_code=result.status_code, last_error=result.error)
    if result.delivered:
        return replace(base, status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=None)
    if delivery.attempts >= policy.max_attempts:
        return replace(base, status=DeliveryStatus.FAILED)
    return replace(base, next_attempt_at=now + policy.delay(delivery.attempts, spread))


def new_salt() -> str:
    return secrets.token_urlsafe(32)


def secret_material(salt: str) -> str:
    """What the server secret's HMAC is taken of to make a webhook's signing secret."""
    return f"webhook-secret:{salt}"


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`, the X-Bizgraph-Signature header value."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(alert: Alert, client_name: str) -> str:
    """The JSON body for an alert; `id` is the stable event id receivers dedupe on."""
    body = {
        "id": alert.id,
        "type": alert.kind.value,
        "created_at": alert.created_at.isoformat(),
        # null for the agency's own alerts (reconciliation drift), which have no client
        "client": None if alert.client_id is None else {"id": alert.client_id, "name": client_name},
        "key_id": alert.key_id,
        "data": {"message": alert.message, "details": dict(alert.details)},
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


# Alerts of the agency's own, about no client: a client's webhook can never receive them.
AGENCY_KINDS = frozenset(
    {AlertKind.RECONCILIATION_DRIFT, AlertKind.INVOICE_REFUSED, AlertKind.BUDGET_UNCOUNTED}
)


def event_kinds(kinds: Iterable[AlertKind], *, for_client: bool = False) -> tuple[AlertKind, ...]:
    """The kinds asked for, deduplicated in a stable order; none means every kind (a client's
    webhook: every kind about a client)."""
    chosen = set(kinds)
    if for_client and chosen & AGENCY_KINDS:
        names = ", ".join(sorted(k.value for k in chosen & AGENCY_KINDS))
        raise ValidationError(f"{names} alerts go to the agency's webhooks (no client) only")
    possible = [k for k in AlertKind if not (for_client and k in AGENCY_KINDS)]
    return tuple(k for k in possible if not chosen or k in chosen)


# ------------------------------------------------------------------------- outbound URLs


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """False for loopback, private, link-local, unspecified, multicast and reserved
    addresses (an IPv4-mapped IPv6 address is judged as its IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or not address.is_global
    )


def validate_url(url: str, *, allow_private: bool, allow_email: bool = False) -> str:
    """An http(s) URL with a host; unless `allow_private`, a host that is not a loopback,
    private, link-local or unspecified address or a local name. Names are resolved and
    checked again at delivery time (the adapter), since DNS can change. With `allow_email`
    (SMTP configured), `mailto:<one address>` too."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"a webhook URL has at most {MAX_URL_LENGTH} characters")
    if url.lower().startswith("mailto:"):
        return _mailto(url, allow_email)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a bad port
    except ValueError as exc:
        raise ValidationError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ValidationError("a webhook URL must start with http:// or https:// (or mailto:)")
    if not host:
        raise ValidationError("a webhook URL needs a host")
    if parts.username or parts.password:
        raise ValidationError("a webhook URL may not carry credentials")
    canonical = canonical_host(host)
    if not allow_private and not host_may_be_public(canonical):
        raise ValidationError(
            f"{canonical} is a loopback, private or link-local address; webhooks must reach a "
            "public host (BIZGRAPH_ALLOW_PRIVATE_URLS=true allows private ones)"
        )
    # Stored with the host as DNS and every HTTP client will read it: what was checked is
    # what is delivered to.
    netloc = canonical if parts.port is None else f"{canonical}:{parts.port}"
    stored = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    if len(stored) > MAX_URL_LENGTH:
        raise ValidationError(f"a webhook URL has at most {MAX_URL_LENGTH} characters")
    return stored


def canonical_host(host: str) -> str:
    """The one ASCII spelling of a URL's host: an IPv6 literal in brackets, compressed; a
    dotted-quad IPv4 address; or a name in lower case with every label IDNA-encoded (full-width
    letters, digits and dots mapped as IDNA maps them). Refused with a ValidationError: any
    other spelling of an IPv4 address (octal, hexadecimal, a single number, fewer than four
    parts), a name IDNA cannot encode, a punycode label that does not decode to itself, and
    characters no host name has."""
    name = host.strip()
    if name.startswith("[") or ":" in name:
        try:
            if "%" in name:  # a zone (scope) id names an interface of this machine
                raise ValueError("zone id")
            address = ipaddress.IPv6Address(name.strip("[]"))
        except ValueError as exc:
            raise ValidationError(f"not a valid IPv6 address: {host!r}") from exc
        return f"[{address.compressed}]"
    try:
        ascii_name = name.lower().encode("idna").decode("ascii").lower().rstrip(".")
        ascii_name.encode("ascii").decode("idna")  # punycode labels must decode to themselves
    except UnicodeError as exc:
        raise ValidationError(f"not a valid host name: {host!r}") from exc
    labels = ascii_name.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or len(ascii_name) > 253:
        raise ValidationError(f"not a valid host name: {host!r}")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            canonical = str(ipaddress.IPv4Address(ascii_name))
        except ValueError:
            canonical = None
        if canonical != ascii_name:
            raise ValidationError(
                f"{host!r} spells an IP address in a non-standard way; write an IPv4 address "
                "as four decimal numbers (a.b.c.d, no leading zeros)"
            )
    return ascii_name


def _mailto(url: str, allow_email: bool) -> str:
    """`mailto:<one address>`, without headers or a second recipient."""
    if not allow_email:
        raise ValidationError("email delivery needs SMTP configured (BIZGRAPH_SMTP_HOST)")
    address = url[len("mailto:") :]
    local, at, domain = address.partition("@")
    forbidden = set(' ,;?<>()[]\\"\r\n\t')
    if not (local and at and "." in domain) or "@" in domain or forbidden & set(address):
        raise ValidationError(f"not a single email address: {address!r}")
    if len(address) > 320:
        raise ValidationError("an email address has at most 320 characters")
    return "mailto:" + address


def host_may_be_public(host: str) -> bool:
    """False for an IP literal that is not public and for local names; other names may be
    public until resolved."""
    name = host.strip("[]").rstrip(".").lower()
    try:
        return is_public_address(ipaddress.ip_address(name))
    except ValueError:
        pass
    return not (name in _LOCAL_NAMES or name.endswith((".localhost", ".local", ".internal")))
