"""The re-send history: an async store with two real backends through SQLAlchemy.

SQLite is the embedded default, a file under ``DATA_DIR`` created on first start;
PostgreSQL (asyncpg) is selected by ``DATABASE_URL`` so several bot replicas share
one history. Both run the same SQLAlchemy Core statements, each store operation as
one function of a connection (`bot.history.database`).

`HistoryStore` is what the bot holds. It starts the database (`bot.history.migrations`
over the tables of `bot.history.schema`), checks and recovers it, and answers through
its three parts, each over the same database:

- `bot.history.attempts`: the attempts and the history's questions about them, among
  them which invoices match what a customer quotes (`bot.history.invoices`);
- `bot.history.journal`: re-sends written down before their provider call, under leases;
- `bot.history.claims`: the duplicate guard's claims on invoices.

Health: every failure marks the store degraded at once (`HistoryStore.problem`, see
`bot.history.failures`); `HistoryStore.recover` opens new connections and, for
SQLite, recreates a missing file or moves a broken one aside first (see
`bot.history.sqlitefile`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import deadlines
from bot.history import migrations, sqlitefile
from bot.history.attempts import Attempts
from bot.history.claims import Claims
from bot.history.database import Database, SQLiteDatabase
from bot.history.failures import FailureGuard, StoreUnavailableError, is_corruption
from bot.history.journal import InFlightJournal
from bot.history.records import AttemptRecord, Claim, InFlightAttempt
from providers.customers import CustomerQuery

log = structlog.get_logger(__name__)


def database_url(*, data_dir: str, database_url: str | None) -> str:
    """The SQLAlchemy URL: PostgreSQL (asyncpg) when given, else SQLite under ``data_dir``."""
    if database_url:
        url = make_url(database_url)
        if url.drivername in {
            "postgres",
            "postgresql",
            "postgresql+psycopg2",
            "postgresql+psycopg",
        }:
            url = url.set(drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)
    path = Path(data_dir).expanduser().resolve() / "history.sqlite3"
    return f"sqlite:///{path}"


class HistoryStore:
    """Records attempts, answers history questions, and arbitrates duplicate re-sends."""

    def __init__(
        self, url: str, *, schema: str | None = None, pool_timeout: float = deadlines.STORE_POOL
    ) -> None:
        self._url = url
        parsed = make_url(url)
        self._schema = schema
        self.backend = "postgresql" if parsed.get_backend_name() == "postgresql" else "sqlite"
        #: Created by `start` (no I/O here: a bad DATA_DIR must not stop the bot).
        self._sqlite_file: Path | None = None
        self._database: Database
        if self.backend == "sqlite":
            if schema:
                raise ValueError("DATABASE_SCHEMA needs PostgreSQL (DATABASE_URL)")
            database = parsed.database
            if database and database != ":memory:":
                self._sqlite_file = Path(database)
            self._database = SQLiteDatabase(parsed)
        else:
            # Imported only here: a bot on SQLite never loads asyncpg or the asyncio ORM.
            from bot.history.postgres import PostgresDatabase

            self._database = PostgresDatabase(parsed, schema=schema, pool_timeout=pool_timeout)
        self._guard = FailureGuard(self.backend, self.failed)
        self._attempts = Attempts(
            self._database, self._guard, backend=self.backend, check_file=self._check_file
        )
        self._journal = InFlightJournal(self._database, self._guard)
        self._claims = Claims(self._database, self._guard)
        #: The SQLite file this store opened (set by `start`), to notice it being replaced.
        self._identity: sqlitefile.FileIdentity | None = None
        #: Why the store failed last; None once a health check passed again (`recovered`).
        self.problem: str | None = None
        #: Failures so far; a check compares it before and after to tell a fresh failure.
        self.failures = 0

    @property
    def description(self) -> str:
        """The backend and where it lives, without credentials, for logs."""
        where = make_url(self._url).render_as_string(hide_password=True)
        return f"{where} (schema {self._schema})" if self._schema else where

    # --- Lifecycle and health -------------------------------------------------

    async def start(self) -> None:
        """Create or migrate the schema; safe to run from several processes at once.

        Raises `StoreUnavailableError` when the database cannot be reached or opened.
        """
        async with self._guard:
            if self._sqlite_file is not None:
                self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            await self._database.write(
                lambda connection: migrations.migrate(
                    connection, backend=self.backend, schema=self._schema
                )
            )
        if self._sqlite_file is not None:
            self._identity = sqlitefile.identity(self._sqlite_file)

    async def aclose(self) -> None:
        """Close every connection."""
        await self._database.aclose()

    async def recover(self) -> None:
        """Start afresh after a failure: close every connection (one opened while the
        database was read-only stays read-only), move a broken SQLite file aside, recreate
        a missing one, migrate. Raises `StoreUnavailableError` while that cannot be done.
        """
        path = self._sqlite_file
        broken = path is not None and not sqlitefile.looks_like_sqlite(path)
        if broken and path is not None:
            self._move_aside(path, "not an SQLite database")
        await self._database.dispose()
        if path is not None and not broken and self._identity is not None and not path.exists():
            # What a deleted file left behind (its -wal and -shm) must not meet a new file.
            sqlitefile.move_aside(path, "deleted")
            log.error("history_file_replaced", path=str(path), problem="missing: recreating it")
        try:
            await self.start()
        except StoreUnavailableError as exc:
            if path is None or not is_corruption(exc):
                raise
            self._move_aside(path, str(exc))
            await self._database.dispose()
            await self.start()

    def _move_aside(self, path: Path, why: str) -> None:
        aside = sqlitefile.move_aside(path, "corrupt")
        log.error("history_file_quarantined", path=str(path), moved_to=str(aside), why=why[:200])

    def file_problem(self) -> str | None:
        """SQLite: why the file is no longer the database this store opened; else None.

        A few microseconds (a ``stat`` and a 16-byte read): run before and after writes.
        """
        if self._sqlite_file is None or self._identity is None:
            return None
        return sqlitefile.problem(self._sqlite_file, self._identity)

    def read_only(self) -> bool:
        """SQLite: whether its directory or file cannot be written (new connections would
        open read-only); always False for PostgreSQL."""
        return self._sqlite_file is not None and not sqlitefile.writable(self._sqlite_file)

    def recovered(self, failures_before: int) -> None:
        """A health check that began when `failures` was ``failures_before`` passed."""
        if self.failures == failures_before:
            self.problem = None

    def failed(self, reason: str) -> None:
        """Mark the store degraded now (a failed call, or a failed health check)."""
        self.problem = reason
        self.failures += 1

    def _check_file(self) -> None:
        problem = self.file_problem()
        if problem is not None:
            if self.problem is None:
                log.error("history_file_replaced", path=str(self._sqlite_file), problem=problem)
            raise StoreUnavailableError(f"{self.backend}: {problem}")

    async def ping(self) -> str | None:
        """None when the store answers, else a short reason."""
        try:
            await self._database.read(lambda connection: connection.execute(select(1)).all())
        except (SQLAlchemyError, OSError) as exc:
            return f"history store unavailable: {type(exc).__name__}"
        return None

    async def schema_version(self) -> int:
        """The highest applied migration."""
        return await self._database.read(migrations.schema_version)

    # --- Attempts (`bot.history.attempts`) --------------------------------------

    async def record(self, record: AttemptRecord, *, finishes_attempt: bool = False) -> None:
        """Store one attempt (or refusal); ``finishes_attempt``: it ends a re-send that
        was written down (`begin_attempt`), see `record_many`."""
        await self.record_many([(record, finishes_attempt)])

    async def record_many(self, entries: Sequence[tuple[AttemptRecord, bool]]) -> None:
        """`record` for several attempts at once, in one transaction (`Attempts.record_many`)."""
        await self._attempts.record_many(entries)

    async def history(self, invoice_key: str, *, limit: int = 10) -> list[AttemptRecord]:
        """The latest attempts for one invoice, newest first."""
        return await self._attempts.history(invoice_key, limit=limit)

    async def attempt_count(self, invoice_key: str) -> int:
        """How many attempts one invoice has (`history` shows the latest few)."""
        return await self._attempts.count(invoice_key)

    async def attempts_by(self, user_id: str, *, limit: int = 20) -> list[AttemptRecord]:
        """One agent's latest attempts, newest first; duplicate warnings (shown in the
        modal, not attempts to send) are left out."""
        return await self._attempts.attempts_by(user_id, limit=limit)

    async def successes_since(self, invoice_key: str, since: datetime) -> list[AttemptRecord]:
        """Successful re-sends of one invoice since ``since``, oldest first."""
        return await self._attempts.successes_since(invoice_key, since)

    async def sends_since(self, invoice_key: str, since: datetime) -> list[AttemptRecord]:
        """Every attempt to send one invoice since ``since``, whatever its outcome, oldest
        first (`Attempts.sends_since`)."""
        return await self._attempts.sends_since(invoice_key, since)

    async def last_provider(self, user_id: str, since: datetime) -> str | None:
        """The provider of the user's latest attempt since ``since`` (refusals without an
        invoice aside), or None. ``since`` keeps the read on the time index."""
        return await self._attempts.last_provider(user_id, since)

    async def invoices_matching(
        self,
        query: CustomerQuery,
        *,
        provider: str | None = None,
        limit: int = 10,
        today: date | None = None,
    ) -> list[AttemptRecord]:
        """The invoices whose latest matching attempt fits what a customer quoted, newest
        first (`Attempts.invoices_matching`); ``today`` (default: UTC) resolves a month."""
        today = today or datetime.now(UTC).date()
        return await self._attempts.invoices_matching(
            query, provider=provider, limit=limit, today=today
        )

    def export(self, since: datetime, *, batch: int = 500) -> AsyncIterator[AttemptRecord]:
        """Every attempt since ``since``, in the order they were recorded, in batches."""
        return self._attempts.export(since, batch=batch)

    # --- Re-sends in flight (`bot.history.journal`) -----------------------------

    async def begin_attempt(self, attempt: InFlightAttempt) -> None:
        """Write a re-send down before its provider call."""
        await self._journal.begin_attempt(attempt)

    async def locate_attempt(self, attempt_id: str, *, channel: str, ts: str) -> None:
        """Note where a written-down re-send's "re-sending…" message landed."""
        await self._journal.locate_attempt(attempt_id, channel=channel, ts=ts)

    async def renew_leases(self, owner: str, *, until: datetime) -> int:
        """Keep ``owner``'s entries its own until ``until``; how many it has (a write)."""
        return await self._journal.renew_leases(owner, until=until)

    async def take_orphans(
        self, owner: str, *, now: datetime, until: datetime, limit: int = 20
    ) -> list[InFlightAttempt]:
        """Entries whose lease ran out before ``now``, each taken over by exactly one
        ``owner`` until ``until`` (`InFlightJournal.take_orphans`)."""
        return await self._journal.take_orphans(owner, now=now, until=until, limit=limit)

    async def inflight_attempts(self) -> list[InFlightAttempt]:
        """Every re-send written down and not finished, oldest first (tests, operators)."""
        return await self._journal.inflight_attempts()

    # --- Claims (`bot.history.claims`) ------------------------------------------

    async def claim(
        self,
        invoice_key: str,
        *,
        attempt_id: str,
        user_id: str,
        now: datetime,
        sent_window: timedelta,
        pending_timeout: timedelta,
        force: bool = False,
    ) -> Claim | None:
        """Take the invoice for this attempt; the holder when someone else has it
        (`Claims.claim`)."""
        return await self._claims.claim(
            invoice_key,
            attempt_id=attempt_id,
            user_id=user_id,
            now=now,
            sent_window=sent_window,
            pending_timeout=pending_timeout,
            force=force,
        )

    async def release(
        self, invoice_key: str, *, attempt_id: str, sent: bool, now: datetime
    ) -> None:
        """End this attempt's claim: keep it as "sent" for the window, or drop it."""
        await self._claims.release(invoice_key, attempt_id=attempt_id, sent=sent, now=now)
