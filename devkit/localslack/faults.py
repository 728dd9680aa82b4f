"""Fault injection for the fake Web API: errors and delays, per method, on demand."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["Faults", "InjectedFailure"]


@dataclass
class InjectedFailure:
    """A failure queued with :meth:`Faults.fail`."""

    error: str
    status: int
    retry_after: int | None
    remaining: int


class Faults:
    """Failures and latency the next calls to a Web API method get."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[InjectedFailure]] = {}
        self._latency: dict[str, float] = {}

    def fail(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int = 200,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail with ``error``.

        ``error="ratelimited"`` answers HTTP 429 with ``Retry-After`` (default 1 s), as
        Slack does.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if error == "ratelimited":
            if status == 200:
                status = 429
            if retry_after is None:
                retry_after = 1
        failure = InjectedFailure(
            error=error, status=status, retry_after=retry_after, remaining=times
        )
        self._failures.setdefault(method, deque()).append(failure)

    def clear_failures(self) -> None:
        """Drop every pending injected failure."""
        self._failures.clear()

    def set_latency(self, method: str, seconds: float) -> None:
        """Delay answers to ``method`` (``"*"`` for every method) by ``seconds``."""
        if seconds <= 0:
            self._latency.pop(method, None)
        else:
            self._latency[method] = seconds

    def latency(self, method: str) -> float:
        """How long to wait before answering ``method`` (0 for no delay)."""
        return self._latency.get(method, self._latency.get("*", 0.0))

    def take_failure(self, method: str) -> InjectedFailure | None:
        """The failure this call to ``method`` gets, if one is queued (uses it up)."""
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        return failure
