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
    """Members of Slack user groups, cached for ``ttl_seconds``.

    A cached list is refreshed when the user is not in it (someone just added is not
    refused for minutes), but not more often than every ``min_refresh_seconds``. A
    ``fresh`` check accepts only a list that recent. Slack's user group events drop a
    group's list at once (`forget`).
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_seconds: float = 60.0,
        min_refresh_seconds: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._min_refresh = min(min_refresh_seconds, ttl_seconds)
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        #: Bumped by `forget`: a lookup that started before it must not refill the cache.
        self._generation = 0
        self._lock = asyncio.Lock()

    async def is_member(
        self, user_id: str, group_ids: Iterable[str], *, fresh: bool = False
    ) -> bool:
        """Whether the user belongs to any of the groups.

        ``fresh``: only trust a list fetched in the last ``min_refresh_seconds`` (at
        submit, where a revoked member must not get through on a cached list).
        """
        for group_id in group_ids:
            if user_id in await self._members_of(group_id, wanted=user_id, fresh=fresh):
                return True
        return False

    def forget(self, group_id: str | None = None) -> None:
        """Drop the cached members of ``group_id`` (of every group when None)."""
        self._generation += 1
        if group_id is None:
            self._members.clear()
        else:
            self._members.pop(group_id, None)

    def _cached(self, group_id: str, *, wanted: str, fresh: bool) -> frozenset[str] | None:
        cached = self._members.get(group_id)
        if cached is None:
            return None
        fetched_at, members = cached
        age = self._clock() - fetched_at
        # Anything younger than the refresh floor is fresh; older lists only answer a
        # non-fresh check that finds the user (a miss refreshes: no hammering, no delay).
        if age < self._min_refresh or (not fresh and age < self._ttl and wanted in members):
            return members
        return None

    async def _members_of(self, group_id: str, *, wanted: str, fresh: bool) -> frozenset[str]:
        members = self._cached(group_id, wanted=wanted, fresh=fresh)
        if members is not None:
            return members
        async with self._lock:
            # Whoever held the lock may have just fetched it.
            members = self._cached(group_id, wanted=wanted, fresh=fresh)
            if members is not None:
                return members
            generation = self._generation
            try:
                response = await self._client.usergroups_users_list(usergroup=group_id)
            except SLACK_FAILURES as exc:
                log.warning(
                    "slack_usergroup_lookup_failed", usergroup=group_id, error=str(exc)[:200]
                )
                stale = self._members.get(group_id)
                return stale[1] if stale else frozenset()
            members = frozenset(str(u) for u in response.get("users") or [])
            if generation == self._generation:
                self._members[group_id] = (self._clock(), members)
            return members
