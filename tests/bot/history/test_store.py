"""The history store against both real backends: SQLite (a file) and PostgreSQL.

Every test taking ``backend`` or ``store`` runs twice, once per backend, with the
same assertions: the two must behave alike. No mocks: the schema is inspected
with the databases' own drivers, and "several replicas" are several stores, each
with its own engine and connection pool.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, insert

from bot.history.failures import StoreUnavailableError
from bot.history.migrations import MIGRATIONS
from bot.history.records import AttemptRecord, ClaimState
from bot.history.schema import attempts_table
from bot.history.store import HistoryStore, database_url
from tests.bot.history.conftest import Backend

TABLES = {"resend_attempts", "resend_claims", "schema_migrations"}
T0 = datetime(2026, 3, 2, 14, 30, 15, 123456, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
PENDING = timedelta(minutes=2)
KEY = "lummy:550e8400-e29b-41d4-a716-446655440000"
#: However broken the database, no store call may take longer than this.
BOUND = 12.0


def record(
    at: datetime = T0,
    *,
    key: str = KEY,
    outcome: str = "success",
    user_id: str = "U0AGENT01",
    **extra: Any,
) -> AttemptRecord:
    """An attempt with every column filled, so a round trip checks them all."""
    values: dict[str, Any] = {
        "attempt_id": str(uuid4()),
        "created_at": at,
        "user_id": user_id,
        "provider": key.split(":")[0],
        "invoice_key": key,
        "reference": key.split(":")[1],
        "outcome": outcome,
        "team_id": "T0TEAM",
        "channel_id": "C0SUPPORT",
        "alternative_email": "otro@cliente.com",
        "recipients": ("cliente@empresa.com", "otro@cliente.com"),
        "request_id": "abc123-def456",
        "idempotency_key": uuid4().hex,
        "latency_ms": 321,
        "detail": "ok",
        "message_channel": "C0SUPPORT",
        "message_ts": "1700000000.000100",
        **extra,
    }
    return AttemptRecord(**values)


async def claim(
    store: HistoryStore, attempt_id: str, now: datetime, *, user: str = "U1", force: bool = False
) -> Any:
    return await store.claim(
        KEY,
        attempt_id=attempt_id,
        user_id=user,
        now=now,
        sent_window=WINDOW,
        pending_timeout=PENDING,
        force=force,
    )


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


# --- schema and migrations -------------------------------------------------------------


async def test_first_start_creates_the_schema_without_a_manual_step(backend: Backend) -> None:
    assert await backend.tables() == set()
    store = backend.new_store()
    if backend.sqlite_file is not None:
        assert not backend.sqlite_file.parent.exists(), "constructing the store did I/O"

    await store.start()

    assert await backend.tables() >= TABLES
    assert await store.schema_version() == len(MIGRATIONS)
    assert await backend.migrations() == [(v, d) for v, d, _ in MIGRATIONS]
    assert await store.ping() is None
    await store.record(first := record())
    assert await store.history(KEY) == [first]


async def test_sqlite_runs_in_wal_mode_with_normal_sync(tmp_path: Path) -> None:
    """Readers never wait for the writer, and commits do not wait for an fsync."""
    store = HistoryStore(f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}")
    await store.start()
    try:
        await store.record(record())
        pragmas = await store._database.read(
            lambda connection: [
                connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous")
            ]
        )
        assert pragmas == ["wal", 1]
        assert (tmp_path / "h.sqlite3-wal").exists()
    finally:
        await store.aclose()


async def test_starting_again_is_idempotent_and_keeps_the_data(backend: Backend) -> None:
    store = backend.new_store()
    await store.start()
    await store.record(kept := record())
    await store.start()
    restarted = backend.new_store()  # a bot restart: a new process, a new engine
    await restarted.start()

    assert await backend.migrations() == [(v, d) for v, d, _ in MIGRATIONS]
    assert await restarted.schema_version() == len(MIGRATIONS)
    assert await restarted.history(KEY) == [kept]


async def test_concurrent_starts_on_postgresql_are_safe(postgres_url: str, pg_schema: str) -> None:
    # Replicas starting together on a database where nothing exists yet, not even the schema.
    backend = Backend(
        "postgresql",
        database_url(data_dir=".", database_url=postgres_url),
        schema=pg_schema,
        postgres_url=postgres_url,
    )
    stores = [backend.new_store() for _ in range(8)]
    try:
        async with asyncio.timeout(BOUND * 2):
            await asyncio.gather(*(store.start() for store in stores))
        assert await backend.migrations() == [(v, d) for v, d, _ in MIGRATIONS]
        assert await backend.tables() >= TABLES
        versions = await asyncio.gather(*(store.schema_version() for store in stores))
        assert versions == [len(MIGRATIONS)] * len(stores)
    finally:
        for store in stores:
            await store.aclose()


def test_description_hides_the_password_and_names_the_schema() -> None:
    url = "postgresql+asyncpg://bot:s3cr3t-pw@db.internal:5432/history"
    described = HistoryStore(url, schema="reenviar").description
    assert "s3cr3t-pw" not in described
    assert "db.internal" in described
    assert "reenviar" in described
    with pytest.raises(ValueError, match="DATABASE_SCHEMA"):
        HistoryStore("sqlite+aiosqlite:///history.sqlite3", schema="reenviar")


def test_database_url_picks_the_async_driver(tmp_path: Path) -> None:
    assert database_url(data_dir=str(tmp_path), database_url="postgres://u:p@h:5433/db").startswith(
        "postgresql+asyncpg://u:p@h:5433/db"
    )
    assert database_url(data_dir=str(tmp_path), database_url=None) == (
        f"sqlite:///{tmp_path.resolve()}/history.sqlite3"
    )


# --- attempts ------------------------------------------------------------------------------


async def test_history_is_newest_first_limited_and_per_invoice(store: HistoryStore) -> None:
    other_key = "tusfacturas:FACTURA B|V|2|6"
    records = [record(T0 + timedelta(minutes=n)) for n in range(5)]
    # Recorded out of order, with another invoice's attempts in between.
    for index in (2, 0, 4, 1, 3):
        await store.record(records[index])
        await store.record(record(T0 + timedelta(hours=1), key=other_key))
    # Two attempts at the very same instant: the later recorded comes first.
    same_a, same_b = record(T0 + timedelta(hours=2)), record(T0 + timedelta(hours=2))
    await store.record(same_a)
    await store.record(same_b)

    newest_first = [same_b, same_a, *reversed(records)]
    assert await store.history(KEY) == newest_first[:10]
    assert await store.history(KEY, limit=3) == newest_first[:3]
    assert await store.history(KEY, limit=100) == newest_first
    assert len(await store.history(other_key)) == 5
    assert await store.history("lummy:nothing-here") == []


async def test_attempts_by_lists_one_agents_attempts_newest_first(store: HistoryStore) -> None:
    mine = [record(T0 + timedelta(minutes=n), user_id="U0ANA") for n in range(3)]
    for index in (1, 2, 0):
        await store.record(mine[index])
        await store.record(record(T0 + timedelta(minutes=index), user_id="U0BETO"))
    # A refusal is an attempt; a duplicate warning (shown in the modal) is not.
    refused = record(T0 + timedelta(hours=1), user_id="U0ANA", outcome="refused")
    await store.record(refused)
    await store.record(
        record(T0 + timedelta(hours=2), user_id="U0ANA", outcome="duplicate_warning")
    )

    assert await store.attempts_by("U0ANA") == [refused, *reversed(mine)]
    assert await store.attempts_by("U0ANA", limit=2) == [refused, mine[2]]
    assert all(r.user_id == "U0BETO" for r in await store.attempts_by("U0BETO"))
    assert await store.attempts_by("U0NADIE") == []


async def test_migration_3_adds_the_per_agent_index_to_an_existing_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    monkeypatch.setattr("bot.history.migrations.MIGRATIONS", MIGRATIONS[:2])
    shipped = HistoryStore(url)
    await shipped.start()
    await shipped.record(kept := record(user_id="U0ANA"))
    await shipped.aclose()

    monkeypatch.setattr("bot.history.migrations.MIGRATIONS", MIGRATIONS)
    upgraded = HistoryStore(url)
    await upgraded.start()
    try:
        assert await upgraded.schema_version() >= 3
        plan = await upgraded._database.read(
            lambda connection: connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM resend_attempts WHERE user_id = 'U0ANA' "
                "ORDER BY created_at DESC LIMIT 20"
            ).all()
        )
        assert "ix_resend_attempts_user_created" in str(plan)
        assert await upgraded.attempts_by("U0ANA") == [kept]
    finally:
        await upgraded.aclose()


#: What migration 4 adds: what a lookup said about the invoice, to search by.
SEARCH_COLUMNS = {
    "customer_name": "Empresa Demo S.A. de C.V.",
    "customer_key": "EMPRESA DEMO S.A. DE C.V.",
    "customer_tax_id": "EDE010101AB1",
    "issued_on": date(2026, 2, 10),
    "total": Decimal("11600.00"),
    "currency": "MXN",
    "display_number": "A-1234",
}


async def test_migration_4_adds_the_search_columns_to_a_version_3_history_and_keeps_its_rows(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A history as version 3 left it: the table without the search columns.
    monkeypatch.setattr("bot.history.migrations.MIGRATIONS", MIGRATIONS[:3])
    shipped = backend.new_store()
    await shipped.start()
    for column in SEARCH_COLUMNS:
        await backend.fetch(f"ALTER TABLE {{schema}}resend_attempts DROP COLUMN {column}")
    assert not set(SEARCH_COLUMNS) & await _attempt_columns(backend)
    kept = record(user_id="U0ANA")
    v3_row = {k: v for k, v in kept.as_row().items() if k not in SEARCH_COLUMNS}

    def insert_v3_row(connection: Connection) -> None:
        connection.execute(insert(attempts_table).values(v3_row))

    await shipped._database.write(insert_v3_row)
    assert await shipped.schema_version() == 3
    await shipped.aclose()

    monkeypatch.setattr("bot.history.migrations.MIGRATIONS", MIGRATIONS)
    upgraded = backend.new_store()
    async with asyncio.timeout(BOUND):
        await upgraded.start()
        await backend.new_store().start()  # starting again applies nothing twice

    assert await upgraded.schema_version() == 4
    assert await backend.migrations() == [(v, d) for v, d, _ in MIGRATIONS]
    assert set(SEARCH_COLUMNS) <= await _attempt_columns(backend)
    assert "ix_resend_attempts_tax_id_created" in await _attempt_indexes(backend)
    assert await upgraded.history(KEY) == [kept]
    await upgraded.record(described := record(T0 + timedelta(minutes=1), **SEARCH_COLUMNS))
    assert await upgraded.history(KEY) == [described, kept]


async def test_a_fresh_history_has_the_search_columns_from_the_start(store: HistoryStore) -> None:
    await store.record(described := record(**SEARCH_COLUMNS))

    (stored,) = await store.history(KEY)
    assert stored == described
    assert (type(stored.issued_on), type(stored.total)) == (date, Decimal)
    assert stored.total == Decimal("11600.00")


async def _attempt_columns(backend: Backend) -> set[str]:
    if backend.sqlite_file is not None:
        rows = await backend.fetch("SELECT name FROM pragma_table_info('resend_attempts')")
    else:
        rows = await backend.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = 'resend_attempts'",
            backend.schema,
        )
    return {str(row[0]) for row in rows}


async def _attempt_indexes(backend: Backend) -> set[str]:
    if backend.sqlite_file is not None:
        rows = await backend.fetch("SELECT name FROM pragma_index_list('resend_attempts')")
    else:
        rows = await backend.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = $1", backend.schema
        )
    return {str(row[0]) for row in rows}


async def test_aware_datetimes_round_trip_as_utc(store: HistoryStore) -> None:
    local = datetime(2026, 7, 9, 23, 59, 59, 999999, tzinfo=ZoneInfo("America/Mexico_City"))
    await store.record(record(local))

    (stored,) = await store.history(KEY)
    assert stored.created_at == local  # the same instant, to the microsecond
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is UTC
    assert (stored.created_at.day, stored.created_at.hour) == (10, 5)  # next day in UTC

    with pytest.raises((ValueError, StoreUnavailableError), match="naive datetime"):
        await store.record(record(datetime(2026, 7, 9, 12, 0)))
    assert len(await store.history(KEY)) == 1


async def test_successes_since_is_inclusive_oldest_first_and_only_successes(
    store: HistoryStore,
) -> None:
    since = T0 + timedelta(minutes=10)
    before = record(since - timedelta(microseconds=1))
    at_boundary = record(since)
    later = record(since + timedelta(minutes=5))
    refused = record(since + timedelta(minutes=1), outcome="refused")
    warned = record(since + timedelta(minutes=2), outcome="duplicate_warning")
    elsewhere = record(since + timedelta(minutes=3), key="lummy:another-invoice")
    for attempt in (later, refused, before, warned, at_boundary, elsewhere):
        await store.record(attempt)

    assert await store.successes_since(KEY, since) == [at_boundary, later]
    # The same instant given in another zone selects the same rows.
    in_buenos_aires = since.astimezone(ZoneInfo("America/Argentina/Buenos_Aires"))
    assert await store.successes_since(KEY, in_buenos_aires) == [at_boundary, later]
    assert await store.successes_since(KEY, later.created_at + timedelta(seconds=1)) == []


async def test_export_streams_every_attempt_since_in_batches_oldest_first(
    store: HistoryStore,
) -> None:
    since = T0
    expected: list[AttemptRecord] = []
    for n in range(23):
        await store.record(newer := record(since + timedelta(seconds=n), key=f"lummy:inv-{n}"))
        expected.append(newer)
        if n % 5 == 0:  # older attempts interleaved by id: filtered out, batches still full
            await store.record(record(since - timedelta(days=1, seconds=n)))

    exported: list[AttemptRecord] = []
    late = record(since + timedelta(hours=1), outcome="refused")
    async with asyncio.timeout(BOUND):
        async for attempt in store.export(since, batch=5):
            if not exported:
                # Streamed, not loaded at once: a row written during the export shows up.
                await store.record(late)
            exported.append(attempt)

    assert exported == [*expected, late]
    assert len({a.attempt_id for a in exported}) == len(exported)
    # A batch size that divides the row count exactly still ends, with nothing repeated.
    assert [a async for a in store.export(since, batch=4)] == [*expected, late]
    assert [a async for a in store.export(since + timedelta(hours=2))] == []


# --- claims --------------------------------------------------------------------------------


async def test_first_claim_wins_and_the_second_sees_the_holder(store: HistoryStore) -> None:
    assert await claim(store, "attempt-1", T0, user="U1") is None
    holder = await claim(store, "attempt-2", T0 + timedelta(seconds=1), user="U2")
    assert holder is not None
    assert holder.attempt_id == "attempt-1"
    assert holder.user_id == "U1"
    assert holder.state is ClaimState.PENDING
    assert holder.updated_at == T0
    # The holder itself asking again is refused too: a claim is not re-entrant.
    again = await claim(store, "attempt-1", T0 + timedelta(seconds=2), user="U1")
    assert again is not None
    assert again.attempt_id == "attempt-1"


async def test_a_pending_claim_expires_after_the_pending_timeout(store: HistoryStore) -> None:
    assert await claim(store, "stuck", T0) is None
    just_before = T0 + PENDING - timedelta(microseconds=1)
    held = await claim(store, "second", just_before, user="U2")
    assert held is not None
    assert held.attempt_id == "stuck"

    assert await claim(store, "third", T0 + PENDING, user="U3") is None
    holder = await claim(store, "fourth", T0 + PENDING, user="U4")
    assert holder is not None
    assert (holder.attempt_id, holder.user_id) == ("third", "U3")


async def test_a_sent_claim_holds_for_the_window_then_expires(store: HistoryStore) -> None:
    assert await claim(store, "first", T0) is None
    sent_at = T0 + timedelta(seconds=30)
    await store.release(KEY, attempt_id="first", sent=True, now=sent_at)

    # Longer than the pending timeout, shorter than the window: still held, as sent.
    held = await claim(store, "second", sent_at + PENDING + timedelta(minutes=1), user="U2")
    assert held is not None
    assert (held.attempt_id, held.state, held.updated_at) == ("first", ClaimState.SENT, sent_at)
    held = await claim(store, "second", sent_at + WINDOW - timedelta(microseconds=1))
    assert held is not None

    assert await claim(store, "second", sent_at + WINDOW, user="U2") is None
    holder = await claim(store, "third", sent_at + WINDOW)
    assert holder is not None
    assert (holder.attempt_id, holder.state) == ("second", ClaimState.PENDING)


async def test_force_takes_over_a_held_claim(store: HistoryStore) -> None:
    assert await claim(store, "first", T0) is None
    assert await claim(store, "confirmed", T0 + timedelta(seconds=1), user="U2", force=True) is None
    holder = await claim(store, "third", T0 + timedelta(seconds=2))
    assert holder is not None
    assert (holder.attempt_id, holder.user_id) == ("confirmed", "U2")

    # The overridden attempt finishing later does not free or mark the new holder's claim.
    await store.release(KEY, attempt_id="first", sent=False, now=T0 + timedelta(seconds=3))
    await store.release(KEY, attempt_id="first", sent=True, now=T0 + timedelta(seconds=3))
    holder = await claim(store, "fourth", T0 + timedelta(seconds=4))
    assert holder is not None
    assert (holder.attempt_id, holder.state) == ("confirmed", ClaimState.PENDING)

    # Forcing over a sent claim works too.
    await store.release(KEY, attempt_id="confirmed", sent=True, now=T0 + timedelta(seconds=5))
    assert await claim(store, "again", T0 + timedelta(seconds=6), force=True) is None


async def test_force_never_overrides_a_running_claim_of_the_same_attempt(
    store: HistoryStore,
) -> None:
    # A retry button pressed twice: both presses carry the same attempt (idempotency key).
    assert await claim(store, "retry", T0, force=True) is None
    holder = await claim(store, "retry", T0 + timedelta(seconds=1), user="U2", force=True)
    assert holder is not None
    assert (holder.attempt_id, holder.state) == ("retry", ClaimState.PENDING)
    # Once that run ended (uncertain: kept as sent), pressing again is allowed.
    await store.release(KEY, attempt_id="retry", sent=True, now=T0 + timedelta(seconds=2))
    assert await claim(store, "retry", T0 + timedelta(seconds=3), force=True) is None


async def test_release_unsent_frees_the_invoice(store: HistoryStore) -> None:
    assert await claim(store, "failed", T0) is None
    await store.release(KEY, attempt_id="failed", sent=False, now=T0 + timedelta(seconds=1))
    assert await claim(store, "retry", T0 + timedelta(seconds=2), user="U2") is None
    # Releasing twice (or a claim never taken) is harmless.
    await store.release(KEY, attempt_id="failed", sent=False, now=T0 + timedelta(seconds=3))
    await store.release("lummy:never-claimed", attempt_id="x", sent=True, now=T0)
    holder = await claim(store, "late", T0 + timedelta(seconds=4))
    assert holder is not None
    assert holder.attempt_id == "retry"


async def test_release_sent_keeps_the_claim_for_the_window(store: HistoryStore) -> None:
    assert await claim(store, "first", T0) is None
    sent_at = T0 + timedelta(minutes=1)
    await store.release(KEY, attempt_id="first", sent=True, now=sent_at)
    holder = await claim(store, "second", sent_at + timedelta(minutes=5), user="U2")
    assert holder is not None
    assert (holder.attempt_id, holder.user_id) == ("first", "U1")
    assert holder.state is ClaimState.SENT
    assert holder.updated_at == sent_at  # the window starts when it was sent


@pytest.mark.parametrize(
    ("outcome", "kept"), [("success", True), ("unknown", True), ("rejected", False)]
)
async def test_the_row_that_finishes_an_attempt_releases_its_claim_with_it(
    store: HistoryStore, outcome: str, kept: bool
) -> None:
    """One transaction: the history row, the end of the written-down attempt, and the claim
    (kept as sent when the e-mail went or may have gone, freed otherwise)."""
    assert await claim(store, "idem-1", T0) is None
    done_at = T0 + timedelta(seconds=1)
    await store.record(
        record(done_at, outcome=outcome, idempotency_key="idem-1"), finishes_attempt=True
    )

    # Within both the pending timeout and the duplicate window.
    holder = await claim(store, "idem-2", done_at + timedelta(seconds=30), user="U2")
    if kept:
        assert holder is not None
        assert (holder.attempt_id, holder.state, holder.updated_at) == (
            "idem-1",
            ClaimState.SENT,
            done_at,
        )
    else:
        assert holder is None


async def test_a_finishing_row_leaves_other_claims_alone(store: HistoryStore) -> None:
    # Someone else's claim, and this attempt's claim already kept as sent by an earlier run.
    assert await claim(store, "theirs", T0) is None
    await store.record(
        record(T0, outcome="rejected", idempotency_key="mine"), finishes_attempt=True
    )
    holder = await claim(store, "next", T0 + timedelta(seconds=1))
    assert holder is not None
    assert (holder.attempt_id, holder.state) == ("theirs", ClaimState.PENDING)

    await store.release(KEY, attempt_id="theirs", sent=True, now=T0 + timedelta(seconds=2))
    retried = record(T0 + timedelta(seconds=3), outcome="rejected", idempotency_key="theirs")
    await store.record(retried, finishes_attempt=True)
    holder = await claim(store, "next", T0 + timedelta(seconds=4))
    assert holder is not None
    assert (holder.attempt_id, holder.state) == ("theirs", ClaimState.SENT)


async def test_a_claim_whose_caller_stopped_waiting_is_released_once_it_lands(
    tmp_path: Path,
) -> None:
    """The duplicate guard gives up on a slow claim (Slack's ack cannot wait); the claim
    then lands anyway on the store's thread: it must not stay pending for minutes."""
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(f"sqlite:///{path}")
    await store.start()
    blocker = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
        slow = asyncio.create_task(claim(store, "abandoned", T0))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        blocker.execute("COMMIT")  # the claim goes in now, with nobody waiting for it

        async with asyncio.timeout(BOUND):
            while (holder := await claim(store, "next", T0, user="U2")) is not None:
                assert holder.attempt_id == "abandoned"
                await asyncio.sleep(0.05)
    finally:
        blocker.close()
        await store.aclose()


async def test_release_by_someone_not_holding_does_nothing(store: HistoryStore) -> None:
    assert await claim(store, "holder", T0) is None
    await store.release(KEY, attempt_id="intruder", sent=False, now=T0 + timedelta(seconds=1))
    await store.release(KEY, attempt_id="intruder", sent=True, now=T0 + timedelta(seconds=1))
    holder = await claim(store, "next", T0 + timedelta(seconds=2))
    assert holder is not None
    assert holder.attempt_id == "holder"
    assert holder.state is ClaimState.PENDING
    assert holder.updated_at == T0


async def test_many_simultaneous_claims_from_separate_replicas_one_wins(
    backend: Backend, store: HistoryStore
) -> None:
    replicas = [backend.new_store() for _ in range(20)]
    # Connect every replica first, so the claims themselves race.
    assert await asyncio.gather(*(r.ping() for r in replicas)) == [None] * len(replicas)
    attempts = [f"attempt-{n:02d}" for n in range(len(replicas))]

    async with asyncio.timeout(BOUND * 2):
        results = await asyncio.gather(
            *(
                claim(replica, attempt, T0, user=f"U{n:02d}")
                for n, (replica, attempt) in enumerate(zip(replicas, attempts, strict=True))
            )
        )

    winners = [attempt for attempt, result in zip(attempts, results, strict=True) if not result]
    assert len(winners) == 1, winners
    holders = {(r.attempt_id, r.state) for r in results if r is not None}
    assert holders == {(winners[0], ClaimState.PENDING)}
    confirmed = await claim(store, "someone-else", T0 + timedelta(seconds=1))
    assert confirmed is not None
    assert confirmed.attempt_id == winners[0]


async def test_simultaneous_claims_of_different_invoices_all_win(
    backend: Backend, store: HistoryStore
) -> None:
    replicas = [backend.new_store() for _ in range(4)]
    keys = [f"lummy:inv-{n}" for n in range(12)]
    async with asyncio.timeout(BOUND * 2):
        results = await asyncio.gather(
            *(
                replicas[n % len(replicas)].claim(
                    key,
                    attempt_id=f"a-{n}",
                    user_id="U1",
                    now=T0,
                    sent_window=WINDOW,
                    pending_timeout=PENDING,
                )
                for n, key in enumerate(keys)
            )
        )
    assert results == [None] * len(keys)


# --- an unreachable database -----------------------------------------------------------


async def _assert_unavailable(store: HistoryStore) -> None:
    """Every call fails fast: ``ping`` with a reason, the rest with StoreUnavailableError."""
    started = time.monotonic()
    async with asyncio.timeout(BOUND):
        reason = await store.ping()
        assert reason is not None
        assert reason.startswith("history store unavailable:")
        with pytest.raises(StoreUnavailableError):
            await store.record(record())
        with pytest.raises(StoreUnavailableError):
            await store.history(KEY)
        with pytest.raises(StoreUnavailableError):
            await store.successes_since(KEY, T0)
        with pytest.raises(StoreUnavailableError):
            await anext(aiter(store.export(T0)))
        with pytest.raises(StoreUnavailableError):
            await claim(store, "a", T0)
        with pytest.raises(StoreUnavailableError):
            await store.release(KEY, attempt_id="a", sent=True, now=T0)
    assert time.monotonic() - started < BOUND


async def test_postgresql_on_a_closed_port_is_unavailable_not_hanging() -> None:
    url = database_url(
        data_dir=".", database_url=f"postgresql://postgres:pw@127.0.0.1:{_closed_port()}/test"
    )
    store = HistoryStore(url, schema="anything")
    try:
        async with asyncio.timeout(BOUND):
            # An OSError: what Services.ensure_store and the CLI catch.
            with pytest.raises(StoreUnavailableError, match="ConnectionRefusedError"):
                await store.start()
        await _assert_unavailable(store)
    finally:
        await store.aclose()


async def test_sqlite_path_that_is_a_directory_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite3").mkdir()
    store = HistoryStore(database_url(data_dir=str(tmp_path), database_url=None))
    try:
        async with asyncio.timeout(BOUND):
            with pytest.raises(StoreUnavailableError, match="unable to open database file"):
                await store.start()
        await _assert_unavailable(store)
    finally:
        await store.aclose()


async def test_sqlite_data_dir_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    # Under a regular file: unwritable even for root (permission bits are not).
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = HistoryStore(database_url(data_dir=str(blocker / "data"), database_url=None))
    try:  # constructing did no I/O, so a bad DATA_DIR cannot crash the bot at start-up
        async with asyncio.timeout(BOUND):
            with pytest.raises(StoreUnavailableError, match="NotADirectoryError"):
                await store.start()
        await _assert_unavailable(store)
    finally:
        await store.aclose()


async def test_a_store_recovers_once_the_database_is_back(tmp_path: Path) -> None:
    blocker = tmp_path / "history.sqlite3"
    blocker.mkdir()
    store = HistoryStore(database_url(data_dir=str(tmp_path), database_url=None))
    try:
        assert await store.ping() is not None
        blocker.rmdir()
        await store.start()
        assert await store.ping() is None
        await store.record(kept := replace(record(), outcome="unknown"))
        assert await store.history(KEY) == [kept]
    finally:
        await store.aclose()
