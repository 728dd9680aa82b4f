"""Re-sends written down before their provider call, each under a lease.

An entry in ``resend_inflight`` is written before the provider is called and
struck out in the same transaction as the attempt's history row (`strike_out`,
from `bot.history.attempts`). Each entry has an owner (a process) and a lease the
owner keeps renewing; an entry whose lease ran out belongs to a process that is
gone, and `InFlightJournal.take_orphans` hands each such entry to exactly one of
the processes asking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, delete, insert, select, update

from bot.history.database import Database
from bot.history.failures import FailureGuard
from bot.history.records import InFlightAttempt
from bot.history.schema import inflight_table

_INSERT: Final = insert(inflight_table)


class InFlightJournal:
    """The re-sends in flight: written down, located, kept under lease, taken over."""

    def __init__(self, database: Database, guard: FailureGuard) -> None:
        self._database = database
        self._guard = guard

    async def begin_attempt(self, attempt: InFlightAttempt) -> None:
        """Write a re-send down before its provider call."""
        async with self._guard:
            await self._database.execute(_INSERT, attempt.as_row())

    async def locate_attempt(self, attempt_id: str, *, channel: str, ts: str) -> None:
        """Note where a written-down re-send's "re-sending…" message landed."""
        statement = (
            update(inflight_table)
            .where(inflight_table.c.attempt_id == attempt_id)
            .values(message_channel=channel, message_ts=ts)
        )
        async with self._guard:
            await self._database.execute(statement)

    async def renew_leases(self, owner: str, *, until: datetime) -> int:
        """Keep ``owner``'s entries its own until ``until``; how many it has.

        Always a write, so it also tells whether the store takes writes.
        """
        statement = (
            update(inflight_table).where(inflight_table.c.owner == owner).values(lease_until=until)
        )
        async with self._guard:
            return await self._database.execute(statement)

    async def take_orphans(
        self, owner: str, *, now: datetime, until: datetime, limit: int
    ) -> list[InFlightAttempt]:
        """Entries whose lease ran out before ``now``, taken over by ``owner`` until ``until``;
        returned as they were (their ``owner`` is the process that lost them).

        Each is taken by a compare-and-set on its expired lease, so when several processes
        ask at once, each entry goes to exactly one of them.
        """
        expired = (
            select(inflight_table)
            .where(inflight_table.c.lease_until < now)
            .order_by(inflight_table.c.created_at)
            .limit(limit)
        )
        async with self._guard:
            rows = await self._database.rows(expired)
        taken: list[InFlightAttempt] = []
        for row in rows:
            take = (
                update(inflight_table)
                .where(
                    inflight_table.c.attempt_id == row.attempt_id,
                    inflight_table.c.lease_until < now,
                )
                .values(owner=owner, lease_until=until)
            )
            async with self._guard:
                count = await self._database.execute(take)
            if count == 1:
                taken.append(InFlightAttempt.from_row(row))
        return taken

    async def inflight_attempts(self) -> list[InFlightAttempt]:
        """Every re-send written down and not finished, oldest first (tests, operators)."""
        statement = select(inflight_table).order_by(inflight_table.c.created_at)
        async with self._guard:
            rows = await self._database.rows(statement)
        return [InFlightAttempt.from_row(row) for row in rows]


def strike_out(connection: Connection, attempt_ids: Sequence[str]) -> None:
    """End the entries of these attempts, in the transaction writing their history rows."""
    connection.execute(delete(inflight_table).where(inflight_table.c.attempt_id.in_(attempt_ids)))
