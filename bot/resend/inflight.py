"""Work still running after Slack's ack, so shutdown can wait for it (or cut it short)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any


class InFlight:
    """The running re-sends, so shutdown can let them finish (or cut them short)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any] | None] = set()
        # Strong references to spawned tasks (the event loop keeps only weak ones).
        self._background: set[asyncio.Task[None]] = set()
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        """How many re-sends are running now."""
        return self._count

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Mark one re-send as running for the duration of the block."""
        task = asyncio.current_task()
        self._begin(task)
        try:
            yield
        finally:
            self._end(task)

    def _begin(self, task: asyncio.Task[Any] | None) -> None:
        self._tasks.add(task)
        self._count += 1
        self._idle.clear()

    def _end(self, task: asyncio.Task[Any] | None) -> None:
        self._tasks.discard(task)
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    def cancel_all(self) -> int:
        """Cancel every running re-send (each reports itself as interrupted); how many."""
        tasks = [task for task in self._tasks if task is not None and not task.done()]
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def drain(self, grace_seconds: float) -> bool:
        """Wait until nothing runs, at most ``grace_seconds``; True if drained."""
        if self._idle.is_set():
            # Python 3.11's wait_for(timeout=0) times out even on a set event.
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        except TimeoutError:
            return False
        return True

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> asyncio.Task[None]:
        """Run ``coroutine`` in the background, tracked like any re-send from this moment
        (a drain right after must wait for it, though it has not started yet)."""

        async def run() -> None:
            await coroutine

        task = asyncio.create_task(run())
        self._begin(task)
        self._background.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._background.discard(finished)
            self._end(finished)

        task.add_done_callback(done)
        return task
