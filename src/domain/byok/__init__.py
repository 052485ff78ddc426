"""Clients' own provider keys (BYOK): credentials stored encrypted, the fee charged for calls
that use them, and the per-client settings (docs/byok.md)."""
