"""One hierarchy of expected errors; each carries a stable machine code."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAmount(DomainError, ValueError):
    code = "invalid_amount"


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"


class ValidationError(DomainError):
    code = "validation_error"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class UnknownModel(NotFound):
    code = "model_not_found"


class NoPriceInForce(DomainError):
    code = "no_price_in_force"


class InvalidApiKey(DomainError):
    code = "invalid_api_key"


class ModelNotAllowed(DomainError):
    code = "model_not_allowed"


class ClientSuspended(DomainError):
    code = "client_suspended"


class BudgetExceeded(DomainError):
    """A hard budget refused the call before it reached a provider."""

    code = "insufficient_quota"


class BudgetUnavailable(DomainError):
    """The budget store could not reserve (fail closed: the call is refused)."""

    code = "budget_unavailable"


class PeriodNotEnded(ValidationError):
    code = "period_not_ended"


class StoreUnavailable(DomainError):
    """The database could not be reached or written (down, restarting, full): nothing was
    done, and the same request may be retried once it is back."""

    code = "database_unavailable"


class WriteConflict(DomainError):
    """The database aborted a transaction for a conflict with a concurrent one (a deadlock, a
    serialization failure): nothing was written, and running it again is safe."""

    code = "write_conflict"
