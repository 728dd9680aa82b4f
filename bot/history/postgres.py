"""The history on PostgreSQL, through asyncpg and SQLAlchemy's asyncio extension.

A module of its own so that a bot on SQLite never imports them (the extension pulls
in the ORM: a fifth of the start-up's imports).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Executable
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.history.database import Database, Operation, Parameters

_T = TypeVar("_T")


class PostgresDatabase(Database):
    """PostgreSQL through asyncpg; ``schema``: every table in that schema."""

    def __init__(self, url: URL, *, schema: str | None, pool_timeout: float) -> None:
        engine = create_async_engine(
            url,
            pool_pre_ping=True,
            # Connections kept, never opened for a burst and closed after it: opening one
            # is several round trips, and a burst of re-sends would do it constantly.
            # Each operation holds one for a millisecond or two.
            pool_size=10,
            max_overflow=0,
            pool_timeout=pool_timeout,
            connect_args={"timeout": 5, "command_timeout": 5},
        )
        if schema:
            engine = engine.execution_options(schema_translate_map={None: schema})
        self._engine: AsyncEngine = engine
        # A read needs no transaction: without one it is one round trip, not BEGIN,
        # the query and a ROLLBACK.
        self._reader: AsyncEngine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def write(self, operation: Operation[_T]) -> _T:
        async with self._engine.begin() as connection:
            return await connection.run_sync(operation)

    async def read(self, operation: Operation[_T]) -> _T:
        async with self._reader.connect() as connection:
            return await connection.run_sync(operation)

    async def execute(self, statement: Executable, parameters: Parameters = None) -> int:
        # A single statement needs no BEGIN and COMMIT around it: one round trip.
        async with self._reader.connect() as connection:
            result = await connection.execute(statement, parameters)
            return int(result.rowcount or 0)

    async def dispose(self) -> None:
        await self._engine.dispose()
