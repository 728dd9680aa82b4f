"""The one way in for every Slack surface that re-sends an invoice.

A surface (the modal, the Reintentar button, and any that follow) turns its
payload into a typed request and an `Origin`, and asks `ResendCore.submit` (or
`retry`): the answer is `Refuse`, `ConfirmDuplicate` or `Accepted`. The surface
answers Slack in its own way, and for `Accepted` acks first, then awaits
``run()``. Access rules, the quota, the duplicate guard, history and delivery are
the same for all, because they all live behind this call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.history.insight import QuotaUsage
from bot.jobs import ResendJob
from bot.resend.admission import (
    WHOLE_REQUEST,
    ConfirmDuplicate,
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


class ResendCore:
    """Decides on a re-send the same way for every surface, and runs it once accepted."""

    def __init__(
        self,
        *,
        providers: ConfiguredProviders,
        gatekeeper: Gatekeeper,
        pipeline: ResendPipeline,
    ) -> None:
        self._providers = providers
        self._gatekeeper = gatekeeper
        self._pipeline = pipeline

    async def submit(
        self, request: ResendRequest, origin: Origin, *, confirmed: bool = False
    ) -> Decision:
        """A new re-send. ``confirmed``: the agent explicitly asked to send it again
        after a duplicate warning about this same invoice."""
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
        )
        return await self._decide(job, origin, confirmed=confirmed, existing=None)

    async def retry(
        self, job: ResendJob, origin: Origin, *, existing: MessageRef | None
    ) -> Decision:
        """Another attempt of ``job`` (same request, same idempotency key), shown in
        ``existing``. The retry button's own confirmation counts as "send it again":
        a duplicate is allowed, but not two runs of this retry at once."""
        job = job.model_copy(update={"retried_by": origin.user_id})
        return await self._decide(job, origin, confirmed=True, existing=existing)

    async def _decide(
        self,
        job: ResendJob,
        origin: Origin,
        *,
        confirmed: bool,
        existing: MessageRef | None,
    ) -> Decision:
        decision = await self._gatekeeper.review(job, origin.requester(), confirmed=confirmed)
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
