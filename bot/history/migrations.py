"""Schema changes as numbered migrations, applied in order at start-up.

`migrate` runs inside one transaction and records each migration it applies in
``schema_migrations``, so starting again (or several replicas starting at once)
applies nothing twice. To change the schema, append a migration to `MIGRATIONS`;
never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import structlog
from sqlalchemy import (
    Column,
    Connection,
    Index,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.schema import CreateColumn

from bot.history.schema import (
    UTCDateTime,
    attempts_table,
    claims_table,
    inflight_table,
    metadata,
    migrations_table,
)

log = structlog.get_logger(__name__)


def _create_v1(connection: Connection) -> None:
    metadata.create_all(connection, tables=[attempts_table, claims_table], checkfirst=True)


def _create_v2(connection: Connection) -> None:
    metadata.create_all(connection, tables=[inflight_table], checkfirst=True)


#: An agent's own attempts, newest first (the App Home). Built on a description of the
#: table of its own, so that creating the table (migration 1) does not create it too.
_BY_USER = Index(
    "ix_resend_attempts_user_created",
    *Table(
        attempts_table.name,
        MetaData(),
        Column("user_id", String(32)),
        Column("created_at", UTCDateTime()),
    ).columns,
)


def _create_v3(connection: Connection) -> None:
    _BY_USER.create(connection, checkfirst=True)


#: The columns migration 4 adds: what a lookup said about the invoice, to search by.
_INVOICE_COLUMNS: Final = (
    "customer_name",
    "customer_key",
    "customer_tax_id",
    "issued_on",
    "total",
    "currency",
    "display_number",
)

#: A customer's invoices by tax id, newest first (a search by CUIT or RFC).
_BY_TAX_ID = Index(
    "ix_resend_attempts_tax_id_created",
    *Table(
        attempts_table.name,
        MetaData(),
        Column("customer_tax_id", String(32)),
        Column("created_at", UTCDateTime()),
    ).columns,
)


def _create_v4(connection: Connection) -> None:
    # A fresh install created the table with these columns already (migration 1 builds
    # it from the current description): add only the ones it lacks.
    schema = (connection.get_execution_options().get("schema_translate_map") or {}).get(None)
    present = {
        column["name"] for column in inspect(connection).get_columns(attempts_table.name, schema)
    }
    preparer = connection.dialect.identifier_preparer
    table = preparer.quote(attempts_table.name)
    if schema:
        table = f"{preparer.quote_schema(schema)}.{table}"
    for name in _INVOICE_COLUMNS:
        if name not in present:
            spec = CreateColumn(attempts_table.c[name]).compile(dialect=connection.dialect)
            connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {spec}")
    _BY_TAX_ID.create(connection, checkfirst=True)


Migration = tuple[int, str, Callable[[Connection], None]]

#: Applied in order; append new ones, never edit shipped ones.
MIGRATIONS: Final[Sequence[Migration]] = (
    (1, "resend_attempts and resend_claims", _create_v1),
    (2, "resend_inflight: re-sends written down before the provider call", _create_v2),
    (3, "resend_attempts by user, newest first: the App Home", _create_v3),
    (4, "resend_attempts: the customer and invoice a lookup described, to search by", _create_v4),
)


def migrate(connection: Connection, *, backend: str, schema: str | None) -> None:
    """Apply the migrations not applied yet (one transaction: ``connection``'s).

    On PostgreSQL one migrator runs at a time across replicas, and ``schema`` is
    created first when given.
    """
    if backend == "sqlite":
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    else:
        # One migrator at a time across replicas.
        connection.execute(text("SELECT pg_advisory_xact_lock(734265001)"))
        if schema:
            quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
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


def schema_version(connection: Connection) -> int:
    """The highest migration applied, 0 before the first."""
    return int(connection.scalar(select(func.max(migrations_table.c.version))) or 0)
