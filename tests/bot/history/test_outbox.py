"""The local outbox: rows the store could not take, on disk, bounded, written once.

Real files in the test's directory and a real SQLite store: the outbox must
survive a restart (a new `Outbox` reading the same file), drop and count the
oldest rows past its bound, keep rows in memory when its file cannot be
written, and never duplicate a row when it is flushed again after a crash.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from bot.history.outbox import Outbox, decode, encode
from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore, database_url

T0 = datetime(2026, 3, 2, 14, 30, 15, 123456, tzinfo=UTC)
KEY = "lummy:550e8400-e29b-41d4-a716-446655440000"


def row(n: int = 0, **extra: object) -> AttemptRecord:
    values: dict[str, object] = {
        "attempt_id": str(uuid4()),
        "created_at": T0 + timedelta(seconds=n),
        "user_id": "U0AGENT01",
        "provider": "lummy",
        "invoice_key": KEY,
        "reference": KEY.split(":")[1],
        "outcome": "success",
        "recipients": ("cliente@empresa.com", "otro@cliente.com"),
        "latency_ms": 321,
        "detail": "ñandú «ok»",
        **extra,
    }
    return AttemptRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[HistoryStore]:
    started = HistoryStore(database_url(data_dir=str(tmp_path / "db"), database_url=None))
    await started.start()
    yield started
    await started.aclose()


def test_a_line_round_trips_every_field() -> None:
    record = row(alternative_email="otro@cliente.com", message_ts="1700000000.000100")
    assert decode(encode(record, finishes_attempt=True)) == (record, True)
    with pytest.raises(ValueError, match="not an outbox line"):
        decode(b'{"record": {"attempt_id": "cut sh')


def test_a_line_round_trips_what_the_lookup_said() -> None:
    record = row(
        customer_name="Panadería Ñandú SRL",
        customer_key="PANADERIA NANDU SRL",
        customer_tax_id="30712345671",
        issued_on=date(2025, 11, 20),
        total=Decimal("138900.50"),
        currency="ARS",
        display_number="A-1234",
    )
    line = encode(record, finishes_attempt=False)
    assert decode(line) == (record, False)
    (decoded, _) = decode(line)
    assert (type(decoded.issued_on), str(decoded.total)) == (date, "138900.50")
    with pytest.raises(ValueError, match="not an outbox line"):
        decode(line.replace(b'"138900.50"', b'"lots"'))


def test_a_line_written_before_the_search_columns_still_reads() -> None:
    record = row()
    values = json.loads(encode(record, finishes_attempt=True))
    for name in ("customer_name", "customer_tax_id", "issued_on", "total", "display_number"):
        del values["record"][name]
    assert decode(json.dumps(values).encode()) == (record, True)


async def test_rows_with_what_the_lookup_said_reach_the_store(
    tmp_path: Path, store: HistoryStore
) -> None:
    outbox = Outbox(tmp_path / "outbox.jsonl")
    await outbox.add(kept := row(issued_on=date(2026, 2, 10), total=Decimal("11600.00")))
    reloaded = Outbox(tmp_path / "outbox.jsonl")
    assert reloaded.load() == 1
    assert await reloaded.flush(store) == 1
    assert await store.history(KEY) == [kept]


async def test_rows_survive_a_restart_and_are_written_once(
    tmp_path: Path, store: HistoryStore
) -> None:
    path = tmp_path / "outbox.jsonl"
    sizes: list[int] = []
    outbox = Outbox(path, on_size=sizes.append)
    queued = [row(n) for n in range(3)]
    for record in queued:
        await outbox.add(record)
    assert len(outbox) == 3
    assert sizes == [1, 2, 3]
    kept = path.read_bytes()

    after_restart = Outbox(path)
    assert after_restart.load() == 3
    assert await after_restart.flush(store) == 3
    assert len(after_restart) == 0
    assert not path.exists()  # nothing left to keep

    # A crash between writing and trimming: the same rows are flushed again.
    path.write_bytes(kept)
    replayed = Outbox(path)
    assert replayed.load() == 3
    assert await replayed.flush(store) == 3
    stored = await store.history(KEY)
    assert sorted(r.attempt_id for r in stored) == sorted(r.attempt_id for r in queued)
    assert {r.detail for r in stored} == {"ñandú «ok»"}


async def test_past_its_bound_the_oldest_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    outbox = Outbox(path, max_rows=3)
    records = [row(n) for n in range(5)]
    for record in records:
        await outbox.add(record)
    assert (len(outbox), outbox.dropped) == (3, 2)
    reread = Outbox(path)
    reread.load()
    assert [e.record for e in reread._entries] == records[2:]

    line = len(encode(records[0], finishes_attempt=False))
    by_bytes = Outbox(tmp_path / "small.jsonl", max_bytes=2 * line + 10)
    for record in records:
        await by_bytes.add(record)
    assert (len(by_bytes), by_bytes.dropped) == (2, 3)


async def test_a_half_written_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    whole = encode(row(), finishes_attempt=False)
    path.write_bytes(whole + whole[:20])  # the process died in the middle of an append
    outbox = Outbox(path)
    assert outbox.load() == 1


async def test_a_file_that_cannot_be_written_keeps_rows_in_memory_until_it_can(
    tmp_path: Path, store: HistoryStore
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data directory should be")
    outbox = Outbox(blocker / "outbox.jsonl")  # unwritable, even for root
    first, second = row(1), row(2)
    await outbox.add(first)
    assert (len(outbox), outbox.persisted) == (1, False)

    blocker.unlink()  # the disk is fixed: the next write saves everything
    await outbox.add(second)
    assert outbox.persisted
    reread = Outbox(blocker / "outbox.jsonl")
    assert reread.load() == 2
    assert await outbox.flush(store) == 2
    assert len(await store.history(KEY)) == 2


async def test_a_row_the_database_refuses_for_good_is_set_aside_not_blocking(
    tmp_path: Path, store: HistoryStore
) -> None:
    path = tmp_path / "outbox.jsonl"
    outbox = Outbox(path)
    before, poison, after = row(0), row(1, user_id=None), row(2)
    for record in (before, poison, after):
        await outbox.add(record)

    assert await outbox.flush(store) == 2
    assert len(outbox) == 0
    assert outbox.rejected == 1
    stored = {r.attempt_id for r in await store.history(KEY)}
    assert stored == {before.attempt_id, after.attempt_id}
    (kept,) = (tmp_path / "history-outbox.rejected.jsonl").read_bytes().splitlines()
    assert decode(kept)[0] == poison
    assert await outbox.flush(store) == 0  # nothing stuck behind it
