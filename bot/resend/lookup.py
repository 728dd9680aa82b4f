"""What providers know about an invoice before it is sent, asked for briefly and remembered.

A provider that declares the capability (`InvoiceProvider.can_look_up`) is asked
once the modal is open, and again (or from memory) after a re-send, to name the
real recipients. A lookup never holds anything up: it is bounded (about 2 s), a
failure or an answer in an unknown shape gives nothing, and nothing is sent by it.
Answers are remembered for a few minutes per invoice, so the modal, the duplicate
confirmation and the outcome agree without asking the provider each time; a
lookup already on its way is shared rather than asked twice.
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
from providers.base import InvoiceFacts, ResendRequest
from providers.errors import NotFoundError, ProviderError
from providers.registry import ConfiguredProviders

log = structlog.get_logger(__name__)

#: How long an answer is reused (a PDF link a provider gives may be valid only for the day).
LOOKUP_TTL_SECONDS: Final = 600.0
_MAX_REMEMBERED: Final = 2000


class InvoiceLookups:
    """Bounded, shared, briefly remembered lookups through the configured providers."""

    def __init__(
        self,
        providers: ConfiguredProviders,
        *,
        timeout: float = deadlines.LOOKUP,
        ttl_seconds: float = LOOKUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._providers = providers
        self._timeout = timeout
        self._ttl = ttl_seconds
        self._clock = clock
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
        if known is not None or not self.offers(request):
            return known
        key = request.invoice_key
        task = self._asking.get(key)
        if task is None:
            task = asyncio.create_task(self._ask(request))
            self._asking[key] = task
            task.add_done_callback(lambda _: self._asking.pop(key, None))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._timeout)
        except TimeoutError:
            log.info("invoice_lookup_slow", provider=request.provider, wait_s=self._timeout)
            return None

    async def _ask(self, request: ResendRequest) -> InvoiceFacts | None:
        started = time.perf_counter()
        fields = {"provider": request.provider, "reference": request.reference}
        try:
            facts = await self._providers.lookup(request)
        except NotFoundError:
            facts = InvoiceFacts(
                provider=request.provider, reference=request.reference, exists=False
            )
        except ProviderError as exc:
            log.info(
                "invoice_lookup_failed",
                **fields,
                outcome=exc.outcome.value,
                status_code=exc.status_code,
                detail=exc.detail,
            )
            return None
        except Exception as exc:
            # An answer nobody documented must never reach the agent as an error.
            log.warning("invoice_lookup_unreadable", **fields, error=type(exc).__name__)
            return None
        log.debug(
            "invoice_lookup",
            **fields,
            exists=facts.exists if facts else None,
            latency_ms=round((time.perf_counter() - started) * 1000),
        )
        if facts is not None:
            self._remember(request.invoice_key, facts)
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
