"""The re-send history: an async store with two real backends through SQLAlchemy.

SQLite is the embedded default, a file under ``DATA_DIR`` created on first start;
PostgreSQL (asyncpg) is selected by ``DATABASE_URL`` so several bot replicas share
one history. Both run the same SQLAlchemy Core statements, each store operation as
one function of a connection (`bot.history.database`).

Schema changes are numbered migrations in `MIGRATIONS`, applied in order at
start-up inside one transaction each and recorded in ``schema_migrations``. To
change the schema, append a migration; never edit one that has shipped.

Duplicate re-sends are prevented with claims: one row per invoice in
``resend_claims`` whose primary key makes "first one wins" atomic on both
backends, whatever the number of bot processes.

A re-send is written down in ``resend_inflight`` before its provider call and
removed in the same transaction as its history row. Each entry has an owner (a
process) and a lease the owner keeps renewing; an entry whose lease ran out
belongs to a process that is gone, and `HistoryStore.take_orphans` hands each
such entry to exactly one of the processes asking.

Health: every failure marks the store degraded at once (`HistoryStore.problem`);
`HistoryStore.recover` opens new connections and, for SQLite, recreates a
missing file or moves a broken one aside first (see `bot.history.sqlitefile`).
"""

from __future__ import annotations

import asyncio
import enum
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

import structlog
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from bot.history import sqlitefile
from bot.history.database import Database, PostgresDatabase, SQLiteDatabase

log = structlog.get_logger(__name__)

_T = TypeVar("_T")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the history store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
_ID = BigInteger().with_variant(Integer(), "sqlite")

attempts = Table(
    "resend_attempts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("attempt_id", String(36), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("team_id", String(32)),
    Column("user_id", String(32), nullable=False),
    Column("channel_id", String(32)),
    Column("provider", String(16), nullable=False),
    Column("invoice_key", String(200), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("alternative_email", String(320)),
    Column("outcome", String(32), nullable=False),
    Column("recipients", Text),
    Column("request_id", String(128)),
    Column("idempotency_key", String(64)),
    Column("latency_ms", Integer),
    Column("detail", Text),
    Column("message_channel", String(32)),
    Column("message_ts", String(32)),
    Index("ix_resend_attempts_invoice_created", "invoice_key", "created_at"),
    Index("ix_resend_attempts_created", "created_at"),
)


def _column_lengths(table: Table) -> dict[str, int]:
    return {
        column.name: column.type.length
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }


def _fit(row: dict[str, Any], lengths: dict[str, int]) -> dict[str, Any]:
    """Cut text values to their columns' lengths (PostgreSQL enforces them)."""
    for name, value in row.items():
        limit = lengths.get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            row[name] = value[: limit - 1] + "…"
    return row


_COLUMN_LENGTHS: Final[dict[str, int]] = _column_lengths(attempts)

claims = Table(
    "resend_claims",
    metadata,
    Column("invoice_key", String(200), primary_key=True),
    Column("attempt_id", String(36), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

inflight = Table(
    "resend_inflight",
    metadata,
    Column("attempt_id", String(36), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("team_id", String(32)),
    Column("user_id", String(32), nullable=False),
    Column("channel_id", String(32)),
    Column("provider", String(16), nullable=False),
    Column("invoice_key", String(200), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("alternative_email", String(320)),
    Column("idempotency_key", String(64), nullable=False),
    #: The job as its Reintentar button carries it: enough to offer the retry again.
    Column("job", Text, nullable=False),
    Column("response_url", Text),
    Column("message_channel", String(32)),
    Column("message_ts", String(32)),
    Index("ix_resend_inflight_lease", "lease_until"),
)

_INFLIGHT_LENGTHS: Final[dict[str, int]] = _column_lengths(inflight)

migrations_table = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)


def _create_v1(connection: Connection) -> None:
    metadata.create_all(connection, tables=[attempts, claims], checkfirst=True)


def _create_v2(connection: Connection) -> None:
    metadata.create_all(connection, tables=[inflight], checkfirst=True)


#: An agent's own attempts, newest first (the App Home). Built on a description of the
#: table of its own, so that creating the table (migration 1) does not create it too.
_BY_USER = Index(
    "ix_resend_attempts_user_created",
    *Table(
        attempts.name,
        MetaData(),
        Column("user_id", String(32)),
        Column("created_at", UTCDateTime()),
    ).columns,
)


def _create_v3(connection: Connection) -> None:
    _BY_USER.create(connection, checkfirst=True)


Migration = tuple[int, str, Callable[[Connection], None]]

#: Applied in order; append new ones, never edit shipped ones.
MIGRATIONS: Final[Sequence[Migration]] = (
    (1, "resend_attempts and resend_claims", _create_v1),
    (2, "resend_inflight: re-sends written down before the provider call", _create_v2),
    (3, "resend_attempts by user, newest first: the App Home", _create_v3),
)

#: The ``detail`` of a row written for an attempt whose process was lost: the only kind of
#: row a later write of the same attempt (its real outcome, from an outbox) replaces.
ORPHAN_DETAIL: Final = "the process running it stopped before the outcome was known"


@dataclass(frozen=True)
class AttemptRecord:
    """One row of history: an allowed or refused re-send attempt and how it ended."""

    attempt_id: str
    created_at: datetime
    user_id: str
    provider: str
    invoice_key: str
    reference: str
    outcome: str
    team_id: str | None = None
    channel_id: str | None = None
    alternative_email: str | None = None
    recipients: tuple[str, ...] = ()
    request_id: str | None = None
    idempotency_key: str | None = None
    latency_ms: int | None = None
    detail: str | None = None
    message_channel: str | None = None
    message_ts: str | None = None

    def as_row(self) -> dict[str, Any]:
        """The record as column values, cut to the columns' lengths (PostgreSQL enforces them)."""
        row = {name: getattr(self, name) for name in self.__dataclass_fields__}
        row["recipients"] = ", ".join(self.recipients) or None
        return _fit(row, _COLUMN_LENGTHS)

    @classmethod
    def from_row(cls, row: Any) -> AttemptRecord:
        """A record from a result row."""
        values = dict(row._mapping)
        values.pop("id", None)
        recipients = values.pop("recipients", None) or ""
        return cls(
            **values, recipients=tuple(r.strip() for r in recipients.split(",") if r.strip())
        )


@dataclass(frozen=True)
class InFlightAttempt:
    """A re-send written down before its provider call, until its history row is written."""

    attempt_id: str
    owner: str
    lease_until: datetime
    created_at: datetime
    user_id: str
    provider: str
    invoice_key: str
    reference: str
    idempotency_key: str
    job: str
    team_id: str | None = None
    channel_id: str | None = None
    alternative_email: str | None = None
    response_url: str | None = None
    message_channel: str | None = None
    message_ts: str | None = None

    def as_row(self) -> dict[str, Any]:
        """The entry as column values, cut to the columns' lengths."""
        row = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return _fit(row, _INFLIGHT_LENGTHS)

    @classmethod
    def from_row(cls, row: Any) -> InFlightAttempt:
        """An entry from a result row."""
        return cls(**dict(row._mapping))


class ClaimState(enum.StrEnum):
    """Where a claimed re-send is: running, or sent (kept to spot duplicates)."""

    PENDING = "pending"
    SENT = "sent"


@dataclass(frozen=True)
class Claim:
    """Who holds an invoice right now, as seen when a claim was refused."""

    attempt_id: str
    user_id: str
    state: ClaimState
    updated_at: datetime


class StoreUnavailableError(Exception):
    """The history store could not be reached or failed; callers carry on without it."""


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

    def __init__(self, url: str, *, schema: str | None = None, pool_timeout: float = 2.0) -> None:
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
            self._database = PostgresDatabase(parsed, schema=schema, pool_timeout=pool_timeout)
        self._upsert = self._build_upsert()
        #: Releases of claims whose caller stopped waiting (kept so they are not collected).
        self._background: set[asyncio.Future[None]] = set()
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

    async def start(self) -> None:
        """Create or migrate the schema; safe to run from several processes at once.

        Raises `StoreUnavailableError` when the database cannot be reached or opened.
        """
        async with self._guard():
            if self._sqlite_file is not None:
                self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            await self._database.write(self._migrate)
        if self._sqlite_file is not None:
            self._identity = sqlitefile.identity(self._sqlite_file)

    def _migrate(self, connection: Connection) -> None:
        if self.backend == "sqlite":
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        else:
            # One migrator at a time across replicas.
            connection.execute(text("SELECT pg_advisory_xact_lock(734265001)"))
            if self._schema:
                quoted = connection.dialect.identifier_preparer.quote_identifier(self._schema)
                connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
        metadata.create_all(connection, tables=[migrations_table], checkfirst=True)
        done = set(connection.execute(select(migrations_table.c.version)).scalars())
        for version, description, apply in MIGRATIONS:
            if version in done:
                continue
            apply(connection)
            connection.execute(
                insert(migrations_table).values(
                    version=version, description=description, applied_at=datetime.now(UTC)
                )
            )
            log.info("history_migrated", version=version, description=description)

    async def aclose(self) -> None:
        """Close every connection."""
        await self._database.aclose()

    # --- Health ---------------------------------------------------------------

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
            if path is None or not _is_corruption(exc):
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
        path, opened = self._sqlite_file, self._identity
        if path is None or opened is None:
            return None
        now = sqlitefile.identity(path)
        if now is None:
            return "database file missing"
        if now != opened:
            return "database file replaced"
        if not sqlitefile.looks_like_sqlite(path):
            return "database file is not an SQLite database"
        return None

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
        value = await self._database.read(
            lambda connection: connection.scalar(select(func.max(migrations_table.c.version)))
        )
        return int(value or 0)

    async def _rows(self, statement: Any) -> Sequence[Row[Any]]:
        """Every row ``statement`` reads, as one operation."""
        async with self._guard():
            return await self._database.read(lambda c: c.execute(statement).all())

    # --- Attempts -------------------------------------------------------------

    async def record(self, record: AttemptRecord, *, finishes_attempt: bool = False) -> None:
        """Store one attempt (or refusal); ``finishes_attempt``: it ends a re-send that
        was written down (`begin_attempt`), whose entry and claim end in the same
        transaction (see `record_many`)."""
        await self.record_many([(record, finishes_attempt)])

    async def record_many(self, entries: Sequence[tuple[AttemptRecord, bool]]) -> None:
        """`record` for several attempts at once, in one transaction.

        A row that finishes an attempt also ends the attempt's duplicate claim if it still
        holds it as pending: kept as sent when the e-mail went or may have gone (the
        outcome is ``success`` or ``unknown``), freed otherwise; the caller need not
        `release` it.

        Idempotent by ``attempt_id``: writing an attempt again (an outbox replayed after a
        crash) changes nothing, but that a real outcome replaces an `ORPHAN_DETAIL` guess.
        With SQLite, a row that may have gone to a file deleted or replaced meanwhile
        raises `StoreUnavailableError` (the caller keeps it for later).
        """
        if not entries:
            return
        rows = [r.as_row() for r, _ in entries]
        finishing = [record for record, finishes in entries if finishes]

        def write(connection: Connection) -> None:
            connection.execute(self._upsert, rows)
            if finishing:
                finished = [record.attempt_id for record in finishing]
                connection.execute(delete(inflight).where(inflight.c.attempt_id.in_(finished)))
                for record in finishing:
                    _release_with(connection, record)
            # Before the commit, off the event loop: rows bound for a file deleted or
            # replaced meanwhile are rolled back, and the caller keeps them.
            self._check_file()

        async with self._guard():
            await self._database.write(write)

    def _build_upsert(self) -> Any:
        build = postgresql_dialect.insert if self.backend == "postgresql" else sqlite_dialect.insert
        statement = build(attempts)
        changed = [c.name for c in attempts.columns if c.name not in {"id", "attempt_id"}]
        return statement.on_conflict_do_update(
            index_elements=[attempts.c.attempt_id],
            set_={name: statement.excluded[name] for name in changed},
            where=attempts.c.detail == ORPHAN_DETAIL,
        )

    async def history(self, invoice_key: str, *, limit: int = 10) -> list[AttemptRecord]:
        """The latest attempts for one invoice, newest first."""
        statement = (
            select(attempts)
            .where(attempts.c.invoice_key == invoice_key)
            .order_by(attempts.c.created_at.desc(), attempts.c.id.desc())
            .limit(limit)
        )
        return [AttemptRecord.from_row(row) for row in await self._rows(statement)]

    async def attempts_by(self, user_id: str, *, limit: int = 20) -> list[AttemptRecord]:
        """One agent's latest attempts, newest first; duplicate warnings (shown in the
        modal, not attempts to send) are left out."""
        statement = (
            select(attempts)
            .where(attempts.c.user_id == user_id, attempts.c.outcome != "duplicate_warning")
            .order_by(attempts.c.created_at.desc(), attempts.c.id.desc())
            .limit(limit)
        )
        return [AttemptRecord.from_row(row) for row in await self._rows(statement)]

    async def successes_since(self, invoice_key: str, since: datetime) -> list[AttemptRecord]:
        """Successful re-sends of one invoice since ``since``, oldest first."""
        statement = (
            select(attempts)
            .where(
                attempts.c.invoice_key == invoice_key,
                attempts.c.outcome == "success",
                attempts.c.created_at >= since,
            )
            .order_by(attempts.c.created_at)
        )
        return [AttemptRecord.from_row(row) for row in await self._rows(statement)]

    async def last_provider(self, user_id: str, since: datetime) -> str | None:
        """The provider of the user's latest attempt since ``since`` (refusals without an
        invoice aside), or None. ``since`` keeps the read on the time index."""
        statement = (
            select(attempts.c.provider)
            .where(
                attempts.c.created_at >= since,
                attempts.c.user_id == user_id,
                attempts.c.provider != "",
            )
            .order_by(attempts.c.created_at.desc())
            .limit(1)
        )
        rows = await self._rows(statement)
        return str(rows[0].provider) if rows and rows[0].provider else None

    async def export(self, since: datetime, *, batch: int = 500) -> AsyncIterator[AttemptRecord]:
        """Every attempt since ``since``, in the order they were recorded, in batches."""
        last_id = 0
        while True:
            statement = (
                select(attempts)
                .where(attempts.c.created_at >= since, attempts.c.id > last_id)
                .order_by(attempts.c.id)
                .limit(batch)
            )
            rows = await self._rows(statement)
            if not rows:
                return
            for row in rows:
                yield AttemptRecord.from_row(row)
            last_id = int(rows[-1].id)

    # --- Re-sends in flight -----------------------------------------------------

    async def begin_attempt(self, attempt: InFlightAttempt) -> None:
        """Write a re-send down before its provider call."""
        async with self._guard():
            await self._database.execute(_INSERT_INFLIGHT, attempt.as_row())

    async def locate_attempt(self, attempt_id: str, *, channel: str, ts: str) -> None:
        """Note where a written-down re-send's "re-sending…" message landed."""
        statement = (
            update(inflight)
            .where(inflight.c.attempt_id == attempt_id)
            .values(message_channel=channel, message_ts=ts)
        )
        async with self._guard():
            await self._database.execute(statement)

    async def renew_leases(self, owner: str, *, until: datetime) -> int:
        """Keep ``owner``'s entries its own until ``until``; how many it has.

        Always a write, so it also tells whether the store takes writes.
        """
        statement = update(inflight).where(inflight.c.owner == owner).values(lease_until=until)
        async with self._guard():
            return await self._database.execute(statement)

    async def take_orphans(
        self, owner: str, *, now: datetime, until: datetime, limit: int = 20
    ) -> list[InFlightAttempt]:
        """Entries whose lease ran out before ``now``, taken over by ``owner`` until ``until``;
        returned as they were (their ``owner`` is the process that lost them).

        Each is taken by a compare-and-set on its expired lease, so when several processes
        ask at once, each entry goes to exactly one of them.
        """
        expired = (
            select(inflight)
            .where(inflight.c.lease_until < now)
            .order_by(inflight.c.created_at)
            .limit(limit)
        )
        taken: list[InFlightAttempt] = []
        for row in await self._rows(expired):
            take = (
                update(inflight)
                .where(inflight.c.attempt_id == row.attempt_id, inflight.c.lease_until < now)
                .values(owner=owner, lease_until=until)
            )
            async with self._guard():
                count = await self._database.execute(take)
            if count == 1:
                taken.append(InFlightAttempt.from_row(row))
        return taken

    async def inflight_attempts(self) -> list[InFlightAttempt]:
        """Every re-send written down and not finished, oldest first (tests, operators)."""
        statement = select(inflight).order_by(inflight.c.created_at)
        return [InFlightAttempt.from_row(row) for row in await self._rows(statement)]

    # --- Claims ---------------------------------------------------------------

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
        """Take the invoice for this attempt; returns the holder when someone else has it.

        Someone holds it while their re-send runs (up to ``pending_timeout``) and,
        once sent, for ``sent_window``. ``force`` takes it regardless (the agent
        confirmed a second send).
        """
        values = {
            "invoice_key": invoice_key,
            "attempt_id": attempt_id,
            "user_id": user_id,
            "state": ClaimState.PENDING.value,
            "updated_at": now,
        }

        def take_over(connection: Connection) -> tuple[bool, Claim | None]:
            """(settled, holder): the holder to report, or None once taken; not settled
            when the claim was released or taken by someone else meanwhile."""
            row = connection.execute(select(claims).where(claims.c.invoice_key == invoice_key))
            found = row.first()
            if found is None:
                return False, None
            holder = Claim(
                attempt_id=found.attempt_id,
                user_id=found.user_id,
                state=ClaimState(found.state),
                updated_at=found.updated_at,
            )
            hold = pending_timeout if holder.state is ClaimState.PENDING else sent_window
            held = now - holder.updated_at < hold
            # Forcing overrides someone else's claim, never a run of this same attempt
            # still going (a retry button pressed twice).
            running_already = holder.attempt_id == attempt_id and holder.state is ClaimState.PENDING
            if held and (not force or running_already):
                return True, holder
            # Expired (or overridden): take it over only if nobody else did first.
            taken = connection.execute(
                update(claims)
                .where(
                    claims.c.invoice_key == invoice_key,
                    claims.c.attempt_id == holder.attempt_id,
                )
                .values(**values)
            )
            return taken.rowcount == 1, None

        def taken_over(outcome: tuple[bool, Claim | None]) -> bool:
            return outcome == (True, None)

        async with self._guard():
            for _ in range(3):
                try:
                    await self._unless_abandoned(
                        self._database.execute(_INSERT_CLAIM, values),
                        invoice_key,
                        attempt_id,
                        taken=lambda _: True,
                    )
                except IntegrityError:
                    # Someone holds it: see who, and whether it is still theirs.
                    settled, holder = await self._unless_abandoned(
                        self._database.write(take_over), invoice_key, attempt_id, taken=taken_over
                    )
                    if settled:
                        return holder
                else:
                    return None
            raise StoreUnavailableError(f"claim on {invoice_key} kept changing hands")

    async def _unless_abandoned(
        self,
        step: Awaitable[_T],
        invoice_key: str,
        attempt_id: str,
        *,
        taken: Callable[[_T], bool],
    ) -> _T:
        """``step``'s answer. A caller that stops waiting (a deadline) does not stop the
        step, which runs on to its commit: a claim it takes after all is released then."""
        running = asyncio.ensure_future(step)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:

            def undo(done: asyncio.Future[_T]) -> None:
                if done.cancelled() or done.exception() is not None or not taken(done.result()):
                    return
                log.warning("history_claim_abandoned", invoice_key=invoice_key)
                release = asyncio.ensure_future(
                    self.release(
                        invoice_key, attempt_id=attempt_id, sent=False, now=datetime.now(UTC)
                    )
                )
                self._background.add(release)
                release.add_done_callback(self._background.discard)

            running.add_done_callback(undo)
            raise

    async def release(
        self, invoice_key: str, *, attempt_id: str, sent: bool, now: datetime
    ) -> None:
        """End this attempt's claim: keep it as "sent" for the window, or drop it."""
        mine = (claims.c.invoice_key == invoice_key) & (claims.c.attempt_id == attempt_id)
        statement = (
            update(claims).where(mine).values(state=ClaimState.SENT.value, updated_at=now)
            if sent
            else delete(claims).where(mine)
        )
        async with self._guard():
            await self._database.execute(statement)

    def _guard(self) -> _StoreErrors:
        return _StoreErrors(self)


_INSERT_INFLIGHT: Final = insert(inflight)
_INSERT_CLAIM: Final = insert(claims)


#: Outcomes after which the e-mail went out or may have: the claim is kept as "sent".
SENT_OUTCOMES: Final = frozenset({"success", "unknown"})


def _release_with(connection: Connection, record: AttemptRecord) -> None:
    """End the claim ``record``'s attempt still holds as pending (its key is the
    attempt's idempotency key); a claim taken over, or already released, is left alone."""
    if record.idempotency_key is None:
        return
    mine = (
        (claims.c.invoice_key == record.invoice_key)
        & (claims.c.attempt_id == record.idempotency_key)
        & (claims.c.state == ClaimState.PENDING.value)
    )
    if record.outcome in SENT_OUTCOMES:
        connection.execute(
            update(claims)
            .where(mine)
            .values(state=ClaimState.SENT.value, updated_at=record.created_at)
        )
    else:
        connection.execute(delete(claims).where(mine))


def _short_reason(exc: BaseException) -> str:
    """The failure in a few words, for readiness (no SQL, parameters, hosts or ports):
    the driver's exception type, and SQLite's own fixed message."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, sqlite3.Error):
        return f"{type(cause).__name__}: {cause}"
    return type(cause).__name__


def _is_corruption(exc: BaseException) -> bool:
    """Whether SQLite said the file is not a database or is malformed (not transient)."""
    while exc is not None:
        if isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorcode", None) in {
            sqlite3.SQLITE_CORRUPT,
            sqlite3.SQLITE_NOTADB,
        }:
            return True
        exc = exc.__cause__ or getattr(exc, "orig", None)  # type: ignore[assignment]
    return False


class _StoreErrors:
    """Turn database and network failures into `StoreUnavailableError`, and mark the
    store degraded at once."""

    def __init__(self, store: HistoryStore) -> None:
        self._store = store

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, StoreUnavailableError):
            self._store.failed(str(exc))
        elif isinstance(exc, SQLAlchemyError | OSError | TimeoutError):
            self._store.failed(_short_reason(exc))
            reason = f"{self._store.backend}: {type(exc).__name__}: {exc}"
            raise StoreUnavailableError(reason) from exc
