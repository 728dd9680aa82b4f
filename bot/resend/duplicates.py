"""The duplicate guard: a warning before an invoice is re-sent twice, and one send when
two agents submit it at the same moment.

What the history says about an invoice (`Insight`): its re-sends inside the
duplicate window, and, from the same read, how much of its provider's hourly quota
they used. Then a claim in the store that only one submit gets, across any number
of bot replicas. A claim is released when its re-send ends: kept as "sent" for the
window (a second send must be confirmed), or dropped. A release the store could
not take is kept and retried once it answers (`retry_releases`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.insight import Insight, QuotaUsage, RecentSend
from bot.history.records import AttemptRecord, ClaimState
from bot.history.store import HistoryStore
from bot.jobs import ResendJob
from providers.base import ResendRequest
from providers.registry import ProviderRegistry

log = structlog.get_logger(__name__)

QUOTA_WINDOW: Final = timedelta(hours=1)
#: How far back a retry of a job that does not say when it was made looks for newer sends.
RETRY_LOOKBACK: Final = timedelta(days=1)
#: Clocks of replicas may differ: a retry reads the history from a little before its job.
_CLOCK_SLACK: Final = timedelta(minutes=1)
#: Outcomes after which the customer may have the e-mail.
_MAY_HAVE_SENT: Final = frozenset({"success", "unknown"})


class DuplicateGuard:
    """Recent re-sends of an invoice, from the history, and the claim on it."""

    def __init__(
        self,
        *,
        store: HistoryStore | None,
        registry: ProviderRegistry,
        window: timedelta,
        pending_timeout: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        store_timeout: float = deadlines.STORE_PRE_ACK,
    ) -> None:
        self._store = store
        self._registry = registry
        self._window = window
        self._pending_timeout = pending_timeout
        self._clock = clock
        self._store_timeout = store_timeout
        #: Claims whose release the store did not take yet: (invoice, attempt) → (sent, when).
        self._unreleased: dict[tuple[str, str], tuple[bool, datetime]] = {}

    @property
    def active(self) -> bool:
        """Whether there is a history to guard with (without one, every re-send goes ahead)."""
        return self._store is not None

    async def insight(self, request: ResendRequest) -> Insight:
        """Recent sends and quota for the modal; empty when the store cannot answer in time."""
        if self._store is None:
            return Insight()
        try:
            return await asyncio.wait_for(self.read(request), self._store_timeout)
        except (TimeoutError, StoreUnavailableError) as exc:
            log.error("history_read_failed", error=type(exc).__name__, detail=str(exc)[:200])
            return Insight()

    async def read(self, request: ResendRequest) -> Insight:
        """What the history says about the invoice now (unbounded: the caller bounds it)."""
        assert self._store is not None
        now = self._clock()
        since = now - max(self._window, QUOTA_WINDOW)
        successes = await self._store.successes_since(request.invoice_key, since)
        limit = self._registry.of(request).hourly_quota
        return Insight(
            recent=self._recent(successes, now),
            quota=_quota(successes, limit, now) if limit is not None else None,
        )

    def _recent(self, successes: list[AttemptRecord], now: datetime) -> RecentSend | None:
        recent_ones = [s for s in successes if now - s.created_at < self._window]
        if not recent_ones:
            return None
        last = recent_ones[-1]
        return RecentSend(at=last.created_at, user_id=last.user_id, recipients=last.recipients)

    async def sent_after(self, job: ResendJob) -> RecentSend | None:
        """The latest send of the invoice (a success or an unknown outcome, by anyone, from
        any surface) after the attempt ``job`` retries, or None (unbounded: the caller
        bounds it).

        ``job`` is the next attempt, as its button carries it: ``attempt - 1`` attempts of
        it were made, and the history's rows with its key are those attempts, in order.
        Whatever follows the last one of them it retries is newer, a later attempt of this
        same job included (a stale copy of an already retried button).
        """
        assert self._store is not None
        since = (job.made_at or self._clock() - RETRY_LOOKBACK) - _CLOCK_SLACK
        rows = await self._store.sends_since(job.request.invoice_key, since)
        own = [i for i, row in enumerate(rows) if row.idempotency_key == job.idempotency_key]
        made = job.attempt - 1
        if own and made >= 1:
            # Rows the history lost (an outbox not flushed yet) leave the last one it has.
            rows = rows[own[min(made, len(own)) - 1] + 1 :]
        newer = [row for row in rows if row.outcome in _MAY_HAVE_SENT]
        if not newer:
            return None
        last = newer[-1]
        return RecentSend(
            at=last.created_at,
            user_id=last.user_id,
            recipients=last.recipients,
            uncertain=last.outcome != "success",
            attempt_id=last.attempt_id,
        )

    async def claim(
        self, job: ResendJob, user_id: str, *, confirmed: bool, recent: RecentSend | None
    ) -> RecentSend | None:
        """Take the invoice for ``job``: None once taken, else the send that holds it.

        ``confirmed``: the agent asked to send it again, so a claim kept for the window
        is overridden (never one still running). ``recent``: the history's last send,
        to report when the claim is held as sent.
        """
        assert self._store is not None
        holder = await self._store.claim(
            job.request.invoice_key,
            attempt_id=job.idempotency_key,
            user_id=user_id,
            now=self._clock(),
            sent_window=self._window,
            pending_timeout=self._pending_timeout,
            force=confirmed,
        )
        if holder is None:
            return None
        if holder.state is ClaimState.PENDING:
            return RecentSend(at=holder.updated_at, user_id=holder.user_id, in_progress=True)
        # Held as sent with no success in the history: the last outcome was unknown.
        return recent or RecentSend(at=holder.updated_at, user_id=holder.user_id, uncertain=True)

    async def release(self, job: ResendJob, *, sent: bool) -> None:
        """Free (or, when sent, keep for the window) this job's duplicate claim."""
        if self._store is None:
            return
        key = (job.request.invoice_key, job.idempotency_key)
        if not await self._release(key, sent=sent, at=self._clock()):
            # Kept until the store answers again: a claim left "in progress" would warn
            # every agent that the invoice is being re-sent, for minutes.
            self._unreleased[key] = (sent, self._clock())
            log.error("history_release_deferred", invoice_key=key[0], attempt_id=key[1])

    async def retry_releases(self) -> int:
        """Release the claims a store outage kept; how many are still waiting."""
        for key, (sent, at) in list(self._unreleased.items()):
            if not await self._release(key, sent=sent, at=at):
                break
            del self._unreleased[key]
        return len(self._unreleased)

    async def _release(self, key: tuple[str, str], *, sent: bool, at: datetime) -> bool:
        assert self._store is not None
        invoice_key, attempt_id = key
        try:
            await asyncio.wait_for(
                self._store.release(invoice_key, attempt_id=attempt_id, sent=sent, now=at),
                self._store_timeout * 3,
            )
        except (TimeoutError, StoreUnavailableError) as exc:
            log.warning("history_release_failed", error=type(exc).__name__)
            return False
        return True


def _quota(successes: list[AttemptRecord], limit: int, now: datetime) -> QuotaUsage:
    """The provider's hourly quota for this invoice, as its successes in the history use it."""
    in_hour = [s for s in successes if now - s.created_at < QUOTA_WINDOW]
    frees_at = in_hour[0].created_at + QUOTA_WINDOW if in_hour else None
    return QuotaUsage(used=len(in_hour), limit=limit, frees_at=frees_at)
