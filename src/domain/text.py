"""Text someone typed (names, emails, reasons): what every backend stores the same way.

NUL is refused everywhere (PostgreSQL cannot store it in text; SQLite can, so the backends
would disagree). Single-line text (names, emails, ids) refuses every other control character
too (a newline or an escape sequence in a name would garble tables, logs and invoices);
multi-line text (reasons, descriptions) allows tab, newline and carriage return.
"""

from __future__ import annotations

import unicodedata

from domain.errors import ValidationError

_MULTILINE_CONTROLS = frozenset("\t\n\r")


def check_text(value: str, what: str, *, max_length: int, multiline: bool = False) -> str:
    """`value` unchanged if it may be stored, else a ValidationError naming `what`."""
    if "\x00" in value:
        raise ValidationError(f"{what} cannot contain NUL characters")
    if len(value) > max_length:
        raise ValidationError(f"{what} has at most {max_length} characters")
    allowed = _MULTILINE_CONTROLS if multiline else frozenset()
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise ValidationError(f"{what} cannot contain control characters")
    return value


def has_nul(value: object) -> bool:
    """Whether a string, or any string in a list, tuple or dict, holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False
