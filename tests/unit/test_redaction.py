"""No key or configured secret survives into a log line, a traceback included."""

from __future__ import annotations

import logging

import pytest

from api.redaction import MASK, RedactingFilter, install_redaction, url_password


def test_key_shapes_and_configured_secrets_are_masked() -> None:
    redacting = RedactingFilter(["my-provider-secret-123", None, "short"])
    text = (
        "client bzk_live_AbCdEf0123456789 used sk-proj-0123456789abcdefXYZ and "
        "AIzaSyA0123456789abcdefghij with my-provider-secret-123"
    )

    redacted = redacting.redact(text)

    assert "bzk_live" not in redacted
    assert "sk-proj" not in redacted
    assert "AIza" not in redacted
    assert "my-provider-secret-123" not in redacted
    assert redacted.count(MASK) == 4


def test_messages_arguments_and_tracebacks_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_redaction(["operator-secret-value"])
    logger = logging.getLogger("bizgraph.test")
    with caplog.at_level(logging.INFO):
        logger.info("key %s", "bzk_live_SECRETSECRETSECRET")
        try:
            raise RuntimeError("failed with operator-secret-value")
        except RuntimeError:
            logger.exception("boom")

    text = caplog.text
    assert "SECRETSECRET" not in text
    assert "operator-secret-value" not in text
    assert MASK in text


def test_passwords_in_connection_urls_are_the_secrets_to_mask() -> None:
    assert url_password("postgresql://app:s3cr3t-pw@db.internal/bizgraph") == "s3cr3t-pw"
    assert url_password("redis://:r3dis-pw@127.0.0.1:6379/0") == "r3dis-pw"
    assert url_password("sqlite:///data/bizgraph.db") is None
    assert url_password(None) is None
