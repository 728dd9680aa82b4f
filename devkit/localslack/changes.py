"""Wake whoever waits for the fake's state to change (after each request it serves)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Changes"]


class Changes:
    """An ``asyncio.Condition`` notified after every request, created on first use.

    The condition is created lazily and `reset` when the server starts, so it always
    belongs to the event loop that serves the requests.
    """

    def __init__(self) -> None:
        self._condition: asyncio.Condition | None = None

    def reset(self) -> None:
        """Forget the condition (the next use binds a new one to the running loop)."""
        self._condition = None

    def condition(self) -> asyncio.Condition:
        """The condition waiters wait on."""
        if self._condition is None:
            self._condition = asyncio.Condition()
        return self._condition

    async def notify(self) -> None:
        """Wake every waiter: the state may have changed."""
        condition = self.condition()
        async with condition:
            condition.notify_all()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds (re-checked at each change; unbounded)."""
        condition = self.condition()
        async with condition:
            await condition.wait_for(predicate)
