"""Ports of invoice delivery: the outbox store and the mailer that sends one message."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.alerting.webhooks import SendResult
from domain.delivery.messages import InvoiceEmail
from domain.delivery.outbox import InvoiceMail


class InvoiceMailRepository(Protocol):
    async def add(self, mail: InvoiceMail) -> bool:
        """Store the message unless one with its dedupe key exists (in any process): True
        when stored. Never fails on a duplicate."""
        ...

    async def any_due(self, now: datetime) -> bool:
        """Whether `claim_due` would find something now (a cheap read before a write)."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, claim: str, limit: int
    ) -> list[InvoiceMail]:
        """Atomically claim pending messages due at `now` whose lease has expired (or was
        never taken), counting the attempt: no other claimer gets them until `lease_until`."""
        ...

    async def record(self, mail: InvoiceMail, claim: str) -> bool:
        """Store an attempt's outcome and release the lease, if `claim` still holds it."""
        ...

    async def for_invoice(self, invoice_id: str, limit: int) -> list[InvoiceMail]:
        """The invoice's newest `limit` messages, newest first."""
        ...

    async def has(self, dedupe_key: str) -> bool: ...


class InvoiceMailer(Protocol):
    async def send(self, email: InvoiceEmail) -> SendResult:
        """Send once with a timeout; never raises for a network failure or a refusal, which
        come back as `SendResult.error` (without secrets)."""
        ...
