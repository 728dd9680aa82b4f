"""The history's tables, as SQLAlchemy Core describes them to both backends.

``resend_attempts`` holds one row per attempt (or refusal) and how it ended;
``resend_claims`` one row per invoice someone holds against duplicates;
``resend_inflight`` the re-sends written down before their provider call; and
``schema_migrations`` the migrations applied (`bot.history.migrations`), which
are what create and change these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


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


def _request_columns() -> list[Column[Any]]:
    """Who asked for a re-send, from where, and of what: an attempt's row and its entry
    in flight both have them (new columns each time: a column belongs to one table)."""
    return [
        Column("team_id", String(32)),
        Column("user_id", String(32), nullable=False),
        Column("channel_id", String(32)),
        Column("provider", String(16), nullable=False),
        Column("invoice_key", String(200), nullable=False),
        Column("reference", String(200), nullable=False),
        Column("alternative_email", String(320)),
    ]


attempts_table = Table(
    "resend_attempts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("attempt_id", String(36), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    *_request_columns(),
    Column("outcome", String(32), nullable=False),
    Column("recipients", Text),
    Column("request_id", String(128)),
    Column("idempotency_key", String(64)),
    Column("latency_ms", Integer),
    Column("detail", Text),
    Column("message_channel", String(32)),
    Column("message_ts", String(32)),
    # The invoice as the lookup described it, to find it from what a customer quotes
    # (`bot.history.invoices`); empty when the lookup had not answered in time.
    Column("customer_name", String(200)),
    Column("customer_key", String(200)),
    Column("customer_tax_id", String(32)),
    Column("issued_on", Date),
    Column("total", String(40)),
    Column("currency", String(8)),
    Column("display_number", String(64)),
    Index("ix_resend_attempts_invoice_created", "invoice_key", "created_at"),
    Index("ix_resend_attempts_created", "created_at"),
)

claims_table = Table(
    "resend_claims",
    metadata,
    Column("invoice_key", String(200), primary_key=True),
    Column("attempt_id", String(36), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

inflight_table = Table(
    "resend_inflight",
    metadata,
    Column("attempt_id", String(36), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    *_request_columns(),
    Column("idempotency_key", String(64), nullable=False),
    #: The job as its Reintentar button carries it: enough to offer the retry again.
    Column("job", Text, nullable=False),
    Column("response_url", Text),
    Column("message_channel", String(32)),
    Column("message_ts", String(32)),
    Index("ix_resend_inflight_lease", "lease_until"),
)

migrations_table = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)
