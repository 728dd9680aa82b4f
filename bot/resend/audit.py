"""The audit trail: for every attempt, allowed or refused, one canonical log line,
one history row, and (optionally) a compact line in the audit channel.

History never blocks a re-send: when the store is down the re-send still
happens and its outcome is still posted; the failure to record is logged loudly
and the row waits in the local outbox (`bot.history.outbox`) until the store
takes it.
"""

from __future__ import annotations

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.history.failures import StoreUnavailableError
from bot.history.outbox import Outbox
from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore
from bot.metrics import Metrics
from bot.resend.inflight import InFlight
from bot.slack.delivery import ChannelMessageRef, Delivery, Destination
from bot.slack.permalinks import permalink
from bot.ui.outcome import audit_line
from providers.registry import ProviderRegistry

log = structlog.get_logger("reenviar.audit")


class Auditor:
    """Writes the trail of each attempt."""

    def __init__(
        self,
        *,
        store: HistoryStore | None,
        registry: ProviderRegistry,
        delivery: Delivery,
        client: AsyncWebClient,
        inflight: InFlight,
        audit_channel_id: str | None = None,
        metrics: Metrics | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self._inflight = inflight
        self._outbox = outbox
        self._metrics = metrics or Metrics()
        self._store = store
        self._registry = registry
        self._delivery = delivery
        self._client = client
        self._audit_channel_id = audit_channel_id

    def attempt_later(self, record: AttemptRecord) -> None:
        """`attempt` in the background (tracked for shutdown), for callers racing Slack's ack."""
        self._inflight.spawn(self.attempt(record))

    async def attempt(self, record: AttemptRecord, *, finishes_attempt: bool = False) -> bool:
        """Log, store and announce one attempt; whether the store took the row. Never raises.

        ``finishes_attempt``: the row ends a re-send written down before its provider call
        (`bot.resend.recovery`); its entry is removed, and its duplicate claim released,
        with the row (`HistoryStore.record_many`).
        """
        try:
            return await self._attempt(record, finishes_attempt=finishes_attempt)
        except Exception:
            log.exception("audit_failed", attempt_id=record.attempt_id)
            return False

    async def _attempt(self, record: AttemptRecord, *, finishes_attempt: bool) -> bool:
        fields = {k: v for k, v in record.as_row().items() if v is not None}
        fields.pop("created_at", None)
        if record.outcome == "success":
            log.info("resend_attempt", **fields)
        else:
            log.warning("resend_attempt", **fields)
        self._count(record)
        stored = False
        if self._store is not None:
            try:
                await self._store.record(record, finishes_attempt=finishes_attempt)
                stored = True
            except StoreUnavailableError as exc:
                self._metrics.store_write_failures.inc()
                log.error(
                    "history_write_failed",
                    attempt_id=record.attempt_id,
                    error=str(exc)[:500],
                    queued=self._outbox is not None,
                )
                if self._outbox is not None:
                    await self._outbox.add(record, finishes_attempt=finishes_attempt)
        if self._audit_channel_id:
            await self._announce(record)
        return stored

    def _count(self, record: AttemptRecord) -> None:
        provider = record.provider or "none"
        self._metrics.resends.labels(provider=provider, outcome=record.outcome).inc()
        if record.latency_ms is not None:  # the provider was called
            self._metrics.provider_latency.labels(provider=provider).observe(
                record.latency_ms / 1000
            )

    async def _announce(self, record: AttemptRecord) -> None:
        link = await self._permalink(record)
        message = audit_line(record, link=link, registry=self._registry)
        # The same delivery code as outcomes: retries, fallbacks and logging alike.
        await self._delivery.post(Destination(channel_id=self._audit_channel_id), message)

    async def _permalink(self, record: AttemptRecord) -> str | None:
        if not (record.message_channel and record.message_ts):
            return None
        return await permalink(self._client, record.message_channel, record.message_ts)


def message_location(ref: object) -> tuple[str | None, str | None]:
    """Channel and ts of a posted message, when it has them."""
    if isinstance(ref, ChannelMessageRef):
        return ref.channel_id, ref.ts
    return None, None
