"""The errors of BYOK: a credential refused on save, a call refused after its removal, and a
ciphertext that does not decrypt."""

from __future__ import annotations

from domain.errors import ModelNotAllowed, ValidationError


class CredentialRejected(ValidationError):
    """The provider refused the credential on save (or could not be reached): nothing stored."""

    code = "credential_rejected"


class ByokCredentialRevoked(ModelNotAllowed):
    """The client's own credential for this model was removed and its settings say to refuse
    rather than use the agency's key (403 in the route's format)."""

    code = "byok_credential_revoked"


class CredentialUnreadable(Exception):
    """A ciphertext that does not decrypt under the keys this process has."""
