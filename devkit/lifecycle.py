"""``async with`` for the dev kit's services: what entering and leaving one means.

`ClosedInContext`: entering hands it over as it is, leaving closes it (clients, children).
`StartedInContext`: entering starts it, leaving stops it (servers, the demo session).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["ClosedInContext", "StartedInContext"]


class ClosedInContext(ABC):
    """``async with resource:`` closes it on the way out."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release what it holds (idempotent)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class StartedInContext(ClosedInContext):
    """``async with service:`` starts it with its defaults and stops it on the way out."""

    @abstractmethod
    async def start(self) -> object:
        """Start serving."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop serving (idempotent)."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def aclose(self) -> None:
        """Leaving the ``async with``: stop."""
        await self.stop()
