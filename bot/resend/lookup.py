"""What providers know about an invoice before it is sent, asked for briefly and remembered.

A provider that declares the capability (`InvoiceProvider.can_look_up`) is asked
once the modal is open (`InvoiceLookups.facts`), and its answer completes the
outcome if it is there by the time the re-send has answered (`InvoiceLookups.beside`).
A lookup never holds anything up: it is bounded (about 2 s), a failure or an answer
in an unknown shape gives nothing, and nothing is sent by it. Answers are remembered
for a few minutes per invoice, so the modal, the duplicate confirmation and the
outcome agree without asking the provider each time; a lookup already on its way is
shared rather than asked twice; a failed one is not asked again for a while
(`bot.resend.lookup_health`).

Re-sends come first: lookups of one provider run in a few slots of their own
(``PROVIDER_LOOKUP_CONNECTIONS``, over a connection pool apart from the re-sends'),
and a lookup that finds no free slot within its bound is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

import structlog

from bot import deadlines
from bot.metrics import Metrics
from bot.resend.lookup_health import Fault, LookupHealth, SkipReason, capability_fault
from providers.base import InvoiceFacts, ResendRequest
from providers.errors import NotFoundError, ProviderError, RateLimitedError
from providers.registry import ConfiguredProviders

log = structlog.get_logger(__name__)

#: How long an answer is reused (a PDF link a provider gives may be valid only for the day).
LOOKUP_TTL_SECONDS: Final = 600.0
#: Lookups of one provider at once, unless told otherwise (``PROVIDER_LOOKUP_CONNECTIONS``).
LOOKUP_SLOTS: Final = 10
_MAX_REMEMBERED: Final = 2000


class InvoiceLookups:
    """Bounded, shared, briefly remembered lookups through the configured providers."""

    def __init__(
        self,
        providers: ConfiguredProviders,
        *,
        timeout: float = deadlines.LOOKUP,
        slot_wait: float = deadlines.LOOKUP_SLOT,
        slots: int = LOOKUP_SLOTS,
        ttl_seconds: float = LOOKUP_TTL_SECONDS,
        metrics: Metrics | None = None,
        health: LookupHealth | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._providers = providers
        self._timeout = timeout
        self._slot_wait = slot_wait
        self._slot_count = slots
        self._ttl = ttl_seconds
        self._clock = clock
        looking_up = [key for key, p in providers.registry.items() if p.can_look_up]
        self.health = health or LookupHealth(looking_up, metrics=metrics, clock=clock)
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._remembered: OrderedDict[str, tuple[float, InvoiceFacts]] = OrderedDict()
        self._asking: dict[str, asyncio.Task[InvoiceFacts | None]] = {}

    def offers(self, request: ResendRequest) -> bool:
        """Whether the request's provider can be asked about it."""
        return self._providers.can_look_up(request)

    def remembered(self, request: ResendRequest) -> InvoiceFacts | None:
        """A recent answer about this invoice, without asking anyone."""
        entry = self._remembered.get(request.invoice_key)
        if entry is None:
            return None
        at, facts = entry
        if self._clock() - at > self._ttl:
            del self._remembered[request.invoice_key]
            return None
        return facts

    async def facts(self, request: ResendRequest) -> InvoiceFacts | None:
        """What the provider knows about the invoice, or None (not offered, failed, slow).

        Never raises; waits at most the timeout. A lookup cut short keeps going in the
        background, so its answer is remembered for the next question.
        """
        known = self.remembered(request)
        if known is not None:
            return known
        task = self._lookup(request)
        if task is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._timeout)
        except TimeoutError:
            log.info("invoice_lookup_slow", provider=request.provider, wait_s=self._timeout)
            return None

    def beside(self, request: ResendRequest) -> asyncio.Future[InvoiceFacts | None] | None:
        """The lookup that may complete a re-send's outcome, without waiting for it: what is
        remembered, the lookup already on its way, or a new one; None when there is none
        to make (not offered, failed a few minutes ago, paused). The caller takes its
        answer only if it is there when the re-send has answered."""
        known = self.remembered(request)
        if known is not None:
            done: asyncio.Future[InvoiceFacts | None] = asyncio.get_running_loop().create_future()
            done.set_result(known)
            return done
        task = self._lookup(request)
        # Shielded: whoever drops the outer future leaves the lookup to finish and be kept.
        return None if task is None else asyncio.shield(task)

    def _lookup(self, request: ResendRequest) -> asyncio.Task[InvoiceFacts | None] | None:
        """The lookup of this invoice on its way (started if needed), or None if none is due."""
        if not self.offers(request):
            return None
        key = request.invoice_key
        task = self._asking.get(key)
        if task is not None:
            return task
        reason = self.health.skip_reason(request.provider, key)
        if reason is not None:
            self.health.skipped(request.provider, reason)
            return None
        task = asyncio.create_task(self._ask(request))
        self._asking[key] = task
        task.add_done_callback(lambda _: self._asking.pop(key, None))
        return task

    async def _ask(self, request: ResendRequest) -> InvoiceFacts | None:
        slots = self._slots.setdefault(request.provider, asyncio.Semaphore(self._slot_count))
        try:
            async with asyncio.timeout(self._slot_wait):
                await slots.acquire()
        except TimeoutError:
            # Every slot is taken by slower lookups: this one would come too late anyway.
            self.health.skipped(request.provider, SkipReason.BUSY)
            return None
        try:
            return await self._ask_provider(request)
        finally:
            slots.release()

    async def _ask_provider(self, request: ResendRequest) -> InvoiceFacts | None:
        started = time.perf_counter()
        provider, key = request.provider, request.invoice_key
        fields = {"provider": provider, "reference": request.reference}
        try:
            facts = await self._providers.lookup(request)
        except NotFoundError:
            facts = InvoiceFacts(provider=provider, reference=request.reference, exists=False)
        except RateLimitedError as exc:
            # A momentary throttle says nothing about the invoice: not remembered.
            log.info("invoice_lookup_throttled", **fields, status_code=exc.status_code)
            return None
        except ProviderError as exc:
            log.info(
                "invoice_lookup_failed",
                **fields,
                outcome=exc.outcome.value,
                status_code=exc.status_code,
                detail=exc.detail,
            )
            self.health.failed(provider, key, capability_fault(exc))
            return None
        except Exception as exc:
            # An answer nobody documented must never reach the agent as an error.
            log.warning("invoice_lookup_unreadable", **fields, error=type(exc).__name__)
            self.health.failed(provider, key, capability_fault(exc))
            return None
        log.debug(
            "invoice_lookup",
            **fields,
            exists=facts.exists if facts else None,
            latency_ms=round((time.perf_counter() - started) * 1000),
        )
        if facts is None:
            return None
        if facts.is_empty:
            # An answer with nothing the bot can read: its shape is not the one expected.
            self.health.failed(provider, key, Fault.UNKNOWN_SHAPE)
            return None
        self.health.answered(provider)
        self._remember(key, facts)
        return facts

    def _remember(self, key: str, facts: InvoiceFacts) -> None:
        self._remembered[key] = (self._clock(), facts)
        self._remembered.move_to_end(key)
        while len(self._remembered) > _MAX_REMEMBERED:
            self._remembered.popitem(last=False)

    async def aclose(self) -> None:
        """Stop the lookups still on their way (at shutdown)."""
        for task in list(self._asking.values()):
            task.cancel()
        for task in list(self._asking.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
