"""One re-send from the agent's submit to the outcome in the channel.

Post "re-sending", call the provider, replace the message with the outcome.
Everything after Slack's ack happens here, so this is also where a surprise is
caught, given an error id, logged, and still shown to the agent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from secrets import token_hex

import structlog
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import views
from bot.delivery import Delivery, Destination, MessageRef
from bot.jobs import ResendJob
from providers.errors import ProviderError
from providers.registry import Providers

log = structlog.get_logger(__name__)


def new_error_id() -> str:
    """A short id the agent can quote and the logs can be searched for."""
    return "E-" + token_hex(3).upper()


class InFlight:
    """Counts running re-sends so shutdown can let them finish."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        """How many re-sends are running now."""
        return self._count

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Mark one re-send as running for the duration of the block."""
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def drain(self, grace_seconds: float) -> bool:
        """Wait until nothing runs, at most ``grace_seconds``; True if drained."""
        if self._idle.is_set():
            # Python 3.11's wait_for(timeout=0) times out even on a set event.
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        except TimeoutError:
            return False
        return True


class UserDirectory:
    """The agents' time zones from Slack's profiles, cached for an hour."""

    def __init__(self, client: AsyncWebClient, *, ttl_seconds: float = 3600.0) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def timezone(self, user_id: str) -> str | None:
        """The user's IANA time zone, or None when Slack does not say."""
        cached = self._cache.get(user_id)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            response = await self._client.users_info(user=user_id)
        except SlackClientError as exc:
            log.warning("slack_users_info_failed", user=user_id, error=type(exc).__name__)
            return None
        user = response.get("user") or {}
        tz = user.get("tz") if isinstance(user, dict) else None
        zone = tz if isinstance(tz, str) and tz else None
        self._cache[user_id] = (time.monotonic(), zone)
        return zone


class ResendWorkflow:
    """Runs re-send jobs: progress message, provider call, outcome message."""

    def __init__(
        self,
        *,
        providers: Providers,
        delivery: Delivery,
        directory: UserDirectory,
        inflight: InFlight,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timezone_timeout: float = 2.0,
    ) -> None:
        self._providers = providers
        self._delivery = delivery
        self._directory = directory
        self._inflight = inflight
        self._clock = clock
        self._timezone_timeout = timezone_timeout

    async def run(
        self, job: ResendJob, destination: Destination, *, existing: MessageRef | None = None
    ) -> MessageRef | None:
        """Re-send and show the outcome; ``existing`` is a message to update (a retry)."""
        async with self._inflight.track():
            with structlog.contextvars.bound_contextvars(
                slack_user=destination.user_id,
                slack_channel=destination.channel_id,
                attempt=job.attempt,
            ):
                ref: MessageRef | None = existing
                try:
                    progress = views.progress_message(job)
                    if existing is None:
                        ref = await self._delivery.post(destination, progress)
                    else:
                        ref = await self._delivery.replace(existing, destination, progress)
                    outcome = await self._outcome(job, destination.user_id)
                except Exception:
                    error_id = new_error_id()
                    log.exception("internal_error", error_id=error_id)
                    outcome = views.internal_error_message(error_id, job)
                return await self._delivery.replace(ref, destination, outcome)

    async def _outcome(self, job: ResendJob, user_id: str) -> views.SlackMessage:
        timezone = asyncio.create_task(self._directory.timezone(user_id))
        try:
            result = await self._providers.resend(job.request, idempotency_key=job.idempotency_key)
        except ProviderError as exc:
            timezone.cancel()
            return views.failure_message(job, exc)
        try:
            agent_tz = await asyncio.wait_for(timezone, self._timezone_timeout)
        except TimeoutError:
            agent_tz = None
        return views.success_message(job, result, now=self._clock(), agent_tz=agent_tz)
