"""The history store failing under a running bot process: nothing lost, nothing hidden.

Each test runs ``python -m bot serve --http`` as a child and breaks its store for
real: a PostgreSQL of the test's own stopped for 40 s during a stream of
re-sends, the SQLite file deleted, overwritten with garbage, or its directory
made read-only. Every re-send must still be delivered, ``/readyz`` must say
what is wrong, and once the store is back every history row must be there
(rows that could not be written wait in the local outbox, then are written
once, never twice).

Each test collects its figures first and asserts at the end, so a failure says
how far off it was (the closing table of issue 10 comes from these messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg  # type: ignore[import-untyped]
import pytest

from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI, SlackEventSender
from tests.conftest import AGENT, SIGNING_SECRET, outcomes
from tests.e2e import confirmed, lummy_values, submission_view
from tests.pgserver import PostgresServer, private_postgres
from tests.processes import (
    BotProcess,
    BotProcesses,
    clean_env,
    fake_settings,
    python_bound_by_permissions,
)

__all__ = ["private_postgres", "python_bound_by_permissions"]  # fixtures for the tests below

#: How an outcome that says the invoice went out starts (whatever its wording).
SENT_MARK = ":white_check_mark:"
#: How soon /readyz must report a broken store.
REPORTED_WITHIN = 5.0
#: How long the store may take to be whole again once the fault is gone.
RECOVERED_WITHIN = 20.0
#: Re-sends submitted at once: more than one connection at a time.
BURST = 8


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[BotProcesses]:
    async with BotProcesses(tmp_path) as started:
        yield started


@dataclass
class Stream:
    """Re-sends of distinct invoices to one bot process, as agents would submit them."""

    process: BotProcess
    slack: FakeSlackWebAPI
    lummy: LummyEmulator
    invoices: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _sender: SlackEventSender | None = None

    @property
    def sender(self) -> SlackEventSender:
        if self._sender is None:
            self._sender = SlackEventSender(self.process.events_url, SIGNING_SECRET, self.slack)
        return self._sender

    async def resend(self) -> str:
        """Submit one new invoice (confirming if the bot asks); returns its id."""
        invoice_id = str(uuid4())
        self.lummy.invoices[invoice_id] = f"cliente-{len(self.invoices)}@empresa.com"
        self.invoices.append(invoice_id)
        view = submission_view(invoice_id)
        values = lummy_values(invoice_id)
        response = await self.sender.post_payload(
            self.sender.view_submission_payload(user_id=AGENT, view=view, values=values)
        )
        body = response.json if response.body else None
        if isinstance(body, dict) and body.get("response_action") == "update":
            # The bot could not rule out a duplicate and asks: the agent confirms.
            asked = {**body["view"], "id": view["id"]}
            response = await self.sender.post_payload(
                self.sender.view_submission_payload(
                    user_id=AGENT, view=asked, values=confirmed(values)
                )
            )
        self.statuses.append(response.status)
        return invoice_id

    async def resend_and_wait(self) -> str:
        """One re-send, waiting for its outcome in the channel."""
        before = len(outcomes(self.slack))
        invoice_id = await self.resend()
        await self.slack.wait_until(
            lambda: len(outcomes(self.slack)) > before, timeout=10, description="the outcome"
        )
        return invoice_id

    async def burst(self, count: int) -> None:
        """``count`` re-sends at once, waiting for all their outcomes."""
        before = len(outcomes(self.slack))
        await asyncio.gather(*(self.resend() for _ in range(count)))
        await self.slack.wait_until(
            lambda: len(outcomes(self.slack)) >= before + count,
            timeout=15,
            description=f"{count} outcomes",
        )

    def delivered(self) -> int:
        """Outcomes in the channel that say the invoice was sent."""
        return sum(SENT_MARK in str(m.blocks) for m in outcomes(self.slack))

    async def aclose(self) -> None:
        if self._sender is not None:
            await self._sender.aclose()


async def _history(process: BotProcess) -> dict[str, Any]:
    """``/readyz``'s body (its ``history`` and ``history_queued`` fields)."""
    body: dict[str, Any] = (await process.readyz()).json()
    return body


async def _seconds_until_reported(process: BotProcess, since: float, limit: float) -> float | None:
    """Poll ``/readyz`` until ``history`` is not ``ok``; seconds since ``since``, or None."""
    while time.monotonic() - since < limit:
        if (await _history(process)).get("history") != "ok":
            return time.monotonic() - since
        await asyncio.sleep(0.1)
    return None


async def _until_whole(process: BotProcess, limit: float = RECOVERED_WITHIN) -> dict[str, Any]:
    """Poll ``/readyz`` until the history is ``ok`` with nothing queued (bounded)."""
    deadline = time.monotonic() + limit
    body = await _history(process)
    while time.monotonic() < deadline:
        body = await _history(process)
        if body.get("history") == "ok" and body.get("history_queued", 0) == 0:
            break
        await asyncio.sleep(0.2)
    return body


# --- PostgreSQL stopped for 40 s ----------------------------------------------------------

OUTAGE_SECONDS = 40.0
SUBMIT_EVERY = 0.15


@pytest.mark.timeout(240)
async def test_postgresql_stopped_for_40_seconds_loses_no_history_row(
    private_postgres: PostgresServer,
    processes: BotProcesses,
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> None:
    env = clean_env(
        tmp_path,
        DATABASE_URL=private_postgres.url,
        **fake_settings(fake_slack, lummy, tusfacturas),
    )
    bot = await processes.start("--http", env=env)
    assert (await bot.wait_ready())["history"] == "ok"
    stream = Stream(bot, fake_slack, lummy)
    stop_streaming = asyncio.Event()
    submissions: list[asyncio.Task[str]] = []

    async def produce() -> None:
        while not stop_streaming.is_set():
            submissions.append(asyncio.create_task(stream.resend()))
            await asyncio.sleep(SUBMIT_EVERY)

    producer = asyncio.create_task(produce())
    try:
        await asyncio.sleep(5)
        stopped_at = time.monotonic()
        await asyncio.to_thread(private_postgres.stop)
        reported_after = await _seconds_until_reported(bot, stopped_at, OUTAGE_SECONDS)
        await asyncio.sleep(10)
        during = await _history(bot)
        queued_metric = await _metric(bot, "reenviar_history_queued_rows")
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
        await asyncio.to_thread(private_postgres.start)
        await asyncio.sleep(5)
    finally:
        stop_streaming.set()
        await producer
        await asyncio.gather(*submissions)
    try:
        await fake_slack.wait_until(
            lambda: len(outcomes(fake_slack)) >= len(stream.invoices),
            timeout=30,
            description="every outcome",
        )
        after = await _until_whole(bot)
        rows = await _pg_rows(private_postgres.url, stream.invoices)
        queued_metric_after = await _metric(bot, "reenviar_history_queued_rows")
    finally:
        await stream.aclose()

    sent = len(stream.invoices)
    successes = [r for r in rows if r[1] == "success"]
    figures = (
        f"{sent} re-sends, {stream.delivered()} delivered, {len(successes)} success rows"
        f" ({len({r[0] for r in rows})} distinct attempts); outage reported after"
        f" {reported_after if reported_after is None else round(reported_after, 1)} s"
        f" ({during}, metric {queued_metric}); after: {after}, metric {queued_metric_after}"
    )
    print("\n" + figures)
    assert stream.statuses == [200] * sent, figures
    assert stream.delivered() == sent, figures
    assert reported_after is not None, figures
    assert reported_after < REPORTED_WITHIN, figures
    assert sorted(r[2] for r in successes) == sorted(f"lummy:{i}" for i in stream.invoices), figures
    assert len({r[0] for r in rows}) == len(rows), figures  # a replay never duplicates
    assert (after.get("history"), after.get("history_queued")) == ("ok", 0), figures
    # The rows waiting were visible while the store was down, in /readyz and as a metric.
    assert during.get("history_queued", 0) > 0, figures
    assert queued_metric is not None, figures
    assert queued_metric > 0, figures
    assert queued_metric_after == 0, figures
    assert "Traceback" not in bot.output()


async def _metric(process: BotProcess, name: str) -> float | None:
    """One unlabelled sample from ``/metrics``; None when it is not there."""
    response = await process.get("/metrics")
    for line in response.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def _pg_rows(url: str, invoices: list[str]) -> list[tuple[str, str, str]]:
    """(attempt_id, outcome, invoice_key) of the attempts on ``invoices``."""
    connection = await asyncpg.connect(url, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT attempt_id, outcome, invoice_key FROM resend_attempts"
            " WHERE invoice_key = ANY($1::text[])",
            [f"lummy:{i}" for i in invoices],
        )
    finally:
        await connection.close()
    return [(str(a), str(o), str(k)) for a, o, k in rows]


# --- SQLite: the file deleted, garbage, a read-only directory -----------------------------


def _sqlite_rows(database: Path, invoices: list[str]) -> list[tuple[str, str]]:
    """(outcome, invoice_key) of the successful attempts on ``invoices`` (a guard that could
    not decide also audits its question); never creates the file."""
    if not database.exists():
        return []
    keys = [f"lummy:{i}" for i in invoices]
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            marks = ",".join("?" * len(keys))
            found = db.execute(
                "SELECT outcome, invoice_key FROM resend_attempts"  # noqa: S608
                f" WHERE outcome = 'success' AND invoice_key IN ({marks})",
                keys,
            ).fetchall()
    except sqlite3.Error:
        return []
    return [(str(o), str(k)) for o, k in found]


async def _rows_eventually(
    database: Path, invoices: list[str], limit: float = RECOVERED_WITHIN
) -> list[tuple[str, str]]:
    deadline = time.monotonic() + limit
    rows = _sqlite_rows(database, invoices)
    while len(rows) < len(invoices) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        rows = _sqlite_rows(database, invoices)
    return rows


@pytest.fixture
def sqlite_env(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> dict[str, str]:
    return clean_env(tmp_path, **fake_settings(fake_slack, lummy, tusfacturas))


@pytest.fixture
async def sqlite_stream(
    processes: BotProcesses,
    sqlite_env: dict[str, str],
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
) -> AsyncIterator[Stream]:
    """Re-sends to a ready bot process on SQLite (``DATA_DIR`` is ``tmp_path/data``)."""
    bot = await processes.start("--http", env=sqlite_env)
    await bot.wait_ready()
    stream = Stream(bot, fake_slack, lummy)
    yield stream
    await stream.aclose()


async def test_a_deleted_history_file_is_recreated_and_keeps_every_later_row(
    sqlite_stream: Stream, tmp_path: Path
) -> None:
    stream, bot = sqlite_stream, sqlite_stream.process
    database = tmp_path / "data" / "history.sqlite3"
    first = await stream.resend_and_wait()
    assert len(await _rows_eventually(database, [first])) == 1
    database.unlink()  # the operator's mistake; the bot's connections keep the inode
    later = [await stream.resend_and_wait() for _ in range(4)]
    rows = await _rows_eventually(database, later)
    after = await _until_whole(bot)

    figures = f"{len(rows)} of {len(later)} later rows on disk; after: {after}"
    print("\n" + figures)
    assert stream.delivered() == 5, figures
    assert sorted(rows) == sorted(("success", f"lummy:{i}") for i in later), figures
    assert (after.get("history"), after.get("history_queued")) == ("ok", 0), figures
    assert bot.events("history_file_replaced"), figures
    assert "Traceback" not in bot.output()


async def test_a_garbage_history_file_is_moved_aside_and_recreated(
    sqlite_stream: Stream, tmp_path: Path
) -> None:
    stream, bot = sqlite_stream, sqlite_stream.process
    database = tmp_path / "data" / "history.sqlite3"
    await stream.resend_and_wait()
    # As after SQLite's automatic checkpoint: everything in the main file, none in the WAL.
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with database.open("r+b") as file:  # same inode, every byte garbage
        file.write(os.urandom(64 * 1024))
        file.truncate()
        file.flush()
        os.fsync(file.fileno())
    broken_at = time.monotonic()
    later = [await stream.resend_and_wait() for _ in range(3)]
    rows = await _rows_eventually(database, later)
    took = time.monotonic() - broken_at
    after = await _until_whole(bot)

    aside = sorted(database.parent.glob("history.sqlite3.corrupt-*"))
    figures = (
        f"{len(rows)} of {len(later)} later rows in a working file after {took:.1f} s;"
        f" moved aside: {[p.name for p in aside]}; after: {after}"
    )
    print("\n" + figures)
    assert stream.delivered() == 4, figures
    assert sorted(rows) == sorted(("success", f"lummy:{i}") for i in later), figures
    assert aside, figures  # kept for a post-mortem, not deleted
    assert (after.get("history"), after.get("history_queued")) == ("ok", 0), figures
    assert "Traceback" not in bot.output()


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """The directory and its files read-only for as long as the block runs."""
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in [directory, *directory.iterdir()]}
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    try:
        for path, mode in modes.items():
            path.chmod(mode & ~write)
        yield
    finally:
        for path, mode in modes.items():
            with contextlib.suppress(FileNotFoundError):
                path.chmod(mode)


async def test_a_read_only_data_dir_is_reported_and_recovers_without_restart(
    sqlite_env: dict[str, str],
    python_bound_by_permissions: str | None,
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    database = data / "history.sqlite3"
    python = python_bound_by_permissions
    async with BotProcesses(tmp_path, **({"python": python} if python else {})) as processes:
        bot = await processes.start("--http", env=sqlite_env)
        await bot.wait_ready()
        stream = Stream(bot, fake_slack, lummy)
        try:
            await stream.burst(BURST)  # the connection pool grows to serve them
            with _read_only(data):
                made_read_only = time.monotonic()
                reported_after = await _seconds_until_reported(bot, made_read_only, 8)
                during = await _history(bot)
                await stream.burst(BURST)  # new connections now open read-only
            await stream.burst(BURST)  # writable again: no restart
            rows = await _rows_eventually(database, stream.invoices)
            after = await _until_whole(bot)
        finally:
            await stream.aclose()

    sent = len(stream.invoices)
    figures = (
        f"read-only reported after"
        f" {reported_after if reported_after is None else round(reported_after, 1)} s"
        f" ({during}); {len(rows)} of {sent} rows on disk once writable; after: {after}"
    )
    print("\n" + figures)
    assert stream.delivered() == sent == 3 * BURST, figures
    assert reported_after is not None, figures
    assert reported_after < REPORTED_WITHIN, figures
    assert sorted(rows) == sorted(("success", f"lummy:{i}") for i in stream.invoices), figures
    assert (after.get("history"), after.get("history_queued")) == ("ok", 0), figures
    assert "Traceback" not in bot.output()
