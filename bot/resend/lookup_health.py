"""Whether a provider's lookups are worth asking: failures remembered, capabilities paused.

Two memories, both short:

- per invoice, a lookup that failed (not found aside, which is an answer) is not asked
  again for `FAILED_TTL_SECONDS`, neither for the outcome of the re-send it came with
  nor for a new preview of the same invoice;
- per provider, lookups that answer in a shape the bot cannot read, or from a route
  that is not there (a 404 or 405 about the endpoint), `PAUSE_AFTER` times in a row,
  pause the provider's lookups for `PAUSE_SECONDS`. An answer the bot can read ends
  the streak. The pause is logged once and shown in ``/metrics``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Final

import structlog

from bot.metrics import Metrics
from providers.errors import AuthenticationError, OutcomeUnknownError, ProviderError

log = structlog.get_logger(__name__)

#: How long a failed lookup is not asked again for that invoice. One agent's whole
#: errand (the preview, the submit, a duplicate confirmation, a Reintentar) takes a few
#: minutes, and none of it should ask twice; past it a provider that came back, or a
#: voucher issued since, is asked again.
FAILED_TTL_SECONDS: Final = 300.0
#: Unreadable answers in a row (per provider) that pause its lookups.
PAUSE_AFTER: Final = 3
#: How long paused lookups stay paused. A missing route or an answer in another shape is
#: a matter of the account or of the API's version, not a blip: one probe every ten
#: minutes is enough to notice the fix, and keeps the log and the provider quiet.
PAUSE_SECONDS: Final = 600.0
_MAX_REMEMBERED: Final = 2000


class SkipReason(StrEnum):
    """Why a lookup was not made (the ``reason`` label of ``reenviar_lookups_skipped``)."""

    PAUSED = "paused"
    FAILED_RECENTLY = "failed_recently"
    BUSY = "busy"


class Fault(StrEnum):
    """Failures that say the capability itself does not work as the bot expects."""

    UNKNOWN_SHAPE = "unknown_shape"
    WRONG_ENDPOINT = "wrong_endpoint"


def capability_fault(exc: BaseException) -> Fault | None:
    """Whether a lookup's failure is about the capability rather than this invoice."""
    if isinstance(exc, AuthenticationError) and exc.status_code is not None:
        # The clients map a 404 or 405 about the route, and a redirect, to a refusal.
        if exc.status_code in (404, 405) or 300 <= exc.status_code < 400:
            return Fault.WRONG_ENDPOINT
        return None
    if isinstance(exc, OutcomeUnknownError) and exc.status_code == 200:
        return Fault.UNKNOWN_SHAPE  # a 200 whose body could not be read
    if not isinstance(exc, ProviderError):
        return Fault.UNKNOWN_SHAPE  # the client could not make sense of the answer
    return None


class LookupHealth:
    """Failed lookups by invoice, and paused lookups by provider."""

    def __init__(
        self,
        providers: Iterable[str],
        *,
        metrics: Metrics | None = None,
        failed_ttl_seconds: float = FAILED_TTL_SECONDS,
        pause_after: int = PAUSE_AFTER,
        pause_seconds: float = PAUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._failed_ttl = failed_ttl_seconds
        self._pause_after = pause_after
        self._pause_seconds = pause_seconds
        self._clock = clock
        self._failed: OrderedDict[str, float] = OrderedDict()
        self._streaks: dict[str, int] = {}
        self._paused_until: dict[str, float] = {}
        if metrics is not None:
            for key in providers:
                metrics.lookups_paused.labels(provider=key).set_function(self._paused_gauge(key))

    def paused(self, provider: str) -> bool:
        """Whether the provider's lookups are paused now."""
        return self._clock() < self._paused_until.get(provider, 0.0)

    def _paused_gauge(self, provider: str) -> Callable[[], float]:
        return lambda: float(self.paused(provider))

    def failed_recently(self, invoice_key: str) -> bool:
        """Whether a lookup of this invoice failed within the last few minutes."""
        at = self._failed.get(invoice_key)
        if at is None:
            return False
        if self._clock() - at > self._failed_ttl:
            del self._failed[invoice_key]
            return False
        return True

    def skip_reason(self, provider: str, invoice_key: str) -> SkipReason | None:
        """Why a lookup of this invoice should not be made now, or None to make it."""
        if self.paused(provider):
            return SkipReason.PAUSED
        if self.failed_recently(invoice_key):
            return SkipReason.FAILED_RECENTLY
        return None

    def skipped(self, provider: str, reason: SkipReason) -> None:
        """Count a lookup not made."""
        if self._metrics is not None:
            self._metrics.lookups_skipped.labels(provider=provider, reason=reason.value).inc()

    def answered(self, provider: str) -> None:
        """The provider answered in a way the bot reads (facts, or a clear "not found")."""
        self._streaks[provider] = 0
        if self._paused_until.pop(provider, None) is not None:
            log.info("invoice_lookups_resumed", provider=provider)

    def failed(self, provider: str, invoice_key: str, fault: Fault | None) -> None:
        """A lookup of this invoice failed: remember it, and count a capability's fault."""
        self._failed[invoice_key] = self._clock()
        self._failed.move_to_end(invoice_key)
        while len(self._failed) > _MAX_REMEMBERED:
            self._failed.popitem(last=False)
        if fault is None:
            return
        streak = self._streaks.get(provider, 0) + 1
        self._streaks[provider] = streak
        if streak >= self._pause_after and not self.paused(provider):
            self._paused_until[provider] = self._clock() + self._pause_seconds
            log.warning(
                "invoice_lookups_paused",
                provider=provider,
                failures=streak,
                reason=fault.value,
                paused_s=round(self._pause_seconds),
                hint=f"check {provider.upper()}_BASE_URL and the provider's lookup answer",
            )
