"""Crash recovery against the real database (SQLite and PostgreSQL): a process that stops
renewing its lease has its open calls taken over by a live one and billed as an estimate of
the prompt plus the output it checkpointed; operators list those calls (staff only)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from api.app import create_app
from api.container import make_container
from api.container.terms import lease_terms, longest_call
from domain.ids import new_id
from domain.metering.journal import JournalEntry
from domain.metering.request_bounds import text_bound
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.usecases.budgets import BudgetInput
from domain.usecases.grants import CallGrant
from domain.usecases.leases import ProcessLeases
from domain.usecases.metering import Metering
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups
from tests.api.conftest import Admin, Gateway
from tests.api.graphql_support import create_client, owner, staff
from tests.support.servers import serve_in_thread

MODEL = "openai/gpt-4o-mini"

ESTIMATED = """query($id: ID!) { client(id: $id) { usage { estimatedCalls {
    requestId status inputTokens outputTokens charge { amount } cost { amount } } } } }"""


class DeadProcess:
    """A second serving process over the same database, which will stop renewing its lease."""

    def __init__(self, admin: Admin, gateway: Gateway) -> None:
        container = admin.container
        self.id = "dead-" + new_id()
        self.metering = Metering(
            container.uow(),
            container.clock(),
            container.keys(),
            reads=container.reads(),
            zone=gateway.settings.timezone,
            process_id=self.id,
            writes=GroupCommit(container.uow()),  # a process of its own: its own runtime
            lookups=Lookups(container.reads()),
        )
        terms = lease_terms(gateway.settings)
        self.leases = ProcessLeases(container.uow(), container.clock(), self.id, terms)

    async def call(self, secret: str, prompt_chars: int, max_tokens: int) -> CallGrant:
        caller = await self.metering.authenticate(secret)
        grant = await self.metering.authorize(caller, MODEL, "req_" + new_id())
        await self.metering.hold_and_journal(grant, text_bound(prompt_chars, max_tokens))
        return grant


async def journal_row(admin: Admin, request_id: str) -> JournalEntry | None:
    clock = admin.container.clock()
    async with admin.container.reads()() as uow:
        rows = await uow.journal.unsettled(clock.now() + timedelta(days=1))
    return next((row for row in rows if row.request_id == request_id), None)


async def records_of(admin: Admin, request_id: str) -> list[UsageRecord]:
    async with admin.container.reads()() as uow:
        return list(await uow.usage.for_request(request_id))


async def test_a_dead_process_stream_is_taken_over_and_billed_what_it_relayed(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal(1)))
    dead = DeadProcess(admin, gateway)
    await dead.leases.renew()
    grant = await dead.call(secret, prompt_chars=400, max_tokens=100)
    dead.metering.checkpoint(grant.request_id, 120)  # rides the next batched write
    for _ in range(200):
        row = await journal_row(admin, grant.request_id)
        if row is not None and row.output_chars == 120:
            break
        await asyncio.sleep(0.02)
    assert row is not None
    assert (row.owner, row.prompt_chars, row.output_chars) == (dead.id, 400, 120)

    live, clock = admin.container.metering(), admin.container.clock()
    oldest = clock.now() - longest_call(gateway.settings)
    await live.recover(oldest, live_at=clock.now())
    assert await records_of(admin, grant.request_id) == []  # its lease still runs

    later = clock.now() + lease_terms(gateway.settings).lease + timedelta(seconds=1)
    await live.recover(oldest, live_at=later)  # as a heartbeat cycle will once it ran out

    [record] = await records_of(admin, grant.request_id)
    assert record.source is UsageSource.ESTIMATED
    assert record.status is CallStatus.FAILED
    assert (record.usage.input_tokens, record.usage.output_tokens) == (100, 30)
    assert record.charge.amount > 0
    budget = await admin.container.budgets().of_client(client_id)
    assert budget is not None
    assert (budget.spent, budget.reserved) == (record.charge.amount, 0)
    assert await journal_row(admin, grant.request_id) is None

    listed = owner(gateway).data(ESTIMATED, id=client_id)["client"]["usage"]["estimatedCalls"]
    assert listed == [
        {
            "requestId": grant.request_id,
            "status": "failed",
            "inputTokens": 100,
            "outputTokens": 30,
            "charge": {"amount": str(record.charge.amount)},
            "cost": {"amount": str(record.cost.amount)},
        }
    ]


def test_estimated_calls_are_never_shown_to_a_portal(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    client_id = create_client(admin, "Estimates", {"percentageMargin": {"percent": "5"}})
    portal = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client_id,
    )["createPortalToken"]["secret"]
    viewer = staff(gateway, "VIEWER")

    query = """query($id: ID!) { client(id: $id) { usage { estimatedCalls { requestId } } } }"""
    assert viewer.data(query, id=client_id)["client"]["usage"]["estimatedCalls"] == []
    refused = admin.as_token(portal).run(query, id=client_id)
    assert refused["errors"][0]["message"] == "not allowed: staff only"
    too_many = admin.run(
        """query($id: ID!) { client(id: $id) { usage { estimatedCalls(first: 5000) {
             requestId } } } }""",
        id=client_id,
    )
    assert "between 1 and 1000" in too_many["errors"][0]["message"]


async def live_leases(admin: Admin) -> dict[str, datetime]:
    async with admin.container.reads()() as uow:
        found = await uow.leases.live(admin.container.clock().now())
    return {lease.process_id: lease.expires_at for lease in found}


async def test_a_serving_process_renews_its_lease_and_drops_it_on_a_clean_shutdown(
    gateway: Gateway, admin: Admin
) -> None:
    settings = replace(gateway.settings, lease_seconds=1.0, heartbeat_seconds=0.2)
    container = make_container(settings)
    process_id = container.process_id()
    renewed = False
    with serve_in_thread(create_app(settings, container)):
        first = (await live_leases(admin))[process_id]  # taken before serving
        for _ in range(100):
            await asyncio.sleep(0.1)
            if (await live_leases(admin)).get(process_id, first) > first:
                renewed = True
                break
    assert renewed
    assert process_id not in await live_leases(admin)
