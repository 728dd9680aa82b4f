"""Whether the history store works, said honestly and soon, and put right when it does not.

`StoreHealth.tick` runs every `CHECK_SECONDS` (also while the store is fine):
after any failure (a failed call marks the store degraded at once, see
`HistoryStore.failed`) it recovers the store (new connections; a missing SQLite
file recreated, a broken one moved aside; migrations), then it proves the store
takes writes with ``probe``, and writes what the outbox holds. The status is
what ``/readyz`` reports as ``history``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.outbox import Outbox
from bot.history.store import HistoryStore

log = structlog.get_logger(__name__)

#: How often the store is checked, healthy or not.
CHECK_SECONDS: Final = 2.0
OK: Final = "ok"
UNAVAILABLE: Final = "history store unavailable: "


class StoreHealth:
    """Checks, recovers and reports the history store; flushes the outbox into it."""

    def __init__(
        self,
        store: HistoryStore,
        outbox: Outbox,
        *,
        probe: Callable[[], Awaitable[object]],
        timeout: float = deadlines.STORE_HEALTH_CHECK,
        on_status: Callable[[bool], None] | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self._probe = probe
        self._timeout = timeout
        self._on_status = on_status
        #: Whether the store was started (created and migrated) at least once.
        self.started = False
        self._status = "not started"
        self._healthy_since: float | None = None
        self._failures_seen = 0

    @property
    def status(self) -> str:
        """``ok``, or why not; a failure since the last check shows at once."""
        if self.store.problem is not None:
            return UNAVAILABLE + self.store.problem
        return self._status

    @property
    def queued(self) -> int:
        """History rows waiting in the outbox."""
        return len(self.outbox)

    def healthy_for(self) -> float:
        """Seconds the store has passed every check without a failure in between."""
        if (
            self._healthy_since is None
            or self.store.problem is not None
            or self.store.failures != self._failures_seen
        ):
            return 0.0
        return time.monotonic() - self._healthy_since

    async def tick(self) -> None:
        """One check (recovering the store if needed), then the outbox's rows, if any."""
        if await self.check() and len(self.outbox):
            try:
                await asyncio.wait_for(self.outbox.flush(self.store), deadlines.OUTBOX_FLUSH)
            except (StoreUnavailableError, TimeoutError) as exc:
                log.error("history_outbox_flush_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    async def check(self) -> bool:
        """Whether the store takes writes now; recovers it first if it failed since."""
        failures_before = self.store.failures
        try:
            failures_before = await asyncio.wait_for(self._check(), self._timeout)
        except (StoreUnavailableError, SQLAlchemyError, OSError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError):
                self.store.failed(f"no answer in {self._timeout:g} s")
            elif self.store.failures == failures_before:
                self.store.failed(f"{type(exc).__name__}: {exc}"[:200])
            self._settle(healthy=False)
            return False
        self.store.recovered(failures_before)
        self._settle(healthy=self.store.problem is None)
        return self.store.problem is None

    async def _check(self) -> int:
        """Recover if needed, then probe; the failures this check answers for."""
        store = self.store
        if self.started and store.problem is None and (problem := store.file_problem()):
            store.failed(problem)
        answered = store.failures
        if not self.started or store.problem is not None:
            await store.recover()
            if not self.started:
                log.info("history_store_ready", store=store.description)
            self.started = True
        await self._probe()
        return answered

    def _settle(self, *, healthy: bool) -> None:
        was = self._status
        if not healthy:
            self._status = UNAVAILABLE + (self.store.problem or "unknown")
            self._healthy_since = None
            if was != self._status:
                log.error(
                    "history_store_unavailable", store=self.store.description, status=self._status
                )
        else:
            # Writes still work through connections opened before, but no new one could
            # write: an operator must know before a restart finds out.
            self._status = (
                UNAVAILABLE + "data directory is read-only" if self.store.read_only() else OK
            )
            if self._healthy_since is None or self.store.failures != self._failures_seen:
                self._healthy_since = time.monotonic()
            if was != OK and self._status == OK and was != "not started":
                log.info("history_store_recovered", store=self.store.description)
        self._failures_seen = self.store.failures
        if self._on_status is not None:
            self._on_status(self._status == OK)
