"""Alerts and their delivery by webhook."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from adapters.persistence.tables.schema import ID, metadata
from adapters.persistence.types import UtcDateTime

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(40), nullable=False),
    # NULL: the agency's own alert (a reconciliation drift), seen by staff only
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=True),
    Column("key_id", String(ID), nullable=True),
    Column("dedupe_key", String(300), nullable=False),
    Column("message", Text(), nullable=False),
    Column("details", Text(), nullable=False),  # a JSON object of strings
    Column("created_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("dispatched_at", UtcDateTime(), nullable=True),
    Index(None, "dedupe_key", unique=True),
    Index(None, "client_id", "created_at"),
    Index(None, "dispatched_at", "created_at"),
)

# Webhooks: the signing secret is derived (HMAC of the server secret and this salt), never kept.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=True),  # null: agency
    Column("events", Text(), nullable=False),  # a JSON list of alert kinds
    Column("secret_salt", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
)

# One row per (alert, webhook); `locked_until` and `claim` are the lease a sender holds.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("alert_id", String(ID), ForeignKey("alerts.id"), nullable=False),
    Column("webhook_id", String(ID), ForeignKey("webhooks.id"), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("claim", String(ID), nullable=True),
    Column("last_status_code", Integer(), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),
    UniqueConstraint("alert_id", "webhook_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "webhook_id", "created_at"),
)
