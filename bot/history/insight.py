"""What the history says about an invoice: recent re-sends and the provider's hourly quota."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

#: From how few re-sends left the modal says the count in its main text.
NEARLY_EXHAUSTED_LEFT: Final = 2


@dataclass(frozen=True)
class RecentSend:
    """A re-send of the same invoice inside the duplicate window (or still running)."""

    at: datetime
    user_id: str
    recipients: tuple[str, ...] = ()
    in_progress: bool = False
    #: The last attempt's outcome was unknown: it may or may not have gone out.
    uncertain: bool = False
    #: The history row it was read from, when there is one (it names the send).
    attempt_id: str | None = None


@dataclass(frozen=True)
class QuotaUsage:
    """How many of a provider's hourly re-sends of an invoice the history has seen."""

    used: int
    limit: int
    frees_at: datetime | None

    @property
    def exhausted(self) -> bool:
        """No re-send left this hour."""
        return self.used >= self.limit

    @property
    def left(self) -> int:
        """Re-sends still allowed this hour."""
        return max(0, self.limit - self.used)

    @property
    def nearly_exhausted(self) -> bool:
        """Few left (8 of 10 used, or more): worth more than the small print."""
        return not self.exhausted and self.left <= NEARLY_EXHAUSTED_LEFT


@dataclass(frozen=True)
class Insight:
    """What the history says about an invoice, for the modal and the outcome."""

    recent: RecentSend | None = None
    quota: QuotaUsage | None = None
    #: The history could not answer in time: a recent send cannot be ruled out.
    unverified: bool = False

    @property
    def needs_confirmation(self) -> bool:
        """Whether the agent must confirm before sending (a recent send, or no way to tell)."""
        return self.recent is not None or self.unverified

    @property
    def worth_showing(self) -> bool:
        """Whether the modal has anything to add: a recent send, or a quota in use."""
        return self.needs_confirmation or (self.quota is not None and self.quota.used > 0)
