"""The store's health: failures shown at once, checks every few seconds, recovery in place.

A real SQLite store in the test's directory, broken for real (its file deleted,
overwritten with garbage, replaced); `StoreHealth` with the journal's lease
renewal as its write probe, as `Services` wires it. The last test runs the bot
in this process to check that the background check notices a fault within
seconds without any write. PostgreSQL stopped, a read-only directory and a
bot process are in tests/test_store_faults.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from bot.history import sqlitefile
from bot.history.failures import StoreUnavailableError
from bot.history.health import StoreHealth
from bot.history.outbox import Outbox
from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore, database_url
from bot.resend.recovery import AttemptJournal
from tests.conftest import Bot
from tests.e2e import eventually

KEY = "lummy:550e8400-e29b-41d4-a716-446655440000"


def row() -> AttemptRecord:
    return AttemptRecord(
        attempt_id=str(uuid4()),
        created_at=datetime.now(UTC),
        user_id="U0AGENT01",
        provider="lummy",
        invoice_key=KEY,
        reference=KEY.split(":")[1],
        outcome="success",
    )


@dataclass
class Checked:
    store: HistoryStore
    health: StoreHealth
    file: Path


@pytest.fixture
async def checked(tmp_path: Path) -> AsyncIterator[Checked]:
    """A store, its outbox and its health, started by a first check."""
    store = HistoryStore(database_url(data_dir=str(tmp_path), database_url=None))
    outbox = Outbox(tmp_path / "outbox.jsonl")
    health = StoreHealth(store, outbox, probe=AttemptJournal(store).renew)
    await health.tick()
    assert health.status == "ok"
    yield Checked(store, health, tmp_path / "history.sqlite3")
    await store.aclose()


def _rows(file: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM resend_attempts").fetchone()[0])


async def test_a_write_to_a_deleted_file_fails_shows_at_once_and_is_kept(checked: Checked) -> None:
    store, health = checked.store, checked.health
    checked.file.unlink()
    lost = row()

    with pytest.raises(StoreUnavailableError, match="database file missing"):
        await store.record(lost)
    # No check ran yet: readiness already says so.
    assert health.status == "history store unavailable: sqlite: database file missing"
    assert health.healthy_for() == 0
    await health.outbox.add(lost)  # what the Auditor does with it

    await health.tick()  # recreates and migrates the file, then writes the outbox
    assert health.status == "ok"
    assert health.queued == 0
    assert [r.attempt_id for r in await store.history(KEY)] == [lost.attempt_id]
    assert _rows(checked.file) == 1


async def test_a_garbage_file_is_moved_aside_and_a_new_one_used(checked: Checked) -> None:
    store, health = checked.store, checked.health
    await store.record(row())
    with contextlib.closing(sqlite3.connect(checked.file)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with checked.file.open("r+b") as file:
        file.write(os.urandom(8192))

    await health.tick()

    assert health.status == "ok"
    (aside,) = [p for p in os.scandir(checked.file.parent) if p.name.endswith("Z")]
    assert ".corrupt-" in aside.name
    assert not sqlitefile.looks_like_sqlite(Path(aside.path))
    assert sqlitefile.looks_like_sqlite(checked.file)
    await store.record(kept := row())
    assert [r.attempt_id for r in await store.history(KEY)] == [kept.attempt_id]


async def test_a_file_replaced_by_another_database_is_taken_up_and_migrated(
    checked: Checked, tmp_path: Path
) -> None:
    store, health = checked.store, checked.health
    other = tmp_path / "restored.sqlite3"
    sqlite3.connect(other).close()
    other.replace(checked.file)  # an operator restoring a (here: empty) backup

    await health.tick()

    assert health.status == "ok"
    assert not [p for p in os.listdir(tmp_path) if ".corrupt-" in p]
    await store.record(kept := row())
    assert _rows(checked.file) == 1
    assert [r.attempt_id for r in await store.history(KEY)] == [kept.attempt_id]


async def test_a_check_with_no_answer_in_time_marks_the_store_unavailable(
    tmp_path: Path,
) -> None:
    store = HistoryStore(database_url(data_dir=str(tmp_path), database_url=None))

    async def hangs() -> None:
        await asyncio.sleep(10)

    health = StoreHealth(store, Outbox(tmp_path / "outbox.jsonl"), probe=hangs, timeout=0.2)
    try:
        started = time.monotonic()
        assert not await health.check()
        assert time.monotonic() - started < 2
        assert health.status == "history store unavailable: no answer in 0.2 s"
    finally:
        await store.aclose()


async def test_the_background_check_notices_a_deleted_file_within_seconds(bot: Bot) -> None:
    services = bot.services
    assert services.history_status == "ok"
    database = Path(services.settings.data_dir) / "history.sqlite3"
    database.unlink()
    started = time.monotonic()

    # No write happens: only the periodic check can notice, and it recreates the file.
    await eventually(database.exists, what="the history file recreated", timeout=6.0)

    assert time.monotonic() - started < 5
    await eventually(lambda: services.history_status == "ok", what="the store ok again")
