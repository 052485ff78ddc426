"""The error a translation raises for a request it cannot read or express."""

from __future__ import annotations

from domain.errors import ValidationError


class FormatError(ValidationError):
    """A request field that is wrong for the format: `param` names it as the client's format
    does, `reason` is the machine code its error body carries (OpenAI's `code`)."""

    def __init__(self, message: str, param: str | None = None, reason: str = "invalid_value"):
        super().__init__(message)
        self.param = param
        self.reason = reason
