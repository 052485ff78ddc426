"""The Responses API's translation (`formats.responses`) as `/v1/responses` uses it: a request
the gateway cannot read or honour is a 400 in OpenAI's error format, naming the parameter."""

from __future__ import annotations

from api.rest.errors import ApiError
from domain.providers import JSON
from formats.errors import FormatError
from formats.responses import requests
from formats.responses.answers import chat_to_response
from formats.responses.streams import ChatToResponsesStream, Event

__all__ = [
    "ChatToResponsesStream",
    "Event",
    "chat_to_response",
    "check_native",
    "responses_to_chat_request",
]


def _api_error(exc: FormatError) -> ApiError:
    return ApiError(400, exc.message, code=exc.reason, param=exc.param)


def check_native(body: JSON) -> None:
    """See formats.responses.requests.check_native."""
    try:
        requests.check_native(body)
    except FormatError as exc:
        raise _api_error(exc) from None


def responses_to_chat_request(body: JSON) -> JSON:
    """See formats.responses.requests.responses_to_chat_request."""
    try:
        return requests.responses_to_chat_request(body)
    except FormatError as exc:
        raise _api_error(exc) from None
