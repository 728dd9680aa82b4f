"""Where the history store's operations run: one operation, one transaction, one trip.

A store operation is a plain function of a SQLAlchemy `Connection` (Core statements,
no ``await`` inside). `Database.write` runs it in a transaction, `Database.read` on a
connection without one; either way the event loop waits for the whole operation once,
not for each statement.

- SQLite: SQLAlchemy's own ``pysqlite`` driver, on one thread of its own. Every
  operation is a single hop to that thread, and the bot's writes never queue behind
  each other on SQLite's file lock (one writer is all SQLite allows anyway). An async
  driver (aiosqlite) hops to its thread four times per statement; at the benchmark's
  load that was a quarter of the bot's CPU.
- PostgreSQL: asyncpg through SQLAlchemy's async engine, the operation run with
  ``run_sync``: the network round trips stay on the event loop. Reads, and writes
  of a single statement (`Database.execute`), run without BEGIN and COMMIT.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Row, create_engine, event
from sqlalchemy.engine import URL

from bot import deadlines

_T = TypeVar("_T")
Operation = Callable[[Connection], _T]
Parameters = Mapping[str, Any] | None


def _tune_sqlite(connection: Any, _record: Any) -> None:
    """Every SQLite connection: WAL (readers never wait for the writer) with
    ``synchronous=NORMAL``: commits no longer wait for an fsync of the log; a power
    loss (not a crash of the bot) can lose the last commits, never corrupt the file."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database(ABC):
    """Runs store operations on one backend."""

    @abstractmethod
    async def write(self, operation: Operation[_T]) -> _T:
        """``operation`` in one transaction, committed when it returns."""

    @abstractmethod
    async def read(self, operation: Operation[_T]) -> _T:
        """``operation`` on a connection, for reads (no transaction is kept open)."""

    async def execute(self, statement: Executable, parameters: Parameters = None) -> int:
        """One write statement, atomic on its own; how many rows it changed."""
        return await self.write(lambda connection: _rowcount(connection, statement, parameters))

    async def rows(self, statement: Executable) -> Sequence[Row[Any]]:
        """Every row one read statement returns."""
        return await self.read(lambda connection: connection.execute(statement).all())

    @abstractmethod
    async def dispose(self) -> None:
        """Close every connection; the next operation opens new ones."""

    async def aclose(self) -> None:
        """Close for good (a later operation starts over)."""
        await self.dispose()


class SQLiteDatabase(Database):
    """A SQLite file through pysqlite, every operation on the store's own thread."""

    def __init__(self, url: URL) -> None:
        self._engine: Engine = create_engine(
            url.set(drivername="sqlite+pysqlite"),
            # One thread, so one connection. No reset on return: writes always end in
            # a commit or a rollback, and SQLite opens no transaction for a read.
            pool_size=1,
            max_overflow=0,
            pool_reset_on_return=None,
            # SQLite gives up waiting for another process' lock by itself, sooner than
            # any of the bot's own deadlines.
            connect_args={"timeout": deadlines.SQLITE_BUSY},
        )
        event.listen(self._engine, "connect", _tune_sqlite)
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None

    async def write(self, operation: Operation[_T]) -> _T:
        return await self._on_thread(self._in_transaction, operation)

    async def read(self, operation: Operation[_T]) -> _T:
        return await self._on_thread(self._on_connection, operation)

    async def dispose(self) -> None:
        await self._on_thread(lambda: self._engine.dispose())

    async def aclose(self) -> None:
        await self.dispose()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=False)

    def _in_transaction(self, operation: Operation[_T]) -> _T:
        with self._engine.begin() as connection:
            return operation(connection)

    def _on_connection(self, operation: Operation[_T]) -> _T:
        with self._engine.connect() as connection:
            return operation(connection)

    async def _on_thread(self, function: Callable[..., _T], *args: Any) -> _T:
        if self._thread is None:
            self._thread = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="history-sqlite"
            )
        # A caller that stops waiting (a deadline) does not stop the operation: it ends
        # in its thread, committed or rolled back, before the next one starts.
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)


def _rowcount(connection: Connection, statement: Executable, parameters: Parameters) -> int:
    return int(connection.execute(statement, parameters).rowcount or 0)
