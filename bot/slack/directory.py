"""Who people are in Slack: agents' time zones and user group membership, cached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import SLACK_FAILURES

log = structlog.get_logger(__name__)


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
        except SLACK_FAILURES as exc:
            log.warning("slack_users_info_failed", user=user_id, error=type(exc).__name__)
            return None
        user = response.get("user") or {}
        tz = user.get("tz") if isinstance(user, dict) else None
        zone = tz if isinstance(tz, str) and tz else None
        self._cache[user_id] = (time.monotonic(), zone)
        return zone


class UsergroupDirectory:
    """Members of Slack user groups, cached for ``ttl_seconds``."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_seconds: float = 300.0,
        min_refresh_seconds: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = asyncio.Lock()

    async def is_member(self, user_id: str, group_ids: Iterable[str]) -> bool:
        """Whether the user belongs to any of the groups."""
        for group_id in group_ids:
            if user_id in await self._members_of(group_id, wanted=user_id):
                return True
        return False

    async def _members_of(self, group_id: str, *, wanted: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        now = self._clock()
        if cached is not None:
            fetched_at, members = cached
            fresh = now - fetched_at < self._ttl
            # Refresh on a miss, but not more often than min_refresh (no hammering).
            if fresh and (wanted in members or now - fetched_at < self._min_refresh):
                return members
        async with self._lock:
            try:
                response = await self._client.usergroups_users_list(usergroup=group_id)
            except SLACK_FAILURES as exc:
                log.warning(
                    "slack_usergroup_lookup_failed", usergroup=group_id, error=str(exc)[:200]
                )
                return cached[1] if cached else frozenset()
            members = frozenset(str(u) for u in response.get("users") or [])
            self._members[group_id] = (self._clock(), members)
            return members
