"""A request the provider refused is the caller's error, labelled with the provider's own code
and param; `upstream_error` is kept for the provider failing."""

from __future__ import annotations

from api.rest.errors import from_domain, from_provider
from domain.errors import ValidationError
from domain.providers import ProviderError, ProviderFailure


def _refusal(status: int, error: object) -> ProviderError:
    return ProviderError(ProviderFailure.STATUS, "refused", status=status, body={"error": error})


def test_a_refusal_keeps_the_providers_code_and_param() -> None:
    error = from_provider(
        _refusal(400, {"message": "bad n", "code": "invalid_value", "param": "n"})
    )

    assert (error.status, error.type, error.code, error.param, error.message) == (
        400,
        "invalid_request_error",
        "invalid_value",
        "n",
        "bad n",
    )


def test_a_refusal_without_a_code_is_an_invalid_request() -> None:
    anthropic_style = from_provider(_refusal(400, {"type": "invalid_request_error"}))
    odd_code = from_provider(_refusal(422, {"message": "no", "code": 7}))

    assert (anthropic_style.code, anthropic_style.param) == ("invalid_request", None)
    assert (odd_code.status, odd_code.code, odd_code.message) == (422, "invalid_request", "no")


def test_a_provider_failure_is_still_an_upstream_error() -> None:
    error = from_provider(_refusal(503, {"message": "overloaded"}))

    assert (error.status, error.type, error.code) == (502, "server_error", "upstream_error")


def test_a_translations_refusal_is_an_invalid_value() -> None:
    error = from_domain(ValidationError("stop_sequences must be a list of strings"))

    assert (error.status, error.code) == (400, "invalid_value")
