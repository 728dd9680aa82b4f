"""The storage checks: the history store reachable and migrated, ``DATA_DIR`` writable."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from bot.config import Settings
from bot.doctor.checks import CheckResult, failed, passed
from bot.history.failures import StoreUnavailableError
from bot.history.store import HistoryStore

HISTORY_KEY, HISTORY_TITLE = "history_store", "History store"
DATA_DIR_KEY, DATA_DIR_TITLE = "data_dir", "DATA_DIR"


async def history_store(settings: Settings) -> CheckResult:
    """Open the store as the bot does at start: connect, then create or migrate the schema
    (safe while replicas run: migrations take a lock and are append-only)."""
    store = HistoryStore(settings.history_url(), schema=settings.database_schema)
    try:
        await store.start()
        version = await store.schema_version()
    except StoreUnavailableError as exc:
        if store.backend == "postgresql":
            fix = (
                "Check DATABASE_URL (host, port, user, password, database) and that the "
                "server accepts connections from this host; the user needs CREATE on the "
                "schema for the migrations."
            )
        else:
            fix = "Make DATA_DIR a writable directory (see the DATA_DIR check)."
        return failed(
            HISTORY_KEY, HISTORY_TITLE, f"{store.description} cannot be used ({exc})", fix=fix
        )
    finally:
        await store.aclose()
    summary = f"{store.description}, migrated (schema version {version})"
    return passed(HISTORY_KEY, HISTORY_TITLE, summary)


async def data_dir(settings: Settings) -> CheckResult:
    """``DATA_DIR`` takes a file (created, synced, removed): the outbox lives there, and the
    SQLite history unless ``DATABASE_URL`` is set."""
    path, problem = await asyncio.to_thread(_write_problem, settings.data_dir)
    if problem is not None:
        fix = (
            "Give the bot's user write access to DATA_DIR, or mount a writable volume there "
            "(the image uses /data); each replica needs a DATA_DIR of its own."
        )
        return failed(DATA_DIR_KEY, DATA_DIR_TITLE, f"{path} {problem}", fix=fix)
    holds = "the outbox" if settings.database_url else "the SQLite history and the outbox"
    return passed(DATA_DIR_KEY, DATA_DIR_TITLE, f"{path} is writable (it holds {holds})")


def _write_problem(data_dir: str) -> tuple[Path, str | None]:
    """The directory, and why a file cannot be written in it (created if missing, as the bot
    would), or None."""
    path = Path(data_dir).expanduser().resolve()
    if path.exists() and not path.is_dir():
        return path, "is not a directory"
    try:
        path.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=".doctor-", dir=path)
        try:
            os.write(descriptor, b"reenviar-bot doctor\n")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
            os.unlink(name)
    except OSError as exc:
        return path, f"is not writable ({exc.strerror or type(exc).__name__})"
    return path, None
