"""The agency's alert when closing refuses a client's invoice (docs/tax.md): raised once per
client and period, staff only (client_id None: the portal never sees it)."""

from __future__ import annotations

from datetime import datetime

from domain.alerting.alerts import Alert, AlertKind
from domain.ids import new_id


def invoice_refused_alert(client_id: str, period: str, reason: str, now: datetime) -> Alert:
    kind = AlertKind.INVOICE_REFUSED
    return Alert(
        id=new_id(),
        kind=kind,
        client_id=None,
        key_id=None,
        dedupe_key=f"{kind.value}:{client_id}:{period}",
        message=f"the {period} invoice of client {client_id} was not issued: {reason}",
        created_at=now,
        details={"client_id": client_id, "period": period, "reason": reason},
    )
