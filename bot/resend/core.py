"""The one way in for every Slack surface that re-sends an invoice.

A surface (the modal, the Reintentar button, and any that follow) turns its
payload into a typed request and an `Origin`, and asks `ResendCore.submit` (or
`retry`): the answer is `Refuse`, `ConfirmDuplicate` or `Accepted` (and, for a retry
of an invoice re-sent since, `ConfirmRetry`). The surface
answers Slack in its own way, and for `Accepted` acks first, then awaits
``run()``. Access rules, the quota, the duplicate guard, history and delivery are
the same for all, because they all live behind this call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.history.insight import QuotaUsage
from bot.jobs import ResendJob
from bot.resend.admission import (
    WHOLE_REQUEST,
    ConfirmDuplicate,
    ConfirmRetry,
    Gatekeeper,
    Proceed,
    Refuse,
    Requester,
)
from bot.resend.pipeline import ResendPipeline, RunReport
from bot.slack.delivery import Destination, MessageRef
from bot.ui.wording import error_message
from providers.base import ResendRequest
from providers.registry import ConfiguredProviders


@dataclass(frozen=True)
class Origin:
    """Who asks for a re-send and where its outcome goes."""

    user_id: str
    team_id: str | None = None
    #: The channel the request came from; access is checked against it.
    channel_id: str | None = None
    #: The surface's response_url: the fallback when the bot cannot post in the channel.
    response_url: str | None = None
    #: The thread the outcome belongs in (a message shortcut's message), if any.
    thread_ts: str | None = None

    def requester(self) -> Requester:
        """Who asks, for the access checks."""
        return Requester(user_id=self.user_id, channel_id=self.channel_id, team_id=self.team_id)

    def destination(self) -> Destination:
        """Where messages go: the channel, then the response_url, then the agent's DM."""
        return Destination(
            user_id=self.user_id,
            channel_id=self.channel_id,
            response_url=self.response_url,
            thread_ts=self.thread_ts,
        )


@dataclass(frozen=True)
class Accepted:
    """Go ahead: ack Slack, then await `run`, which shows progress and the outcome."""

    job: ResendJob
    origin: Origin
    claimed: bool
    existing: MessageRef | None
    quota_before: QuotaUsage | None
    _pipeline: ResendPipeline = field(repr=False)

    async def run(self) -> MessageRef | None:
        """Re-send and show the outcome; never raises but for cancellation."""
        return (await self.run_to_end()).ref

    async def run_to_end(self) -> RunReport:
        """`run`, answering how it ended too (a workflow step reports it as its outputs)."""
        reports: list[RunReport] = []
        await self._pipeline.run(
            self.job,
            self.origin.destination(),
            team_id=self.origin.team_id,
            existing=self.existing,
            claimed=self.claimed,
            quota_before=self.quota_before,
            report=reports.append,
        )
        return reports[-1]


Decision = Refuse | ConfirmDuplicate | Accepted
#: A retry may also have to be confirmed over a newer send.
RetryDecision = Decision | ConfirmRetry


class ResendCore:
    """Decides on a re-send the same way for every surface, and runs it once accepted."""

    def __init__(
        self,
        *,
        providers: ConfiguredProviders,
        gatekeeper: Gatekeeper,
        pipeline: ResendPipeline,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._clock = clock
        self._providers = providers
        self._gatekeeper = gatekeeper
        self._pipeline = pipeline

    async def submit(
        self,
        request: ResendRequest,
        origin: Origin,
        *,
        confirmed: bool = False,
        asked_address: str | None = None,
    ) -> Decision:
        """A new re-send. ``confirmed``: the agent explicitly asked to send it again
        after a duplicate warning about this same invoice. ``asked_address``: the agent
        asked for an address the provider cannot send to (the outcome says so)."""
        missing = self._providers.missing_configuration(request)
        if missing is not None:
            label = self._providers.registry.of(request).label
            return Refuse(
                field=missing.field or WHOLE_REQUEST,
                message=error_message(missing, label),
                code="not_configured",
            )
        job = ResendJob(
            request=request,
            requested_by=origin.user_id,
            origin_channel_id=origin.channel_id,
            origin_thread_ts=origin.thread_ts,
            made_at=self._clock(),
            asked_address=asked_address,
        )
        decision = await self._gatekeeper.review(job, origin.requester(), confirmed=confirmed)
        return self._accepted(decision, job, origin, existing=None)

    async def retry(
        self,
        job: ResendJob,
        origin: Origin,
        *,
        existing: MessageRef | None,
        seen: str | None = None,
    ) -> RetryDecision:
        """Another attempt of ``job`` (same request, same idempotency key), shown in
        ``existing``: a new decision, not a replay. If the invoice was re-sent after the
        attempt it repeats, the clicker must confirm (`ConfirmRetry`); ``seen`` is the
        newer send they confirmed, which holds while no even newer one appears. The retry
        button's own dialog counts as "send it again": a duplicate inside the window is
        allowed, but not two runs of this retry at once."""
        job = job.model_copy(update={"retried_by": origin.user_id})
        decision = await self._gatekeeper.review_retry(job, origin.requester(), seen=seen)
        if isinstance(decision, ConfirmRetry):
            return decision
        return self._accepted(decision, job, origin, existing=existing)

    def _accepted(
        self,
        decision: Proceed | Refuse | ConfirmDuplicate,
        job: ResendJob,
        origin: Origin,
        *,
        existing: MessageRef | None,
    ) -> Decision:
        if isinstance(decision, Proceed):
            return Accepted(
                job=job,
                origin=origin,
                claimed=decision.claimed,
                quota_before=decision.quota,
                existing=existing,
                _pipeline=self._pipeline,
            )
        return decision
