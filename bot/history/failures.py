"""How the history store fails: one exception for callers, and the store marked degraded.

Every store operation runs inside `FailureGuard`: a database or network failure
becomes `StoreUnavailableError` (callers carry on without the history) and marks
the store degraded at once, so ``/readyz`` reports it before the next health check.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError


class StoreUnavailableError(Exception):
    """The history store could not be reached or failed; callers carry on without it."""


class FailureGuard:
    """Turn database and network failures into `StoreUnavailableError`, and report each
    one to ``failed`` with a short reason (`HistoryStore.failed`)."""

    def __init__(self, backend: str, failed: Callable[[str], None]) -> None:
        self._backend = backend
        self._failed = failed

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, StoreUnavailableError):
            self._failed(str(exc))
        elif isinstance(exc, SQLAlchemyError | OSError | TimeoutError):
            self._failed(_short_reason(exc))
            reason = f"{self._backend}: {type(exc).__name__}: {exc}"
            raise StoreUnavailableError(reason) from exc


def _short_reason(exc: BaseException) -> str:
    """The failure in a few words, for readiness (no SQL, parameters, hosts or ports):
    the driver's exception type, and SQLite's own fixed message."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, sqlite3.Error):
        return f"{type(cause).__name__}: {cause}"
    return type(cause).__name__


def is_corruption(exc: BaseException) -> bool:
    """Whether SQLite said the file is not a database or is malformed (not transient)."""
    while exc is not None:
        if isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorcode", None) in {
            sqlite3.SQLITE_CORRUPT,
            sqlite3.SQLITE_NOTADB,
        }:
            return True
        exc = exc.__cause__ or getattr(exc, "orig", None)  # type: ignore[assignment]
    return False
