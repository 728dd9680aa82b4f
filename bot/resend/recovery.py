"""Re-sends a crash cannot lose: written down before the provider call, resolved once
the process running them is gone.

`AttemptJournal` is the running side: before each provider call it writes the
attempt down (who asked, the job as its Reintentar button carries it, the
idempotency key, where "re-sending…" is), owned by this process with a lease
that the health check renews every few seconds. The entry goes away in the
same transaction as the attempt's history row (`Auditor.attempt`).

`OrphanResolver` is the other side, run by every process: an entry whose lease
ran out belongs to a process that is gone (``kill -9``, a lost machine). Each
is taken by exactly one process (`HistoryStore.take_orphans`), which replaces
"re-sending…" with the unknown-outcome message and its Reintentar button,
writes the attempt as ``unknown`` in the history, and releases the invoice's
claim (kept as "possibly sent", like any unknown outcome).

A process resolves nothing until the store has worked for a whole lease
without a failure: after a store outage, every live process first gets the
chance to renew its own leases.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from uuid import uuid4

import structlog

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.records import ORPHAN_DETAIL, AttemptRecord, InFlightAttempt
from bot.history.store import HistoryStore
from bot.jobs import ResendJob
from bot.resend.audit import Auditor, message_location
from bot.slack.delivery import (
    ChannelMessageRef,
    Delivery,
    Destination,
    MessageRef,
    ResponseUrlRef,
)
from bot.ui.outcome import failure_message
from providers.errors import Outcome, OutcomeUnknownError
from providers.registry import ProviderRegistry

log = structlog.get_logger(__name__)

#: How long an entry stays its owner's without a renewal (renewed every ~2 s).
LEASE: Final = timedelta(seconds=10)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_owner_id() -> str:
    """This process, unique across hosts and restarts (a pid can be reused)."""
    return f"{socket.gethostname()[:60]}/{os.getpid()}/{uuid4().hex[:8]}"


class AttemptJournal:
    """Writes this process' re-sends down before their provider calls and keeps them its own."""

    def __init__(
        self,
        store: HistoryStore | None,
        *,
        owner: str | None = None,
        lease: timedelta = LEASE,
        timeout: float = deadlines.JOURNAL_WRITE,
        clock: Clock = _utc_now,
    ) -> None:
        self.store = store
        self.owner = owner or new_owner_id()
        self.lease = lease
        self._timeout = timeout
        self._clock = clock

    async def begin(
        self,
        attempt_id: str,
        job: ResendJob,
        destination: Destination,
        *,
        team_id: str | None,
        ref: MessageRef | None,
    ) -> None:
        """Write the attempt down (bounded; never raises: the re-send goes on regardless).

        Skipped while the store is known to be failing: it would only delay the send.
        """
        if self.store is None:
            return
        if self.store.problem is not None:
            log.warning("inflight_not_recorded", step="begin", reason="history store unavailable")
            return
        request = job.request
        channel, ts = message_location(ref)
        now = self._clock()
        attempt = InFlightAttempt(
            attempt_id=attempt_id,
            owner=self.owner,
            lease_until=now + self.lease,
            created_at=now,
            team_id=team_id,
            user_id=destination.user_id or job.requested_by,
            channel_id=destination.channel_id,
            provider=request.provider,
            invoice_key=request.invoice_key,
            reference=request.reference,
            alternative_email=request.alternative_email,
            idempotency_key=job.idempotency_key,
            job=job.to_button_value(),
            response_url=ref.response_url
            if isinstance(ref, ResponseUrlRef)
            else destination.response_url,
            message_channel=channel,
            message_ts=ts,
        )
        await self._bounded("begin", self.store.begin_attempt(attempt), attempt_id)

    async def locate(self, attempt_id: str, ref: MessageRef) -> None:
        """Note where "re-sending…" landed (it is posted beside the provider call)."""
        channel, ts = message_location(ref)
        if self.store is None or channel is None or ts is None:
            return
        located = self.store.locate_attempt(attempt_id, channel=channel, ts=ts)
        await self._bounded("locate", located, attempt_id)

    async def renew(self) -> int:
        """Renew this process' leases; the health check's write probe. Raises
        `StoreUnavailableError` when the store does not take it."""
        if self.store is None:
            return 0
        return await self.store.renew_leases(self.owner, until=self._clock() + self.lease)

    async def _bounded(self, step: str, write: Coroutine[Any, Any, None], attempt_id: str) -> None:
        try:
            await asyncio.wait_for(write, self._timeout)
        except (StoreUnavailableError, TimeoutError) as exc:
            log.error(
                "inflight_not_recorded",
                step=step,
                attempt_id=attempt_id,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )


class OrphanResolver:
    """Resolves re-sends whose process is gone: unknown outcome, Reintentar, claim released."""

    def __init__(
        self,
        *,
        journal: AttemptJournal,
        delivery: Delivery,
        auditor: Auditor,
        registry: ProviderRegistry,
        clock: Clock = _utc_now,
        on_resolved: Callable[[], None] | None = None,
    ) -> None:
        self._journal = journal
        self._delivery = delivery
        self._auditor = auditor
        self._registry = registry
        self._clock = clock
        self._on_resolved = on_resolved

    async def resolve(self) -> int:
        """Take and resolve the orphans there are now; how many. Never raises."""
        store = self._journal.store
        if store is None:
            return 0
        now = self._clock()
        try:
            orphans = await store.take_orphans(
                self._journal.owner, now=now, until=now + self._journal.lease
            )
        except StoreUnavailableError as exc:
            log.warning("orphans_not_checked", error=str(exc)[:300])
            return 0
        for orphan in orphans:
            try:
                await self._resolve(store, orphan)
            except Exception:
                log.exception("orphan_not_resolved", attempt_id=orphan.attempt_id)
        return len(orphans)

    async def _resolve(self, store: HistoryStore, orphan: InFlightAttempt) -> None:
        ref: MessageRef | None = None
        if orphan.message_channel and orphan.message_ts:
            ref = ChannelMessageRef(channel_id=orphan.message_channel, ts=orphan.message_ts)
        elif orphan.response_url:
            ref = ResponseUrlRef(response_url=orphan.response_url)
        job = self._job(orphan)
        if job is not None:
            unknown = OutcomeUnknownError(ORPHAN_DETAIL, provider=orphan.provider)
            message = failure_message(job, unknown, self._registry)
            destination = Destination(
                user_id=orphan.user_id,
                channel_id=orphan.channel_id,
                response_url=orphan.response_url,
                thread_ts=job.origin_thread_ts,
            )
            ref = await self._delivery.replace(ref, destination, message)
        try:
            await store.release(
                orphan.invoice_key, attempt_id=orphan.idempotency_key, sent=True, now=self._clock()
            )
        except StoreUnavailableError as exc:
            log.error("history_release_failed", error=str(exc)[:300])
        channel, ts = message_location(ref)
        record = AttemptRecord(
            attempt_id=orphan.attempt_id,
            created_at=orphan.created_at,
            team_id=orphan.team_id,
            user_id=orphan.user_id,
            channel_id=orphan.channel_id,
            provider=orphan.provider,
            invoice_key=orphan.invoice_key,
            reference=orphan.reference,
            alternative_email=orphan.alternative_email,
            outcome=Outcome.UNKNOWN.value,
            idempotency_key=orphan.idempotency_key,
            detail=ORPHAN_DETAIL,
            message_channel=channel,
            message_ts=ts,
        )
        await self._auditor.attempt(record, finishes_attempt=True)
        if self._on_resolved is not None:
            self._on_resolved()
        log.warning(
            "orphan_resolved",
            attempt_id=orphan.attempt_id,
            reference=orphan.reference,
            provider=orphan.provider,
            lost_by=orphan.owner,
            started_at=orphan.created_at.isoformat(),
            message_updated=ref is not None,
        )

    def _job(self, orphan: InFlightAttempt) -> ResendJob | None:
        try:
            return ResendJob.from_button_value(orphan.job, self._registry)
        except (ValueError, LookupError) as exc:
            log.error("orphan_job_unreadable", attempt_id=orphan.attempt_id, error=str(exc)[:200])
            return None
