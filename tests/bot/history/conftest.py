"""The history's two real backends, for every test of the store: SQLite (a file in the
test's directory) and PostgreSQL (a fresh schema per test).

A test taking ``backend`` or ``store`` runs once per backend, with the same assertions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.history.store import HistoryStore, database_url


@dataclass
class Backend:
    """One database, and a factory of stores (each with its own engine) pointing at it."""

    name: str
    url: str
    schema: str | None = None
    sqlite_file: Path | None = None
    postgres_url: str | None = None
    stores: list[HistoryStore] = field(default_factory=list)

    def new_store(self) -> HistoryStore:
        store = HistoryStore(self.url, schema=self.schema)
        self.stores.append(store)
        return store

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows straight from the database's own driver (``{schema}`` is qualified)."""
        if self.sqlite_file is not None:
            with sqlite3.connect(self.sqlite_file, timeout=5) as connection:
                return list(connection.execute(sql.format(schema=""), args).fetchall())
        assert self.postgres_url is not None
        connection = await asyncpg.connect(self.postgres_url, timeout=5)
        try:
            rows = await connection.fetch(sql.format(schema=f'"{self.schema}".'), *args)
        finally:
            await connection.close()
        return [tuple(row) for row in rows]

    async def tables(self) -> set[str]:
        if self.sqlite_file is not None:
            if not self.sqlite_file.exists():
                return set()
            rows = await self.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = await self.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                self.schema,
            )
        return {str(row[0]) for row in rows}

    async def migrations(self) -> list[tuple[int, str]]:
        rows = await self.fetch(
            "SELECT version, description FROM {schema}schema_migrations ORDER BY version"
        )
        return [(int(version), str(description)) for version, description in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """An empty database of each kind in turn (sync: it resolves the PostgreSQL fixtures)."""
    if request.param == "sqlite":
        data_dir = tmp_path / "not" / "yet" / "data"  # does not exist: start creates it
        chosen = Backend(
            "sqlite",
            database_url(data_dir=str(data_dir), database_url=None),
            sqlite_file=data_dir / "history.sqlite3",
        )
    else:
        postgres_url: str = request.getfixturevalue("postgres_url")
        schema: str = request.getfixturevalue("pg_schema")
        chosen = Backend(
            "postgresql",
            database_url(data_dir=str(tmp_path), database_url=postgres_url),
            schema=schema,
            postgres_url=postgres_url,
        )
    return chosen


@pytest.fixture
async def backend(empty_database: Backend) -> AsyncIterator[Backend]:
    """`empty_database`, whose stores are closed at teardown."""
    yield empty_database
    for store in empty_database.stores:
        await store.aclose()


@pytest.fixture
async def store(backend: Backend) -> HistoryStore:
    """A started store on an empty database."""
    started = backend.new_store()
    await started.start()
    return started
