"""A prepaid wallet shared by real `bizgraph serve` processes on one database (two on
PostgreSQL, one on SQLite), in front of the fake OpenAI upstream: 100 concurrent calls never
take the balance below zero, every refusal is a 429 `insufficient_quota`, the balance is
exactly the top-up minus the settled charges, and the statement sums to it."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from domain.usecases.wallets import WalletView
from domain.wallets.statement import EntryKind, balance_of
from domain.wallets.wallets import BillingMode
from tests.processes.test_several_gateways import (  # noqa: F401  (pytest fixtures)
    CHARGE,
    Cluster,
    _fire,
    cluster,
    upstream,
)


async def _settled(processes: Cluster, client_id: str) -> WalletView:
    """The wallet once every process gave its idle lease back (2 s unused)."""
    wallets = processes.container.wallets()
    view = await wallets.view(client_id)
    for _ in range(200):
        if view.balance.held.amount == 0:
            break
        await asyncio.sleep(0.05)
        view = await wallets.view(client_id)
    return view


async def test_a_wallet_never_goes_below_zero_under_100_calls_across_processes(
    cluster: Cluster,  # noqa: F811  (the fixture)
) -> None:
    client_id, _, secret = await cluster.client_with_key()
    wallets = cluster.container.wallets()
    top_up = Decimal("0.0001")
    await wallets.set_mode(client_id, BillingMode.PREPAID, "test")
    assert await wallets.top_up(client_id, top_up, f"wire-{client_id}", "", "test")
    cluster.upstream.first_byte_delay = 0.05

    responses = await _fire(cluster, secret, 100)

    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert ok
    assert refused
    assert all(r.status_code == 429 for r in refused), [(r.status_code, r.text) for r in refused]
    assert {r.json()["error"]["code"] for r in refused} == {"insufficient_quota"}
    spent = await cluster.settled(client_id)
    assert spent == len(ok) * CHARGE
    view = await _settled(cluster, client_id)
    assert view.balance.held.amount == 0
    assert view.balance.balance.amount == top_up - spent
    assert view.balance.balance.amount >= 0
    page = await wallets.statement(client_id, 0, 200)
    assert [e.kind for e in page.entries].count(EntryKind.USAGE) == len(ok)
    assert balance_of(page.entries) == view.balance.balance.amount
    assert await wallets.verify() == []
