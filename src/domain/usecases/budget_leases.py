"""This process's budget leases (domain/budgets/leases.py): calls' holds served from memory, a
database round trip only to top a lease up, to give its idle part back, and at shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from domain.budgets.leases import IDLE_SECONDS, Headroom
from domain.budgets.limits import Hold, LeaseTaken, Refusal
from domain.errors import BudgetUnavailable

Key = tuple[str, datetime]  # a counter: scope and period start
TopUp = Callable[[Hold, Decimal], Awaitable[LeaseTaken]]  # (the hold still missing, extra)
GiveBack = Callable[[str, datetime, Decimal], Awaitable[Decimal]]  # -> the lease's amount left
_TOP_UPS = 3  # a lease found smaller than believed (reclaimed) is topped up again


class BudgetLeases:
    def __init__(
        self,
        trusted: Callable[[], bool] = lambda: True,
        idle_seconds: float = IDLE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`trusted`: whether this process's own lease is surely still live; when it may have
        lapsed (heartbeats failing), others may have reclaimed its budget leases, so nothing
        is held from memory until a top-up read the lease back from the database."""
        self._trusted = trusted
        self._idle_seconds = idle_seconds
        self._now = monotonic
        self._rooms: dict[Key, Headroom] = {}
        self._locks: dict[Key, asyncio.Lock] = {}
        self._held: dict[str, tuple[Hold, ...]] = {}  # request id -> the holds it took

    async def hold(
        self, request_id: str, holds: Sequence[Hold], top_up: TopUp, give_back: GiveBack
    ) -> Refusal | None:
        """Take every hold, or none (the first refusal)."""
        taken: list[Hold] = []
        for hold in holds:
            refusal = await self._hold(hold, top_up, give_back)
            if refusal is not None:
                for earlier in taken:
                    self._room(earlier).release(earlier.amount)
                return refusal
            taken.append(hold)
        self._held[request_id] = tuple(taken)
        return None

    def release(self, request_id: str) -> None:
        """The call never reached a provider: its holds are free again."""
        for hold in self._held.pop(request_id, ()):
            self._room(hold).release(hold.amount)

    def settled(self, request_id: str, spent: Mapping[str, Decimal] | None) -> None:
        """The call's settlement committed, with this spend per scope moved out of the lease;
        None: another settlement won (recovery), so what the lease holds now is read back
        from the database before the next hold trusts it."""
        for hold in self._held.pop(request_id, ()):
            room = self._room(hold)
            if spent is None:
                room.release(hold.amount)
                room.stale = True
            else:
                room.settle(hold.amount, spent.get(hold.scope, Decimal(0)))

    async def return_idle(self, give_back: GiveBack) -> None:
        now = self._now()
        for key, room in list(self._rooms.items()):
            if room.idle(now, self._idle_seconds):
                await self._give_back(key, room, give_back)

    async def return_all(self, give_back: GiveBack) -> None:
        """At shutdown, once every call settled: the headroom goes back to the counters."""
        for key, room in list(self._rooms.items()):
            await self._give_back(key, room, give_back)

    async def _hold(self, hold: Hold, top_up: TopUp, give_back: GiveBack) -> Refusal | None:
        key = (hold.scope, hold.period.start)
        room = self._rooms.get(key)
        if room is None:
            room = self._rooms[key] = Headroom(hold.budget, hold.period)
        now = self._now()
        if self._usable(room, hold) and room.take(hold.amount, now):
            return None
        async with self._locks.setdefault(key, asyncio.Lock()):
            if room.budget != hold.budget:  # changed (a lower limit?): lease again under it
                await self._give_back(key, room, give_back, locked=True)
                room.budget = hold.budget
            if self._usable(room, hold) and room.take(hold.amount, now):  # topped up meanwhile
                return None
            slack = room.slack(now)  # the recent holds, before this one joins them
            room.claim(hold.amount, now)
            try:
                for attempt in range(_TOP_UPS):
                    # memory is trusted again once a top-up read the lease back
                    if room.missing == 0 and (attempt > 0 or self._usable(room, hold)):
                        return None
                    asked = Hold(hold.budget, hold.period, room.missing, hold.basis)
                    taken = await top_up(asked, slack)
                    room.leased = taken.amount  # the database's word, whatever memory believed
                    room.stale = False
                    if taken.refusal is not None:
                        room.release(hold.amount)
                        return Refusal(hold, taken.refusal.spent, taken.refusal.reserved)
            except BaseException:
                room.release(hold.amount)
                raise
            room.release(hold.amount)
        raise BudgetUnavailable("the budget lease could not be topped up; try again")

    async def _give_back(
        self, key: Key, room: Headroom, give_back: GiveBack, *, locked: bool = False
    ) -> None:
        if locked:
            await self._give_back_free(key, room, give_back)
            return
        async with self._locks.setdefault(key, asyncio.Lock()):
            await self._give_back_free(key, room, give_back)

    async def _give_back_free(self, key: Key, room: Headroom, give_back: GiveBack) -> None:
        free = room.free
        if free <= 0:
            return
        room.leased = await give_back(key[0], key[1], free)
        if room.leased <= 0 and room.in_flight <= 0:
            self._rooms.pop(key, None)

    def _usable(self, room: Headroom, hold: Hold) -> bool:
        return room.budget == hold.budget and not room.stale and self._trusted()

    def _room(self, hold: Hold) -> Headroom:
        key = (hold.scope, hold.period.start)
        if key not in self._rooms:  # given back meanwhile: a fresh (empty) record
            self._rooms[key] = Headroom(hold.budget, hold.period)
        return self._rooms[key]
