"""Which changes of an open modal the bot made on its own.

Slack guards ``views.update`` with the ``hash`` of the view it replaces, so that a
click carrying an older view loses to a newer change. But the bot also updates a
modal by itself, once a preview of the invoice arrives: a click made just before
that update carries the hash from before it and would be refused, and the agent's
choice silently dropped. Remembering the bot's own updates (hash before → hash
after) lets such a click through, while a click older than another click still loses.
Updates of one view are made one at a time (`updating`), so a click handled while
the bot's own update is on its way sees that update once it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Final

_REMEMBERED: Final = 2000


class OwnViewUpdates:
    """The hashes the bot's own updates of each view replaced, and what they became."""

    def __init__(self, limit: int = _REMEMBERED) -> None:
        self._limit = limit
        self._updates: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def updating(self, view_id: str) -> AsyncIterator[None]:
        """Hold while working out a view's hash and updating it: one update per view at a time."""
        lock = self._locks.setdefault(view_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._locks.get(view_id) is lock:
                del self._locks[view_id]

    def record(self, view_id: str, *, replaced: str | None, now: str | None) -> None:
        """The bot changed ``view_id`` from hash ``replaced`` to hash ``now``."""
        if not (view_id and replaced and now):
            return
        self._updates[view_id] = (replaced, now)
        self._updates.move_to_end(view_id)
        while len(self._updates) > self._limit:
            self._updates.popitem(last=False)

    def current(self, view_id: str, seen: str | None) -> str | None:
        """The hash to guard an update with, for an agent who saw ``seen``: the hash the
        bot's own update left, when that is the only change since ``seen``."""
        replaced, now = self._updates.get(view_id, (None, None))
        return now if seen is not None and seen == replaced else seen
