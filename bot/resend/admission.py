"""Deciding whether a submitted re-send goes ahead.

In order: the agent's access (checked again at submit: a modal can stay open
while permissions change), the alternative-e-mail permission, the provider's
hourly quota (where it has one) as the history knows it, and the duplicate
guard (`bot.resend.duplicates`).

When the store is down or slow the re-send is not blocked: the guard steps
aside, says so loudly in the logs, and the bot behaves as without history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from uuid import uuid4

import structlog

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.insight import Insight, QuotaUsage, RecentSend
from bot.history.records import AttemptRecord
from bot.jobs import ResendJob
from bot.metrics import Metrics
from bot.resend.access import AccessPolicy, Refusal
from bot.resend.audit import Auditor
from bot.resend.duplicates import DuplicateGuard
from bot.ui import strings
from bot.ui.wording import quota_refusal
from providers.base import ResendRequest
from providers.registry import ProviderRegistry

log = structlog.get_logger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class Proceed:
    """Go ahead; ``claimed`` says whether a duplicate claim must be released afterwards;
    ``quota`` is the provider's hourly quota as the history knew it before this send."""

    claimed: bool
    quota: QuotaUsage | None = None


@dataclass(frozen=True)
class Refuse:
    """Stop. ``field`` is the form field at fault (``email``, ``invoice_id``) or `WHOLE_REQUEST`."""

    field: str
    message: str
    code: str


@dataclass(frozen=True)
class ConfirmDuplicate:
    """Someone re-sent it recently: the agent must confirm explicitly."""

    insight: Insight


@dataclass(frozen=True)
class ConfirmRetry:
    """The invoice was re-sent after the attempt a retry repeats (``newer``; None when the
    history could not tell in time): the clicker must confirm, naming `mark`."""

    newer: RecentSend | None

    @property
    def mark(self) -> str:
        """Which newer send the agent is shown; a confirmation holds for that one only."""
        if self.newer is None or self.newer.attempt_id is None:
            return UNVERIFIED
        return self.newer.attempt_id


Decision = Proceed | Refuse | ConfirmDuplicate


@dataclass(frozen=True)
class _Retry:
    """Reviewing a retry: the newer send the clicker confirmed, if any."""

    seen: str | None


@dataclass(frozen=True)
class Requester:
    """Who submitted, from where."""

    user_id: str
    channel_id: str | None = None
    team_id: str | None = None


class Gatekeeper:
    """Access checks, the providers' hourly quotas and the duplicate guard."""

    def __init__(
        self,
        *,
        registry: ProviderRegistry,
        access: AccessPolicy,
        duplicates: DuplicateGuard,
        auditor: Auditor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timezone_of: Callable[[str], Coroutine[Any, Any, str | None]] | None = None,
        store_timeout: float = deadlines.STORE_PRE_ACK,
        access_timeout: float = deadlines.ACCESS_CHECK,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._registry = registry
        self._access = access
        self._duplicates = duplicates
        self._auditor = auditor
        self._clock = clock
        self._timezone_of = timezone_of
        self._store_timeout = store_timeout
        self._access_timeout = access_timeout
        #: Pre-ack steps given up on, still finishing (kept so they are not collected).
        self._abandoned: set[asyncio.Future[Any]] = set()

    async def check_access(self, request_by: Requester) -> Refusal | None:
        """The command-time check; a slow group lookup lets the modal open (submit re-checks)."""
        try:
            return await self._within(
                self._access.check(request_by.user_id, request_by.channel_id), self._access_timeout
            )
        except TimeoutError:
            log.warning("access_check_slow", user=request_by.user_id)
            return None

    def refuse_command(self, request_by: Requester, refusal: Refusal, text: str) -> None:
        """Audit (in the background) a refusal at command time; no invoice may be known yet."""
        self._auditor.attempt_later(
            _refusal_record(request_by, None, refusal.code, self._clock(), reference=text[:200])
        )

    async def review(self, job: ResendJob, request_by: Requester, *, confirmed: bool) -> Decision:
        """Whether this submitted job may go ahead now; answers within `deadlines.PRE_ACK_BUDGET`.

        Runs before Slack's ack, so every step is bounded: a permission that cannot
        be checked in time refuses (the agent can submit again); a history that cannot
        answer in time asks the agent to confirm (a duplicate cannot be ruled out), and
        goes ahead once they have. Refusals and warnings are audited in the background.
        """
        decision = await self._reviewed(job, request_by, confirmed=confirmed, retry=None)
        assert not isinstance(decision, ConfirmRetry)  # only a retry is asked that
        return decision

    async def review_retry(
        self, job: ResendJob, request_by: Requester, *, seen: str | None
    ) -> Decision | ConfirmRetry:
        """Whether a retry of ``job`` may go ahead: as `review`, confirmed (its button asked),
        unless the invoice was re-sent after the attempt it repeats. Then the clicker must
        confirm (`ConfirmRetry`), which holds while that is still the newest send
        (``seen``: the `ConfirmRetry.mark` they confirmed). A history that cannot answer
        asks too, and lets a retry already confirmed go ahead."""
        return await self._reviewed(job, request_by, confirmed=True, retry=_Retry(seen))

    async def _reviewed(
        self, job: ResendJob, request_by: Requester, *, confirmed: bool, retry: _Retry | None
    ) -> Decision | ConfirmRetry:
        started = time.monotonic()
        try:
            refusal = await self._within(self._permission(job, request_by), self._access_timeout)
        except TimeoutError:
            log.warning("access_check_slow", user=request_by.user_id)
            refusal = Refusal("access_check_timeout", strings.ACCESS_CHECK_TIMEOUT)
        if refusal is not None:
            return self._refuse(job, request_by, refusal)
        if not self._duplicates.active:
            return Proceed(claimed=False)
        # Whatever the access check left of the budget, but never less than the store's own.
        budget = max(self._store_timeout, deadlines.PRE_ACK_BUDGET - (time.monotonic() - started))
        try:
            return await self._within(
                self._guard(job, request_by, confirmed=confirmed, retry=retry), budget
            )
        except (TimeoutError, StoreUnavailableError) as exc:
            log.error(
                "duplicate_guard_unavailable",
                error=type(exc).__name__,
                detail=str(exc)[:200],
                reference=job.request.reference,
                confirmed=confirmed,
            )
            if retry is not None and retry.seen is None:
                return self._confirm_retry(job, request_by, ConfirmRetry(None))
            if confirmed:
                self._metrics.guard_bypasses.inc()
                return Proceed(claimed=False)
            return self._confirm_duplicate(job, request_by, Insight(unverified=True))

    async def _permission(self, job: ResendJob, request_by: Requester) -> Refusal | None:
        # Fresh: a member just removed from an allowed user group must not send.
        refusal = await self._access.check(request_by.user_id, request_by.channel_id, fresh=True)
        request = job.request
        if refusal is None and request.alternative_email:
            refusal = await self._access.check_alternative_email(
                request_by.user_id, request.alternative_email, fresh=True
            )
        return refusal

    async def _guard(
        self, job: ResendJob, request_by: Requester, *, confirmed: bool, retry: _Retry | None
    ) -> Decision | ConfirmRetry:
        insight = await self._duplicates.read(job.request)
        if insight.quota is not None and insight.quota.exhausted:
            provider = self._registry.of(job.request)
            agent_tz = await self._agent_timezone(request_by.user_id)
            message = quota_refusal(insight.quota, provider, agent_tz)
            return self._refuse(job, request_by, Refusal("quota_exhausted", message))
        if retry is not None:
            newer = await self._duplicates.sent_after(job)
            if newer is not None and ConfirmRetry(newer).mark != retry.seen:
                return self._confirm_retry(job, request_by, ConfirmRetry(newer))
        if insight.recent is not None and not confirmed:
            # The history knows a recent send even when no claim does (a claim lost to a
            # store hiccup, rows written by another replica): the agent must still confirm.
            return self._confirm_duplicate(job, request_by, insight)
        holder = await self._duplicates.claim(
            job, request_by.user_id, confirmed=confirmed, recent=insight.recent
        )
        if holder is None:
            return Proceed(claimed=True, quota=insight.quota)
        return self._confirm_duplicate(job, request_by, Insight(recent=holder, quota=insight.quota))

    async def _agent_timezone(self, user_id: str) -> str | None:
        """The agent's time zone (cached after the modal's first look), None if slow."""
        if self._timezone_of is None:
            return None
        try:
            return await self._within(self._timezone_of(user_id), deadlines.AGENT_TIMEZONE)
        except TimeoutError:
            log.info("agent_timezone_slow", user=user_id)
            return None

    def _confirm_duplicate(
        self, job: ResendJob, request_by: Requester, insight: Insight
    ) -> ConfirmDuplicate:
        holder = insight.recent.user_id if insight.recent else None
        self._auditor.attempt_later(
            _refusal_record(request_by, job, "duplicate_warning", self._clock(), detail=holder)
        )
        return ConfirmDuplicate(insight)

    def _confirm_retry(
        self, job: ResendJob, request_by: Requester, ask: ConfirmRetry
    ) -> ConfirmRetry:
        holder = ask.newer.user_id if ask.newer else None
        self._auditor.attempt_later(
            _refusal_record(request_by, job, "duplicate_warning", self._clock(), detail=holder)
        )
        return ask

    async def release(self, job: ResendJob, *, sent: bool) -> None:
        """Free (or, when sent, keep for the window) this job's duplicate claim."""
        await self._duplicates.release(job, sent=sent)

    def _refuse(self, job: ResendJob, request_by: Requester, refusal: Refusal) -> Refuse:
        self._auditor.attempt_later(_refusal_record(request_by, job, refusal.code, self._clock()))
        return Refuse(
            field=self._field_at_fault(job.request, refusal.code),
            message=refusal.message,
            code=refusal.code,
        )

    async def _within(self, step: Coroutine[Any, Any, _T], seconds: float) -> _T:
        """``step``'s answer, or `TimeoutError` after ``seconds`` sharp.

        Unlike `asyncio.wait_for`, this does not wait for the abandoned step to clean up
        (a database call stuck on a lock can take its busy timeout to roll back): Slack's
        ack cannot wait for that. The step is cancelled and finishes in the background;
        a duplicate claim it takes after all is released by the store
        (`Claims.release_once_landed`), the one place that knows when it lands.
        """
        task = asyncio.ensure_future(step)
        done, _ = await asyncio.wait({task}, timeout=seconds)
        if task in done:
            return task.result()
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)
        raise TimeoutError

    def _field_at_fault(self, request: ResendRequest, code: str) -> str:
        """The form field a refusal is about, else `WHOLE_REQUEST`."""
        provider = self._registry.of(request)
        if code in ALTERNATIVE_EMAIL_REFUSALS and provider.alternative_email_field:
            return str(provider.alternative_email_field)
        if code == "quota_exhausted":
            return str(provider.reference_field)
        return WHOLE_REQUEST


#: `Refuse.field` for a refusal about the whole request rather than one field.
WHOLE_REQUEST: Final = "request"
#: `ConfirmRetry.mark` when the history could not say whether a newer send exists.
UNVERIFIED: Final = "unverified"
ALTERNATIVE_EMAIL_REFUSALS: Final = frozenset(
    {"alternative_email_off", "alternative_email_not_allowed", "alternative_email_domain"}
)


def _refusal_record(
    request_by: Requester,
    job: ResendJob | None,
    code: str,
    now: datetime,
    *,
    reference: str = "",
    detail: str | None = None,
) -> AttemptRecord:
    request = job.request if job else None
    return AttemptRecord(
        attempt_id=str(uuid4()),
        created_at=now,
        team_id=request_by.team_id,
        user_id=request_by.user_id,
        channel_id=request_by.channel_id,
        provider=request.provider if request else "",
        invoice_key=request.invoice_key if request else "",
        reference=request.reference if request else reference,
        alternative_email=request.alternative_email if request else None,
        outcome="duplicate_warning" if code == "duplicate_warning" else "refused",
        idempotency_key=job.idempotency_key if job else None,
        detail=detail or code,
    )
