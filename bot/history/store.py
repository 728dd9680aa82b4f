"""The re-send history: an async store with two real backends through SQLAlchemy.

SQLite (aiosqlite) is the embedded default, a file under ``DATA_DIR`` created on
first start; PostgreSQL (asyncpg) is selected by ``DATABASE_URL`` so several bot
replicas share one history. Both run the same SQLAlchemy Core statements.

Schema changes are numbered migrations in `MIGRATIONS`, applied in order at
start-up inside one transaction each and recorded in ``schema_migrations``. To
change the schema, append a migration; never edit one that has shipped.

Duplicate re-sends are prevented with claims: one row per invoice in
``resend_claims`` whose primary key makes "first one wins" atomic on both
backends, whatever the number of bot processes.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import structlog
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

log = structlog.get_logger(__name__)


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

_COLUMN_LENGTHS: Final[dict[str, int]] = {
    column.name: column.type.length
    for column in attempts.columns
    if isinstance(column.type, String) and column.type.length
}

claims = Table(
    "resend_claims",
    metadata,
    Column("invoice_key", String(200), primary_key=True),
    Column("attempt_id", String(36), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

migrations_table = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)


async def _create_v1(connection: AsyncConnection) -> None:
    await connection.run_sync(
        lambda sync: metadata.create_all(sync, tables=[attempts, claims], checkfirst=True)
    )


Migration = tuple[int, str, Callable[[AsyncConnection], Awaitable[None]]]

#: Applied in order; append new ones, never edit shipped ones.
MIGRATIONS: Final[Sequence[Migration]] = ((1, "resend_attempts and resend_claims", _create_v1),)


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
        for name, value in row.items():
            limit = _COLUMN_LENGTHS.get(name)
            if limit is not None and isinstance(value, str) and len(value) > limit:
                row[name] = value[: limit - 1] + "…"
        return row

    @classmethod
    def from_row(cls, row: Any) -> AttemptRecord:
        """A record from a result row."""
        values = dict(row._mapping)
        values.pop("id", None)
        recipients = values.pop("recipients", None) or ""
        return cls(
            **values, recipients=tuple(r.strip() for r in recipients.split(",") if r.strip())
        )


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
    """The SQLAlchemy async URL: PostgreSQL when given, else SQLite under ``data_dir``."""
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
    return f"sqlite+aiosqlite:///{path}"


class HistoryStore:
    """Records attempts, answers history questions, and arbitrates duplicate re-sends."""

    def __init__(self, url: str, *, schema: str | None = None, pool_timeout: float = 2.0) -> None:
        self._url = url
        parsed = make_url(url)
        self._schema = schema
        self.backend = "postgresql" if parsed.get_backend_name() == "postgresql" else "sqlite"
        options: dict[str, Any] = {"pool_pre_ping": True}
        #: Created by `start` (no I/O here: a bad DATA_DIR must not stop the bot).
        self._sqlite_file: Path | None = None
        if self.backend == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                self._sqlite_file = Path(database)
            options["connect_args"] = {"timeout": 5}
        else:
            options.update(pool_size=5, max_overflow=10, pool_timeout=pool_timeout)
            options["connect_args"] = {"timeout": 5, "command_timeout": 5}
        engine = create_async_engine(url, **options)
        if schema:
            if self.backend != "postgresql":
                raise ValueError("DATABASE_SCHEMA needs PostgreSQL (DATABASE_URL)")
            engine = engine.execution_options(schema_translate_map={None: schema})
        self._engine: AsyncEngine = engine

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
            await self._start()

    async def _start(self) -> None:
        if self._sqlite_file is not None:
            self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            # Fail here rather than in aiosqlite's worker thread, which reports a failed
            # connect to the event loop later, when a short-lived CLI may have closed it.
            try:
                sqlite3.connect(self._sqlite_file, timeout=5).close()
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"sqlite: {type(exc).__name__}: {exc}") from exc
        async with self._engine.begin() as connection:
            if self.backend == "sqlite":
                await connection.execute(text("PRAGMA journal_mode=WAL"))
            else:
                # One migrator at a time across replicas.
                await connection.execute(text("SELECT pg_advisory_xact_lock(734265001)"))
                if self._schema:
                    quoted = connection.dialect.identifier_preparer.quote_identifier(self._schema)
                    await connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
            await connection.run_sync(
                lambda sync: metadata.create_all(sync, tables=[migrations_table], checkfirst=True)
            )
            done = set((await connection.execute(select(migrations_table.c.version))).scalars())
            for version, description, apply in MIGRATIONS:
                if version in done:
                    continue
                await apply(connection)
                await connection.execute(
                    insert(migrations_table).values(
                        version=version, description=description, applied_at=datetime.now(UTC)
                    )
                )
                log.info("history_migrated", version=version, description=description)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._engine.dispose()

    async def ping(self) -> str | None:
        """None when the store answers, else a short reason."""
        try:
            async with self._engine.connect() as connection:
                await connection.execute(select(1))
        except (SQLAlchemyError, OSError) as exc:
            return f"history store unavailable: {type(exc).__name__}"
        return None

    async def schema_version(self) -> int:
        """The highest applied migration."""
        async with self._engine.connect() as connection:
            value = await connection.scalar(select(func.max(migrations_table.c.version)))
        return int(value or 0)

    # --- Attempts -------------------------------------------------------------

    async def record(self, record: AttemptRecord) -> None:
        """Store one attempt (or refusal)."""
        async with self._guard(), self._engine.begin() as connection:
            await connection.execute(insert(attempts).values(**record.as_row()))

    async def history(self, invoice_key: str, *, limit: int = 10) -> list[AttemptRecord]:
        """The latest attempts for one invoice, newest first."""
        statement = (
            select(attempts)
            .where(attempts.c.invoice_key == invoice_key)
            .order_by(attempts.c.created_at.desc(), attempts.c.id.desc())
            .limit(limit)
        )
        async with self._guard(), self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [AttemptRecord.from_row(row) for row in rows]

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
        async with self._guard(), self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [AttemptRecord.from_row(row) for row in rows]

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
            async with self._guard(), self._engine.connect() as connection:
                rows = (await connection.execute(statement)).all()
            if not rows:
                return
            for row in rows:
                yield AttemptRecord.from_row(row)
            last_id = int(rows[-1].id)

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
        async with self._guard():
            for _ in range(3):
                try:
                    async with self._engine.begin() as connection:
                        await connection.execute(insert(claims).values(**values))
                    return None
                except IntegrityError:
                    pass
                async with self._engine.begin() as connection:
                    row = (
                        await connection.execute(
                            select(claims).where(claims.c.invoice_key == invoice_key)
                        )
                    ).first()
                    if row is None:
                        continue  # released in between: try the insert again
                    holder = Claim(
                        attempt_id=row.attempt_id,
                        user_id=row.user_id,
                        state=ClaimState(row.state),
                        updated_at=row.updated_at,
                    )
                    hold = pending_timeout if holder.state is ClaimState.PENDING else sent_window
                    held = now - holder.updated_at < hold
                    # Forcing overrides someone else's claim, never a run of this same
                    # attempt still going (a retry button pressed twice).
                    running_already = (
                        holder.attempt_id == attempt_id and holder.state is ClaimState.PENDING
                    )
                    if held and (not force or running_already):
                        return holder
                    # Expired (or overridden): take it over only if nobody else did first.
                    taken = await connection.execute(
                        update(claims)
                        .where(
                            claims.c.invoice_key == invoice_key,
                            claims.c.attempt_id == holder.attempt_id,
                        )
                        .values(**values)
                    )
                    if taken.rowcount == 1:
                        return None
            raise StoreUnavailableError(f"claim on {invoice_key} kept changing hands")

    async def release(
        self, invoice_key: str, *, attempt_id: str, sent: bool, now: datetime
    ) -> None:
        """End this attempt's claim: keep it as "sent" for the window, or drop it."""
        mine = (claims.c.invoice_key == invoice_key) & (claims.c.attempt_id == attempt_id)
        async with self._guard(), self._engine.begin() as connection:
            if sent:
                await connection.execute(
                    update(claims).where(mine).values(state=ClaimState.SENT.value, updated_at=now)
                )
            else:
                await connection.execute(delete(claims).where(mine))

    def _guard(self) -> _StoreErrors:
        return _StoreErrors(self.backend)


class _StoreErrors:
    """Turn database and network failures into `StoreUnavailableError`."""

    def __init__(self, backend: str) -> None:
        self._backend = backend

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, SQLAlchemyError | OSError | TimeoutError):
            raise StoreUnavailableError(f"{self._backend}: {type(exc).__name__}: {exc}") from exc
