"""One re-send from the agent's submit to the outcome in the channel.

Post "re-sending", call the provider, replace the message with the outcome.
What a lookup knows about the invoice (the addresses on file, the customer, the
PDF) completes the outcome if it is known by the time the provider has answered:
remembered from the modal, or asked beside the provider call. The outcome never
waits for a lookup, and a lookup that failed is not asked again.
Everything after Slack's ack happens here, so this is also where a surprise is
caught, given an error id, logged, and still shown to the agent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

import structlog

from bot import deadlines
from bot.history.insight import QuotaUsage
from bot.history.invoices import invoice_columns
from bot.history.records import AttemptRecord
from bot.jobs import ResendJob
from bot.logs import new_error_id
from bot.resend.admission import Gatekeeper
from bot.resend.audit import Auditor, message_location
from bot.resend.inflight import InFlight
from bot.resend.lookup import InvoiceLookups
from bot.resend.recovery import AttemptJournal
from bot.slack.delivery import Delivery, Destination, MessageRef
from bot.ui.blocks import SlackMessage
from bot.ui.outcome import (
    failure_message,
    internal_error_message,
    progress_message,
    sent_to,
    success_message,
)
from providers.base import InvoiceFacts, ResendResult
from providers.errors import Outcome, OutcomeUnknownError, ProviderError
from providers.registry import ConfiguredProviders

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RunReport:
    """How a run ended, for a surface that reports it beyond the message (a workflow
    step's outputs): the provider's result or error; neither after a failure of the bot."""

    ref: MessageRef | None
    outcome: Outcome
    result: ResendResult | None = None
    error: ProviderError | None = None


@dataclass
class _Run:
    """One run of a job: what it is about, and what it has done so far."""

    job: ResendJob
    destination: Destination
    team_id: str | None
    ref: MessageRef | None
    started: float = field(default_factory=time.perf_counter)
    quota_before: QuotaUsage | None = None
    #: Posting "re-sending…": it runs beside the provider call, never before it.
    placeholder: asyncio.Task[MessageRef | None] | None = None
    #: The lookup that completes the outcome, asked beside the provider call (never waited
    #: for: only its answer, if there by then, is used).
    facts: asyncio.Future[InvoiceFacts | None] | None = None
    outcome: Outcome | None = None
    #: The outcome message, as soon as the provider answered (before any refinement).
    message: SlackMessage | None = None
    recorded: bool = False
    #: Whether the history row released the duplicate claim with it (the store took it).
    claim_released: bool = False
    #: The history row's id, and the key of the entry written before the provider call.
    attempt_id: str = field(default_factory=lambda: str(uuid4()))
    result: ResendResult | None = None
    error: ProviderError | None = None

    def report(self) -> RunReport:
        """How it ended (unknown unless the provider answered)."""
        outcome = self.outcome or Outcome.UNKNOWN
        return RunReport(ref=self.ref, outcome=outcome, result=self.result, error=self.error)


class ResendPipeline:
    """Runs re-send jobs: progress message, provider call, outcome message, audit."""

    def __init__(
        self,
        *,
        providers: ConfiguredProviders,
        delivery: Delivery,
        inflight: InFlight,
        gatekeeper: Gatekeeper,
        auditor: Auditor,
        lookups: InvoiceLookups | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        placeholder_wait: float = 2.0,
        journal: AttemptJournal | None = None,
    ) -> None:
        self._providers = providers
        self._registry = providers.registry
        self._delivery = delivery
        self._lookups = lookups
        self._inflight = inflight
        self._gatekeeper = gatekeeper
        self._auditor = auditor
        self._clock = clock
        self._placeholder_wait = placeholder_wait
        self._journal = journal

    async def run(
        self,
        job: ResendJob,
        destination: Destination,
        *,
        team_id: str | None = None,
        existing: MessageRef | None = None,
        claimed: bool = False,
        quota_before: QuotaUsage | None = None,
        report: Callable[[RunReport], None] | None = None,
    ) -> MessageRef | None:
        """Re-send and show the outcome; ``existing`` is a message to update (a retry);
        ``report`` is told how it ended.

        Never raises (but for cancellation): whatever happens, the agent sees a message.
        """
        async with self._inflight.track():
            with structlog.contextvars.bound_contextvars(
                slack_team=team_id,
                slack_user=destination.user_id,
                slack_channel=destination.channel_id,
                attempt=job.attempt,
            ):
                run = _Run(
                    job=job,
                    destination=destination,
                    team_id=team_id,
                    ref=existing,
                    quota_before=quota_before,
                )
                try:
                    await self._run(run)
                except asyncio.CancelledError:
                    for side_task in (run.placeholder, run.facts):
                        if side_task is not None:
                            side_task.cancel()
                    # Shutdown cut it short. If the provider had answered, show that answer;
                    # otherwise the e-mail may have gone out: say so, then stop.
                    interrupted = OutcomeUnknownError(
                        "interrupted by shutdown", provider=job.request.provider
                    )
                    message = run.message or failure_message(job, interrupted, self._registry)
                    await self._finish_quietly(run, message, detail=interrupted.detail)
                    raise
                except Exception:
                    error_id = new_error_id()
                    log.exception("internal_error", error_id=error_id)
                    shown = await self._finish_quietly(
                        run,
                        internal_error_message(error_id, job, self._registry),
                        detail=f"internal error {error_id}",
                    )
                    if not shown:
                        # Delivery itself is broken: let Bolt's error handler reach the agent.
                        raise
                finally:
                    if claimed and not run.claim_released:
                        sent = run.outcome in {Outcome.SUCCESS, Outcome.UNKNOWN}
                        await self._gatekeeper.release(job, sent=sent)
                if report is not None:
                    report(run.report())
                return run.ref

    async def _run(self, run: _Run) -> None:
        job, destination = run.job, run.destination
        progress = progress_message(job, self._registry)
        # A slow or rate-limited Slack must not hold the re-send back: the placeholder
        # is posted while the provider works, and the outcome waits for it only briefly.
        run.placeholder = asyncio.create_task(self._post_progress(run.ref, destination, progress))
        await self._write_down(run)
        # What a lookup knows completes the outcome if it is there when the provider has
        # answered (usually the modal's answer is remembered); it holds nothing the
        # re-send needs: lookups have slots and connections of their own.
        run.facts = self._lookups.beside(job.request) if self._lookups is not None else None
        run.started = time.perf_counter()
        try:
            result = await self._providers.resend(job.request, idempotency_key=job.idempotency_key)
        except ProviderError as exc:
            run.outcome, run.error = exc.outcome, exc
            latency = _elapsed_ms(run.started)
            # What a finished lookup knows names the invoice as the customer sees it (its
            # serie-folio) and, for a refusal, may offer the way around (the PDF to attach).
            run.message = failure_message(job, exc, self._registry, facts=_finished_facts(run))
            await self._show(run, run.message)
            await self._record(
                run, latency_ms=latency, request_id=exc.request_id, detail=exc.detail
            )
            return
        run.outcome, run.result = Outcome.SUCCESS, result
        latency = _elapsed_ms(run.started)
        now = self._clock()
        run.message = success_message(job, result, registry=self._registry, now=now)
        # The quota as the guard read it just before this send: no second store read.
        quota = run.quota_before
        facts = _finished_facts(run)
        run.message = success_message(
            job,
            result,
            registry=self._registry,
            now=now,
            facts=facts,
            quota=QuotaUsage(used=quota.used + 1, limit=quota.limit, frees_at=quota.frees_at)
            if quota
            else None,
        )
        await self._show(run, run.message)
        await self._record(
            run,
            latency_ms=latency,
            request_id=result.request_id,
            recipients=sent_to(job.request, result, facts),
        )

    async def _write_down(self, run: _Run) -> None:
        """Before the provider call, what a crash must not lose (`bot.resend.recovery`);
        where "re-sending…" lands is added when it lands, if the provider is still working."""
        if self._journal is None:
            return
        await self._journal.begin(
            run.attempt_id, run.job, run.destination, team_id=run.team_id, ref=run.ref
        )
        if run.placeholder is not None:
            run.placeholder.add_done_callback(lambda task: self._locate(run, task))

    def _locate(self, run: _Run, placeholder: asyncio.Task[MessageRef | None]) -> None:
        if run.outcome is not None or placeholder.cancelled() or placeholder.exception():
            return
        ref = placeholder.result()
        if self._journal is not None and ref is not None and ref != run.ref:
            self._inflight.spawn(self._journal.locate(run.attempt_id, ref))

    async def _post_progress(
        self, ref: MessageRef | None, destination: Destination, progress: SlackMessage
    ) -> MessageRef | None:
        if ref is None:
            return await self._delivery.post(destination, progress)
        return await self._delivery.replace(ref, destination, progress)

    async def _settle_placeholder(self, run: _Run) -> None:
        """Wait a little for the placeholder; if it is still on its way, the outcome goes
        without it, and the placeholder is put right when (if) it lands."""
        placeholder, run.placeholder = run.placeholder, None
        if placeholder is None:
            return
        done, _ = await asyncio.wait({placeholder}, timeout=self._placeholder_wait)
        if placeholder not in done:
            log.warning("slack_placeholder_slow", wait_s=self._placeholder_wait)
            self._inflight.spawn(self._correct_late_placeholder(run, placeholder))
            return
        ref = _result_or_none(placeholder)
        if ref is not None:
            run.ref = ref

    async def _correct_late_placeholder(
        self, run: _Run, placeholder: asyncio.Task[MessageRef | None]
    ) -> None:
        """A placeholder that landed after the outcome: if it replaced the outcome's own
        message (a retry), show the outcome again; otherwise remove it."""
        try:
            ref = await asyncio.wait_for(placeholder, 60)
        except Exception:
            ref = None
        if ref is None or run.message is None:
            return
        if ref == run.ref:
            await self._delivery.replace(ref, run.destination, run.message)
        else:
            await self._delivery.retire(ref)

    async def _show(self, run: _Run, message: SlackMessage) -> None:
        await self._settle_placeholder(run)
        previous = run.ref
        # The agent waits for this one: a hung or long-throttled channel gives way to the
        # next route within seconds. ("Re-sending…" gets Slack's whole call time: a post
        # given up on could still land, and nothing would remove it.)
        run.ref = await self._delivery.replace(
            previous, run.destination, message, within=deadlines.SLACK_DELIVERY
        )
        if previous is not None and run.ref != previous:
            # The outcome could not replace "re-sending…" and went elsewhere (response_url,
            # a new message, a DM): remove the stale placeholder, retrying for a while.
            self._inflight.spawn(self._delivery.retire(previous))

    async def _finish_quietly(self, run: _Run, message: SlackMessage, *, detail: str) -> bool:
        """Best effort, bounded: show ``message`` and record an unknown outcome if not yet done.

        Returns whether the message was shown.
        """
        run.outcome = run.outcome or Outcome.UNKNOWN
        try:
            async with asyncio.timeout(5):
                await self._show(run, message)
                if not run.recorded:
                    await self._record(run, latency_ms=_elapsed_ms(run.started), detail=detail)
        except Exception:
            log.exception("outcome_not_delivered", reference=run.job.request.reference)
            return False
        return run.ref is not None

    async def _record(
        self,
        run: _Run,
        *,
        latency_ms: int,
        request_id: str | None = None,
        recipients: tuple[str, ...] = (),
        detail: str | None = None,
    ) -> None:
        run.recorded = True
        record = _attempt_record(
            run,
            at=self._clock(),
            latency_ms=latency_ms,
            request_id=request_id,
            recipients=recipients,
            detail=detail,
        )
        run.claim_released = await self._auditor.attempt(record, finishes_attempt=True)


def _attempt_record(
    run: _Run,
    *,
    at: datetime,
    latency_ms: int,
    request_id: str | None,
    recipients: tuple[str, ...],
    detail: str | None,
) -> AttemptRecord:
    """The history row of how ``run`` ended, with what its lookup said if it had answered."""
    channel, ts = message_location(run.ref)
    request = run.job.request
    return AttemptRecord(
        attempt_id=run.attempt_id,
        created_at=at,
        team_id=run.team_id,
        user_id=run.destination.user_id or run.job.requested_by,
        channel_id=run.destination.channel_id,
        provider=request.provider,
        invoice_key=request.invoice_key,
        reference=request.reference,
        alternative_email=request.alternative_email,
        outcome=(run.outcome or Outcome.UNKNOWN).value,
        recipients=recipients,
        request_id=request_id,
        idempotency_key=run.job.idempotency_key,
        latency_ms=latency_ms,
        detail=detail,
        message_channel=channel,
        message_ts=ts,
        **invoice_columns(_finished_facts(run)),
    )


def _finished_facts(run: _Run) -> InvoiceFacts | None:
    """What the run's lookup said, if it has already answered; never waits for it."""
    lookup = run.facts
    if lookup is None or not lookup.done() or lookup.cancelled() or lookup.exception():
        return None
    return lookup.result()


def _result_or_none(task: asyncio.Task[MessageRef | None]) -> MessageRef | None:
    """The placeholder's location; None when posting it failed (already logged)."""
    if task.cancelled():
        return None
    if task.exception() is not None:
        log.warning("slack_placeholder_failed", error=repr(task.exception())[:200])
        return None
    return task.result()


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
