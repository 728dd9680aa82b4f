"""The attempts: each re-send (or refusal) written down once, and the history's questions.

Writing is idempotent by ``attempt_id``: writing an attempt again (an outbox
replayed after a crash) changes nothing, but that a real outcome replaces an
`ORPHAN_DETAIL` guess. The row that finishes a re-send also ends its entry in the
journal (`bot.history.journal`) and its claim (`bot.history.claims`), in the same
transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Connection, Executable, func, select

from bot.history import claims, journal
from bot.history.database import Database
from bot.history.failures import FailureGuard
from bot.history.invoices import query_conditions
from bot.history.records import ORPHAN_DETAIL, AttemptRecord
from bot.history.schema import attempts_table
from providers.customers import CustomerQuery

#: Outcomes of rows that are no attempt to send: the bot refused, or warned of a duplicate.
NOT_SENDING: Final = ("refused", "duplicate_warning")


class Attempts:
    """Records attempts and reads them back: per invoice, per agent, by what a customer
    quotes, for export."""

    def __init__(
        self,
        database: Database,
        guard: FailureGuard,
        *,
        backend: str,
        check_file: Callable[[], None],
    ) -> None:
        self._database = database
        self._guard = guard
        self._check_file = check_file
        self._upsert = _build_upsert(backend)

    async def record_many(self, entries: Sequence[tuple[AttemptRecord, bool]]) -> None:
        """Write these attempts (or refusals) in one transaction; with each, whether it
        finishes a re-send that was written down (`InFlightJournal.begin_attempt`).

        A row that finishes an attempt strikes its journal entry out, and ends the
        attempt's duplicate claim if it still holds it as pending: kept as sent when the
        e-mail went or may have gone (the outcome is ``success`` or ``unknown``), freed
        otherwise; the caller need not release it.

        Idempotent by ``attempt_id``. With SQLite, a row that may have gone to a file
        deleted or replaced meanwhile raises `StoreUnavailableError` (the caller keeps
        it for later).
        """
        if not entries:
            return
        rows = [r.as_row() for r, _ in entries]
        finishing = [record for record, finishes in entries if finishes]

        def write(connection: Connection) -> None:
            connection.execute(self._upsert, rows)
            if finishing:
                journal.strike_out(connection, [record.attempt_id for record in finishing])
                for record in finishing:
                    claims.end_claim(connection, record)
            # Before the commit, off the event loop: rows bound for a file deleted or
            # replaced meanwhile are rolled back, and the caller keeps them.
            self._check_file()

        async with self._guard:
            await self._database.write(write)

    async def history(self, invoice_key: str, *, limit: int) -> list[AttemptRecord]:
        """The latest attempts for one invoice, newest first."""
        statement = (
            select(attempts_table)
            .where(attempts_table.c.invoice_key == invoice_key)
            .order_by(attempts_table.c.created_at.desc(), attempts_table.c.id.desc())
            .limit(limit)
        )
        return await self._records(statement)

    async def count(self, invoice_key: str) -> int:
        """How many attempts one invoice has, all of them."""
        statement = select(func.count()).where(attempts_table.c.invoice_key == invoice_key)
        async with self._guard:
            rows = await self._database.rows(statement)
        return int(rows[0][0]) if rows else 0

    async def attempts_by(self, user_id: str, *, limit: int) -> list[AttemptRecord]:
        """One agent's latest attempts, newest first, duplicate warnings left out."""
        statement = (
            select(attempts_table)
            .where(
                attempts_table.c.user_id == user_id,
                attempts_table.c.outcome != "duplicate_warning",
            )
            .order_by(attempts_table.c.created_at.desc(), attempts_table.c.id.desc())
            .limit(limit)
        )
        return await self._records(statement)

    async def successes_since(self, invoice_key: str, since: datetime) -> list[AttemptRecord]:
        """Successful re-sends of one invoice since ``since``, oldest first."""
        statement = (
            select(attempts_table)
            .where(
                attempts_table.c.invoice_key == invoice_key,
                attempts_table.c.outcome == "success",
                attempts_table.c.created_at >= since,
            )
            .order_by(attempts_table.c.created_at)
        )
        return await self._records(statement)

    async def sends_since(self, invoice_key: str, since: datetime) -> list[AttemptRecord]:
        """Every attempt to send one invoice since ``since`` (refusals and duplicate warnings
        aside), whatever its outcome, oldest first."""
        statement = (
            select(attempts_table)
            .where(
                attempts_table.c.invoice_key == invoice_key,
                attempts_table.c.outcome.not_in(NOT_SENDING),
                attempts_table.c.created_at >= since,
            )
            .order_by(attempts_table.c.created_at, attempts_table.c.id)
        )
        return await self._records(statement)

    async def last_provider(self, user_id: str, since: datetime) -> str | None:
        """The provider of the user's latest attempt since ``since`` (refusals without an
        invoice aside), or None."""
        statement = (
            select(attempts_table.c.provider)
            .where(
                attempts_table.c.created_at >= since,
                attempts_table.c.user_id == user_id,
                attempts_table.c.provider != "",
            )
            .order_by(attempts_table.c.created_at.desc())
            .limit(1)
        )
        async with self._guard:
            rows = await self._database.rows(statement)
        return str(rows[0].provider) if rows and rows[0].provider else None

    async def invoices_matching(
        self, query: CustomerQuery, *, provider: str | None, limit: int, today: date
    ) -> list[AttemptRecord]:
        """The latest attempt of each invoice among those matching ``query``, newest first.

        What matches is `bot.history.invoices.query_conditions`. Every attempt to send
        counts, whatever its outcome (a rejected re-send is still the customer's
        invoice); refusals and duplicate warnings (no attempt, no lookup) never do. The
        latest *matching* attempt stands for its invoice, so a later one whose lookup
        had not answered does not hide it. ``provider``: only its invoices; ``today``
        resolves a month without a year.
        """
        columns = attempts_table.c
        conditions = [
            *query_conditions(query, today=today),
            columns.outcome.not_in(NOT_SENDING),
            columns.invoice_key != "",
        ]
        if provider is not None:
            conditions.append(columns.provider == provider)
        recency = (
            func.row_number()
            .over(
                partition_by=columns.invoice_key,
                order_by=(columns.created_at.desc(), columns.id.desc()),
            )
            .label("recency")
        )
        ranked = select(attempts_table, recency).where(*conditions).subquery()
        statement = (
            select(*(ranked.c[column.name] for column in attempts_table.columns))
            .where(ranked.c.recency == 1)
            .order_by(ranked.c.created_at.desc(), ranked.c.id.desc())
            .limit(limit)
        )
        return await self._records(statement)

    async def export(self, since: datetime, *, batch: int) -> AsyncIterator[AttemptRecord]:
        """Every attempt since ``since``, in the order they were recorded, in batches."""
        last_id = 0
        while True:
            statement = (
                select(attempts_table)
                .where(attempts_table.c.created_at >= since, attempts_table.c.id > last_id)
                .order_by(attempts_table.c.id)
                .limit(batch)
            )
            async with self._guard:
                rows = await self._database.rows(statement)
            if not rows:
                return
            for row in rows:
                yield AttemptRecord.from_row(row)
            last_id = int(rows[-1].id)

    async def _records(self, statement: Executable) -> list[AttemptRecord]:
        async with self._guard:
            rows = await self._database.rows(statement)
        return [AttemptRecord.from_row(row) for row in rows]


def _build_upsert(backend: str) -> Any:
    """The insert of attempts rows: a row already there is replaced only when it is an
    `ORPHAN_DETAIL` guess."""
    # Each dialect is imported for its own backend only (PostgreSQL's pulls in asyncpg's).
    statement: Any
    if backend == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement = postgresql.insert(attempts_table)
    else:
        from sqlalchemy.dialects import sqlite

        statement = sqlite.insert(attempts_table)
    changed = [c.name for c in attempts_table.columns if c.name not in {"id", "attempt_id"}]
    return statement.on_conflict_do_update(
        index_elements=[attempts_table.c.attempt_id],
        set_={name: statement.excluded[name] for name in changed},
        where=attempts_table.c.detail == ORPHAN_DETAIL,
    )
