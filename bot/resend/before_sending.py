"""What the modal can tell before anything is sent, gathered once it is open.

The history (a recent re-send, the hourly quota), the provider (what a lookup says
about the invoice) and the agent's time zone are asked at the same time, each
within its own bound, so the modal's second look arrives in about 2 s at most.
Also the provider a blank modal starts on: the one the agent used last, else the
one of the agent's country. Nothing here blocks a send or talks to Slack's UI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.insight import Insight
from bot.history.store import HistoryStore
from bot.resend.duplicates import DuplicateGuard
from bot.resend.lookup import InvoiceLookups
from bot.slack.directory import UserDirectory
from bot.ui.forms import default_provider
from providers.base import InvoiceFacts, ResendRequest
from providers.registry import ProviderRegistry

log = structlog.get_logger(__name__)

#: How far back the agent's last provider is looked for.
LAST_PROVIDER_WINDOW: Final = timedelta(days=60)


@dataclass(frozen=True)
class KnownBeforeSending:
    """What is known about an invoice before sending it, for the modal."""

    insight: Insight | None = None
    facts: InvoiceFacts | None = None
    agent_tz: str | None = None

    @property
    def worth_showing(self) -> bool:
        """Whether the modal has anything to add."""
        has_facts = self.facts is not None and (not self.facts.exists or not self.facts.is_empty)
        return has_facts or (self.insight is not None and self.insight.worth_showing)


async def known_before_sending(
    request: ResendRequest,
    user_id: str,
    *,
    duplicates: DuplicateGuard,
    lookups: InvoiceLookups,
    directory: UserDirectory,
) -> KnownBeforeSending:
    """The history, the provider's lookup and the agent's time zone, asked together."""
    insight, facts, agent_tz = await asyncio.gather(
        duplicates.insight(request), lookups.facts(request), directory.timezone(user_id)
    )
    return KnownBeforeSending(insight=insight, facts=facts, agent_tz=agent_tz)


async def usual_provider(
    user_id: str,
    *,
    store: HistoryStore,
    directory: UserDirectory,
    registry: ProviderRegistry,
    configured: Mapping[str, bool],
) -> str | None:
    """The provider the agent used last (from the history), else the one matching the
    agent's Slack time zone; None when neither is known in time."""

    async def last_used() -> str | None:
        try:
            return await store.last_provider(user_id, datetime.now(UTC) - LAST_PROVIDER_WINDOW)
        except StoreUnavailableError as exc:
            log.info("last_provider_unavailable", error=str(exc)[:200])
            return None

    try:
        last, agent_tz = await asyncio.wait_for(
            asyncio.gather(last_used(), directory.timezone(user_id)), deadlines.USUAL_PROVIDER
        )
    except TimeoutError:
        log.info("usual_provider_slow", wait_s=deadlines.USUAL_PROVIDER)
        return None
    return default_provider(registry, configured, last_used=last, agent_tz=agent_tz)
