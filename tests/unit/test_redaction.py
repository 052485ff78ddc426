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


def _access_log_line(redacting: RedactingFilter, path: str) -> str:
    """One access-log line written as uvicorn writes it: its own logger, formatter (which
    unpacks `record.args`) and call, with the redaction filter on the handler."""
    import io

    from uvicorn.config import LOGGING_CONFIG
    from uvicorn.logging import AccessFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        AccessFormatter(LOGGING_CONFIG["formatters"]["access"]["fmt"], use_colors=False)
    )
    handler.addFilter(redacting)
    logger = logging.getLogger("uvicorn.access")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        # uvicorn/protocols/http/h11_impl.py and httptools_impl.py make exactly this call.
        logger.info('%s - "%s %s HTTP/%s" %d', "203.0.113.9:51000", "GET", path, "1.1", 200)
    finally:
        logger.removeHandler(handler)
        logger.level = level
    assert not handler_errors(stream.getvalue())
    return stream.getvalue()


def handler_errors(text: str) -> bool:
    return "Traceback" in text or "--- Logging error ---" in text


def test_uvicorn_access_lines_are_formatted_and_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    redacting = RedactingFilter(["operator-secret-value"])

    line = _access_log_line(
        redacting, "/healthz?k=bzk_live_SECRETSECRETSECRET&s=operator-secret-value"
    )

    assert '203.0.113.9:51000 - "GET /healthz?k=' in line
    assert 'HTTP/1.1" 200 OK' in line
    assert "SECRETSECRET" not in line
    assert "operator-secret-value" not in line
    assert line.count(MASK) == 2
    assert not handler_errors(capsys.readouterr().err)  # logging prints its own errors there


@pytest.mark.parametrize(
    "secret",
    [
        "bzk_live_AbCdEf0123456789abcdef",
        "bzs_AbCdEf0123456789abcdef",
        "bzp_AbCdEf0123456789abcdef",
        "whsec_0123456789abcdef0123456789abcdef",
        "sk-ant-api03-AbCdEf0123456789",
        "AIzaSyA0123456789abcdefghij",
    ],
)
def test_every_secret_shape_the_product_issues_or_holds_is_masked(secret: str) -> None:
    assert RedactingFilter().redact(f"token={secret};") == f"token={MASK};"


def test_issued_secrets_match_the_masked_shapes() -> None:
    """The shapes follow the generators: a new prefix cannot be issued unmasked."""
    from domain.access.bearer_secrets import generate_secret
    from domain.access.keys import KEY_PREFIX
    from domain.access.principals import PORTAL_PREFIX, STAFF_PREFIX
    from domain.alerting.webhooks import SECRET_PREFIX

    issued = [
        generate_secret(KEY_PREFIX),
        generate_secret(STAFF_PREFIX),
        generate_secret(PORTAL_PREFIX),
    ]
    issued.append(SECRET_PREFIX + "0123456789abcdef" * 4)  # prefix + a hex HMAC digest
    for secret in issued:
        assert RedactingFilter().redact(f"[{secret}]") == f"[{MASK}]"


def test_arguments_keep_their_types_unless_they_hold_a_secret() -> None:
    class Holder:
        def __repr__(self) -> str:
            return "Holder(bzp_AbCdEf0123456789abcdef)"

    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "%d calls by %r: %s", (3, Holder(), "ok"), None
    )
    RedactingFilter().filter(record)

    assert isinstance(record.args, tuple)
    assert record.args[0] == 3
    assert record.getMessage() == f"3 calls by Holder({MASK}): ok"


def test_a_key_in_a_query_string_is_masked_whatever_its_shape() -> None:
    """Gemini clients may send their key as `?key=`: the access log's request line must not
    show it, even a wrong key of no known shape."""
    redacting = RedactingFilter()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "POST",
            "/v1beta/models/x:generateContent?alt=sse&key=not-a-shape",
            "1.1",
            200,
        ),
        None,
    )

    redacting.filter(record)

    assert "not-a-shape" not in record.getMessage()
    assert "?alt=sse&key=" + MASK in record.getMessage()
