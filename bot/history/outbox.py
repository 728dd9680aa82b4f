"""History rows the store could not take yet, kept on local disk until it can.

When a write fails (the database is down, read-only, its file deleted), the row
goes here instead: a JSON-lines file in ``DATA_DIR``, each line appended and
fsync'd, so rows survive a crash or a restart of the bot. The health check
writes them to the store once it works again, oldest first, in batches; the
store's writes are idempotent by ``attempt_id``, so a replay (a crash between
writing a batch and trimming the file) never duplicates a row.

The outbox is bounded (rows and bytes): past the bound the oldest rows are
dropped, counted and logged at error level. If the file itself cannot be
written (a read-only ``DATA_DIR``), rows are kept in memory and the file is
rewritten as soon as it can be. ``DATA_DIR`` must be each process' own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import structlog
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from bot.history.failures import StoreUnavailableError
from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore

log = structlog.get_logger(__name__)

OUTBOX_NAME: Final = "history-outbox.jsonl"
#: Rows the database refuses for good (a constraint, a value it cannot store).
REJECTED_NAME: Final = "history-outbox.rejected.jsonl"
MAX_ROWS: Final = 10_000
MAX_BYTES: Final = 20 * 1024 * 1024
#: Rows written to the store per transaction when flushing.
FLUSH_BATCH: Final = 200


@dataclass(frozen=True)
class _Entry:
    record: AttemptRecord
    finishes_attempt: bool
    line: bytes


def encode(record: AttemptRecord, *, finishes_attempt: bool) -> bytes:
    """One outbox line (JSON, newline-terminated)."""
    values: dict[str, Any] = {f.name: getattr(record, f.name) for f in fields(record)}
    values["created_at"] = record.created_at.isoformat()
    values["recipients"] = list(record.recipients)
    values["issued_on"] = record.issued_on.isoformat() if record.issued_on else None
    values["total"] = str(record.total) if record.total is not None else None
    entry = {"record": values, "finishes_attempt": finishes_attempt}
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> tuple[AttemptRecord, bool]:
    """The record and its flag from one line; raises ``ValueError`` when it is not one."""
    try:
        entry = json.loads(line)
        values = dict(entry["record"])
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        values["recipients"] = tuple(values.get("recipients") or ())
        # Absent from lines written before these fields existed.
        if values.get("issued_on") is not None:
            values["issued_on"] = date.fromisoformat(values["issued_on"])
        if values.get("total") is not None:
            values["total"] = Decimal(values["total"])
        return AttemptRecord(**values), bool(entry.get("finishes_attempt"))
    except (KeyError, TypeError, AttributeError, ArithmeticError, json.JSONDecodeError) as exc:
        raise ValueError(f"not an outbox line: {exc}") from exc


def refused_for_good(error: BaseException) -> bool:
    """Whether the database refused the row itself (a constraint, a value it cannot bind),
    which trying again will not change, as opposed to the database being unavailable."""
    cause = error.__cause__
    if isinstance(cause, IntegrityError | DataError):
        return True
    return isinstance(cause, StatementError) and not isinstance(cause, DBAPIError)


class Outbox:
    """A bounded, fsync'd queue of history rows on local disk."""

    def __init__(
        self,
        path: Path,
        *,
        max_rows: int = MAX_ROWS,
        max_bytes: int = MAX_BYTES,
        on_size: Callable[[int], None] | None = None,
    ) -> None:
        self.path = path
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._on_size = on_size
        self._entries: list[_Entry] = []
        self._bytes = 0
        #: Rows dropped because the bound was hit, since the process started.
        self.dropped = 0
        #: Rows the database refused for good, set aside in `REJECTED_NAME`.
        self.rejected = 0
        #: Whether the file holds every queued row (False after a failed write).
        self.persisted = True
        self._lock = asyncio.Lock()
        self._flushing = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def load(self) -> int:
        """Read what a previous run left (at start-up); how many rows. Never raises."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.error("history_outbox_unreadable", path=str(self.path), error=str(exc))
            return 0
        bad = 0
        for line in data.splitlines(keepends=True):
            if not line.strip():
                continue
            try:
                record, finishes = decode(line)
            except ValueError:
                bad += 1  # a line cut short by a crash mid-append
                continue
            self._keep(_Entry(record, finishes, line if line.endswith(b"\n") else line + b"\n"))
        if bad:
            log.error("history_outbox_lines_skipped", path=str(self.path), lines=bad)
        self._changed()
        if self._entries:
            log.warning("history_outbox_loaded", path=str(self.path), rows=len(self._entries))
        return len(self._entries)

    async def add(self, record: AttemptRecord, *, finishes_attempt: bool = False) -> None:
        """Queue a row the store did not take. Never raises: at worst it stays in memory."""
        entry = _Entry(record, finishes_attempt, encode(record, finishes_attempt=finishes_attempt))
        async with self._lock:
            dropped = self._keep(entry)
            self._changed()
            if dropped or not self.persisted:
                await self._save()
            else:
                await self._write(self._append, entry.line)

    async def flush(self, store: HistoryStore) -> int:
        """Write the queued rows to ``store``, oldest first; how many were written.

        Raises `StoreUnavailableError` when the store fails (what was written stays written).
        """
        written = 0
        async with self._flushing:
            while self._entries:
                batch = self._entries[:FLUSH_BATCH]
                try:
                    await store.record_many([(e.record, e.finishes_attempt) for e in batch])
                except StoreUnavailableError as exc:
                    if not refused_for_good(exc):
                        raise
                    # One row the database will never take must not hold back the rest.
                    written += await self._write_one_by_one(store, batch)
                    continue
                await self._forget(batch)
                written += len(batch)
        if written:
            log.info("history_outbox_flushed", rows=written, left=len(self._entries))
        return written

    async def _write_one_by_one(self, store: HistoryStore, batch: list[_Entry]) -> int:
        """Write ``batch`` row by row, setting aside the rows refused for good."""
        written = 0
        for entry in batch:
            try:
                await store.record_many([(entry.record, entry.finishes_attempt)])
                written += 1
            except StoreUnavailableError as exc:
                if not refused_for_good(exc):
                    raise
                self._set_aside(entry, exc)
            await self._forget([entry])
        return written

    def _set_aside(self, entry: _Entry, error: BaseException) -> None:
        """Keep a refused row next to the outbox for a person to look at, and say so."""
        self.rejected += 1
        log.error(
            "history_row_rejected",
            attempt_id=entry.record.attempt_id,
            error=str(error)[:300],
            kept_in=REJECTED_NAME,
        )
        try:
            with (self.path.parent / REJECTED_NAME).open("ab") as file:
                file.write(entry.line)
                file.flush()
                os.fsync(file.fileno())
        except OSError as exc:
            log.error("history_row_lost", attempt_id=entry.record.attempt_id, error=str(exc))

    async def _forget(self, entries: list[_Entry]) -> None:
        """Drop written (or set aside) rows from the queue and from its file."""
        async with self._lock:
            done = {id(entry) for entry in entries}
            self._entries = [e for e in self._entries if id(e) not in done]
            self._bytes = sum(len(e.line) for e in self._entries)
            self._changed()
            await self._save()

    def _keep(self, entry: _Entry) -> int:
        """Append in memory, dropping the oldest rows past the bound; how many dropped."""
        self._entries.append(entry)
        self._bytes += len(entry.line)
        dropped = 0
        while len(self._entries) > 1 and (
            len(self._entries) > self._max_rows or self._bytes > self._max_bytes
        ):
            oldest = self._entries.pop(0)
            self._bytes -= len(oldest.line)
            dropped += 1
        if dropped:
            self.dropped += dropped
            log.error(
                "history_outbox_full",
                dropped=dropped,
                dropped_total=self.dropped,
                max_rows=self._max_rows,
                max_bytes=self._max_bytes,
            )
        return dropped

    def _changed(self) -> None:
        if self._on_size is not None:
            self._on_size(len(self._entries))

    async def _save(self) -> None:
        """Make the file hold exactly the queued rows (none: no file)."""
        await self._write(self._rewrite, b"".join(e.line for e in self._entries))

    async def _write(self, write: Callable[[bytes], None], data: bytes) -> None:
        try:
            await asyncio.to_thread(write, data)
        except OSError as exc:
            if self.persisted:
                log.error(
                    "history_outbox_not_persisted",
                    path=str(self.path),
                    error=f"{type(exc).__name__}: {exc}"[:300],
                    rows_in_memory=len(self._entries),
                )
            self.persisted = False
        else:
            self.persisted = True

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())

    def _rewrite(self, data: bytes) -> None:
        if not data:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
