"""Metering with budgets (in-memory ports): holds, settlement into spend, refusal alerts,
fail-closed reservation, and a hypothesis run of interleaved calls that never takes a hard
budget past its limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.alerting.alerts import AlertKind
from domain.billing.plans import PercentageMargin
from domain.budgets.limits import BudgetMode, Hold, Refusal
from domain.catalog.models import Model, PriceVersion
from domain.errors import BudgetExceeded, BudgetUnavailable
from domain.metering.leases import ProcessLease
from domain.metering.request_bounds import text_bound
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageSource
from domain.providers import JSON, ProviderError, ProviderFailure, ProviderResponse
from domain.usecases.budgets import BudgetInput, BudgetUseCases
from domain.usecases.call_requests import CallKind, CallRequest
from domain.usecases.calls import ModelCalls
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.grants import Attempt, CallGrant
from domain.usecases.keys import KeyUseCases, NewKey
from domain.usecases.metering import Metering
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups
from runtime.relay import RelayPool
from tests.fakes import (
    FakeBudgetRepository,
    FakeKeyHasher,
    FakeUnitOfWorkFactory,
    FrozenClock,
)

T0 = datetime(2026, 3, 15, 12, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
MODEL = Model("demo/chat", "demo", "chat", max_output_tokens=500, context_window=4000)


class World:
    def __init__(self) -> None:
        self.uow, self.clock = FakeUnitOfWorkFactory(), FrozenClock(T0)
        self.keys = KeyUseCases(self.uow, self.clock, FakeKeyHasher(), Lookups(self.uow))
        self.metering = self.process()
        self.budgets = BudgetUseCases(self.uow, self.clock, UTC_ZONE)
        self.requests = 0

    def process(self, process_id: str | None = None) -> Metering:
        """A serving process's metering over the shared store, with a runtime of its own."""
        return Metering(
            self.uow,
            self.clock,
            self.keys,
            zone=UTC_ZONE,
            process_id=process_id,
            writes=GroupCommit(self.uow),
            lookups=Lookups(self.uow),
        )

    async def setup(self, limit: str, mode: BudgetMode = BudgetMode.HARD) -> None:
        catalog = CatalogUseCases(self.uow)
        await catalog.save_model(MODEL)
        await catalog.add_price(
            PriceVersion("demo/chat", T0 - timedelta(days=1), input=Decimal(1), output=Decimal(3))
        )
        client, _ = await ClientUseCases(self.uow, self.clock).create(
            NewClient("Acme", PercentageMargin(Decimal(10)))
        )
        self.client_id = client.id
        self.secret = (await self.keys.issue(NewKey(client.id))).secret
        await self.budgets.set_for_client(client.id, BudgetInput(Decimal(limit), mode))

    async def grant(self) -> CallGrant:
        self.requests += 1
        caller = await self.metering.authenticate(self.secret)
        return await self.metering.authorize(caller, "demo/chat", f"req_{self.requests}")

    async def leases_returned(self) -> None:
        """What a serving process does when idle or stopping: headroom goes back."""
        await self.metering.wait_for_settlements(0)

    async def counter(self) -> tuple[Decimal, Decimal]:
        status = await self.budgets.of_client(self.client_id)
        assert status is not None
        return status.spent, status.reserved


def attempt(grant: CallGrant, tokens_in: int, tokens_out: int, ok: bool = True) -> Attempt:
    usage = TokenUsage(input_tokens=tokens_in, output_tokens=tokens_out)
    status = CallStatus.SUCCEEDED if ok else CallStatus.FAILED
    return Attempt(0, grant.target, usage, UsageSource.REPORTED, status, 5)


async def test_a_call_holds_its_maximum_then_settles_to_its_charge() -> None:
    world = World()
    await world.setup("1")
    grant = await world.grant()
    await world.metering.hold_and_journal(
        grant, text_bound(40, 100)
    )  # 40 chars -> at most 104 input tokens
    hold = (Decimal(104) * 1 + 100 * 3) / 1_000_000 * Decimal("1.1")
    assert await world.counter() == (0, hold)

    [record] = await world.metering.settle(grant, [attempt(grant, 10, 20)])

    # the spend left the process's lease; the rest of the lease stays reserved until returned
    assert await world.counter() == (record.charge.amount, hold - record.charge.amount)
    await world.leases_returned()
    assert await world.counter() == (record.charge.amount, 0)


async def test_holds_come_from_the_lease_without_touching_the_counter() -> None:
    world = World()
    await world.setup("1")
    first = await world.grant()
    await world.metering.hold_and_journal(first, text_bound(40, 100))
    await world.metering.settle(first, [attempt(first, 10, 20)])
    before = await world.counter()
    second = await world.grant()
    await world.metering.hold_and_journal(second, text_bound(1, 1))  # fits the lease's rest
    assert await world.counter() == before  # held in memory: no database round trip


async def test_a_refusal_raises_stores_one_alert_and_journals_nothing() -> None:
    world = World()
    await world.setup("0.0001")
    for _ in range(3):
        with pytest.raises(BudgetExceeded):
            await world.metering.hold_and_journal(await world.grant(), text_bound(1000, 500))
    async with world.uow() as tx:
        alerts = await tx.alerts.recent()
        assert tx.working.journal == {}  # type: ignore[attr-defined]
    [alert] = alerts
    assert alert.kind is AlertKind.HARD_LIMIT_REFUSED
    assert alert.message == "The hard budget of Acme refused calls (0.0001 USD in 2026-03)"
    assert alert.details["limit"] == "0.0001"
    assert alert.details["basis"] == "charge"
    assert alert.dedupe_key.endswith(":2026-03:2026-03-15T12")
    assert await world.counter() == (0, 0)


async def test_a_soft_budget_never_refuses() -> None:
    world = World()
    await world.setup("0.0001", BudgetMode.SOFT)
    await world.metering.hold_and_journal(await world.grant(), text_bound(1000, 500))
    assert (await world.counter())[1] > Decimal("0.0001")


async def test_the_reservation_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    await world.setup("1")

    async def broken(self: object, process_id: str, hold: Hold, extra: Decimal) -> Refusal:
        raise ConnectionError("database went away")

    monkeypatch.setattr(FakeBudgetRepository, "take_lease", broken)
    with pytest.raises(BudgetUnavailable):
        await world.metering.hold_and_journal(await world.grant(), text_bound(10, 10))


async def test_without_a_budget_nothing_is_held_or_released() -> None:
    world = World()
    await world.setup("1")
    await world.budgets.remove_for_client(world.client_id)
    grant = await world.grant()
    assert grant.budgets == ()
    await world.metering.hold_and_journal(grant, text_bound(10, 10))
    await world.metering.settle(grant, [attempt(grant, 1, 1)])
    async with world.uow() as tx:
        assert tx.working.counters == {}  # type: ignore[attr-defined]


Call = tuple[int, int, int, int, bool]  # prompt chars, max tokens, input used, output used, ok


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2000),
            st.integers(1, 500),
            st.integers(0, 3000),
            st.integers(0, 500),
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    ),
    st.integers(1, 6),
)
async def test_interleaved_calls_never_take_a_hard_budget_past_its_limit(
    calls: list[Call], in_flight: int
) -> None:
    world = World()
    await world.setup("0.005")
    limit = Decimal("0.005")
    open_calls: list[tuple[CallGrant, Call]] = []
    settled = Decimal(0)

    async def settle_oldest() -> Decimal:
        grant, (chars, max_out, used_in, used_out, ok) = open_calls.pop(0)
        # what a provider can report: within the prompt bound and max_tokens
        used = attempt(grant, min(used_in, chars + 64), min(used_out, max_out), ok)
        [record] = await world.metering.settle(grant, [used if ok else attempt(grant, 0, 0, False)])
        return record.charge.amount

    for call in calls:
        grant = await world.grant()
        try:
            await world.metering.hold_and_journal(grant, text_bound(call[0], call[1]))
            open_calls.append((grant, call))
        except BudgetExceeded:
            pass
        spent, reserved = await world.counter()
        assert spent + reserved <= limit
        if len(open_calls) >= in_flight:
            settled += await settle_oldest()
            spent, reserved = await world.counter()
            assert spent + reserved <= limit
    while open_calls:
        settled += await settle_oldest()
    await world.leases_returned()
    assert await world.counter() == (settled, 0)
    assert settled <= limit


async def test_a_budget_set_mid_period_alerts_for_the_thresholds_already_passed() -> None:
    world = World()
    await world.setup("1")
    await world.budgets.remove_for_client(world.client_id)
    grant = await world.grant()
    await world.metering.hold_and_journal(grant, text_bound(10, 10))
    [record] = await world.metering.settle(grant, [attempt(grant, 100_000, 100_000)])
    spent = record.charge.amount  # 0.44 (1 + 3 per million, +10%)
    await world.budgets.set_for_client(world.client_id, BudgetInput(Decimal("0.5")))

    await world.metering.hold_and_journal(await world.grant(), text_bound(1, 1))

    async with world.uow() as tx:
        alerts = await tx.alerts.recent()
    assert sorted(a.details["percent"] for a in alerts) == ["50", "80"]
    assert {a.details["spent"] for a in alerts} == {str(spent)}
    assert sorted(a.message for a in alerts) == [
        "The budget of Acme reached 50% of 0.5 USD in 2026-03",
        "The budget of Acme reached 80% of 0.5 USD in 2026-03",
    ]


class _BilledFailure:
    """The model fails after billing `billed` input tokens; its fallback answers."""

    def __init__(self, billed: int) -> None:
        self.billed = billed
        self.calls: list[str] = []

    async def chat(self, model: Model, body: JSON) -> ProviderResponse:
        self.calls.append(model.id)
        if model.id == "demo/chat":
            usage = TokenUsage(input_tokens=self.billed)
            raise ProviderError(ProviderFailure.STATUS, "boom", status=500, usage=usage)
        return ProviderResponse({"choices": []}, TokenUsage(input_tokens=1, output_tokens=1))


class _Registry:
    def __init__(self, provider: _BilledFailure) -> None:
        self.provider = provider

    def chat(self, provider: str) -> _BilledFailure:
        return self.provider

    def native_responses(self, provider: str) -> None:
        return None

    def native_messages(self, provider: str) -> None:
        return None

    def native_gemini(self, provider: str) -> None:
        return None


async def _fallback_world(limit: str) -> World:
    world = World()
    await world.setup(limit)
    catalog = CatalogUseCases(world.uow)
    await catalog.save_model(replace(MODEL, fallbacks=("demo/backup",)))
    await catalog.save_model(Model("demo/backup", "demo", "backup", max_output_tokens=500))
    await catalog.add_price(
        PriceVersion(
            "demo/backup",
            T0 - timedelta(days=1),
            input=Decimal("0.1"),
            output=Decimal("0.3"),
        )
    )
    return world


@pytest.mark.parametrize(("billed", "falls_back"), [(0, True), (400, True), (430, False)])
async def test_a_fallback_runs_only_while_the_hold_covers_what_was_billed(
    billed: int, falls_back: bool
) -> None:
    """The hold (164 input + 100 output tokens on demo/chat: 464e-6 before margin) covers one
    attempt; after a billed failure the fallback (worst case 46.4e-6) runs only if what was
    billed plus its worst case still fits: 400 + 46.4 does, 430 + 46.4 does not."""
    world = await _fallback_world("1")
    provider = _BilledFailure(billed)
    calls = ModelCalls(world.metering, _Registry(provider), 1.0, relays=RelayPool())  # type: ignore[arg-type]
    grant = await world.grant()
    bound = text_bound(100, 100)
    await world.metering.hold_and_journal(grant, bound)
    request = CallRequest(CallKind.CHAT, {"messages": []}, bound)

    if falls_back:
        await calls.complete(grant, request)
    else:
        with pytest.raises(ProviderError):
            await calls.complete(grant, request)

    assert provider.calls == (["demo/chat", "demo/backup"] if falls_back else ["demo/chat"])
    await world.leases_returned()
    spent, reserved = await world.counter()
    assert reserved == 0
    assert spent <= (Decimal(164) + 300 * 3) / 1_000_000 * Decimal("1.1")  # never past the hold


class _FailingGemini:
    """Speaks Gemini's API for the `demo` provider only, and fails with a 503."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def generate(self, model: Model, body: JSON) -> ProviderResponse:
        self.calls.append(model.id)
        raise ProviderError(ProviderFailure.STATUS, "unavailable", status=503)


class _GeminiRegistry(_Registry):
    def __init__(self, provider: _BilledFailure, gemini: _FailingGemini) -> None:
        super().__init__(provider)
        self.gemini = gemini

    # The base fake speaks no Gemini; this one does, for the demo provider only.
    def native_gemini(self, provider: str) -> _FailingGemini | None:  # type: ignore[override]
        return self.gemini if provider == "demo" else None


async def test_a_native_gemini_body_never_falls_back_to_a_provider_that_cannot_take_it() -> None:
    world = World()
    await world.setup("1")
    catalog = CatalogUseCases(world.uow)
    await catalog.save_model(replace(MODEL, fallbacks=("other/backup",)))
    await catalog.save_model(Model("other/backup", "other", "backup", max_output_tokens=500))
    await catalog.add_price(
        PriceVersion("other/backup", T0 - timedelta(days=1), input=Decimal(1), output=Decimal(1))
    )
    chat, gemini = _BilledFailure(0), _FailingGemini()
    calls = ModelCalls(world.metering, _GeminiRegistry(chat, gemini), 1.0, relays=RelayPool())  # type: ignore[arg-type]
    grant = await world.grant()
    bound = text_bound(10, 10)
    await world.metering.hold_and_journal(grant, bound)

    with pytest.raises(ProviderError) as raised:
        await calls.complete(grant, CallRequest(CallKind.GEMINI, {"contents": []}, bound))

    assert raised.value.status == 503  # Google's own failure, not a made-up attempt's
    assert gemini.calls == ["demo/chat"]
    assert chat.calls == []  # the Gemini-format body never went to the other provider


async def test_two_processes_share_a_budget_through_leases_and_a_dead_ones_come_back() -> None:
    """Two Meterings on one store (two processes): their leases never take the counter past
    the limit together; when one dies with calls open, recovery settles its calls out of its
    lease and gives the rest back."""
    world = World()
    await world.setup("0.002")
    async with world.uow() as tx:  # the live process's lease; the other never renews
        await tx.leases.renew(ProcessLease("alive-process", T0 + timedelta(hours=1)))
        await tx.commit()
    alive, doomed = world.process("alive-process"), world.process("doomed")
    held: dict[str, list[CallGrant]] = {"alive": [], "doomed": []}
    for turn in range(40):
        name, metering = ("alive", alive) if turn % 2 else ("doomed", doomed)
        world.metering = metering
        grant = await world.grant()
        try:
            await metering.hold_and_journal(grant, text_bound(100, 100))
            held[name].append(grant)
        except BudgetExceeded:
            pass
        spent, reserved = await world.counter()
        assert spent + reserved <= Decimal("0.002")
    assert held["alive"]
    assert held["doomed"]
    for grant in held["alive"]:  # the live process's calls end normally
        await alive.settle(grant, [attempt(grant, 10, 20)])

    # the other never renewed a lease: dead to recovery, which settles its calls out of its
    # leases and gives the rest back
    swept = await alive.recover(T0, live_at=T0 + timedelta(minutes=1))
    assert swept == len(held["doomed"])
    await alive.wait_for_settlements(0)  # the live process gives its own leases back too
    spent, reserved = await world.counter()
    assert reserved == 0
    async with world.uow() as tx:
        records = await tx.usage.for_client(world.client_id, T0, T0 + timedelta(days=1))
    assert spent == sum(r.charge.amount for r in records)
    assert spent <= Decimal("0.002")
