"""Reading a budget back once the gateways gave their idle budget leases back: `reserved` holds
each process's unused lease until it has been idle for BIZGRAPH_BUDGET_LEASE_IDLE seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from domain.budgets.limits import BudgetStatus


async def once_returned(
    read: Callable[[], Awaitable[BudgetStatus | None]], seconds: float = 10.0
) -> BudgetStatus:
    """The status as soon as `reserved` is back at 0 (or the last one read, after `seconds`,
    for the caller's assertion to show)."""
    status = None
    for _ in range(int(seconds / 0.05)):
        status = await read()
        assert status is not None
        if status.reserved == 0:
            return status
        await asyncio.sleep(0.05)
    assert status is not None
    return status
