"""Links to the bot's messages, from ``chat.getPermalink``.

A message's link never changes, so links shown often (the App Home lists an agent's
last attempts every time the tab opens) are remembered instead of asked for again.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from typing import Final

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import SLACK_FAILURES

log = structlog.get_logger(__name__)

__all__ = ["Location", "PermalinkCache", "permalink"]

#: A message: its channel and ts.
Location = tuple[str, str]
_REMEMBERED: Final = 5000


async def permalink(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    """The message's link, or None when Slack cannot give it (logged)."""
    try:
        response = await client.chat_getPermalink(channel=channel, message_ts=ts)
    except SLACK_FAILURES as exc:
        log.info("slack_permalink_failed", error=type(exc).__name__)
        return None
    link = response.get("permalink")
    return str(link) if link else None


class PermalinkCache:
    """Permalinks asked for once each (the most recent few thousand are kept)."""

    def __init__(self, *, size: int = _REMEMBERED) -> None:
        self._size = size
        self._links: OrderedDict[Location, str] = OrderedDict()

    async def links(
        self, client: AsyncWebClient, locations: Iterable[Location], *, within: float
    ) -> dict[Location, str]:
        """The links of ``locations``: remembered ones at once, the others asked for
        together for at most ``within`` seconds (those still missing then are left out)."""
        wanted = list(dict.fromkeys(locations))
        missing = [where for where in wanted if where not in self._links]
        if missing:
            asked = [asyncio.ensure_future(permalink(client, *where)) for where in missing]
            done, pending = await asyncio.wait(asked, timeout=within)
            for task in pending:
                task.cancel()
            for where, task in zip(missing, asked, strict=True):
                link = task.result() if task in done and task.exception() is None else None
                if link is not None:
                    self._remember(where, link)
        return {where: self._links[where] for where in wanted if where in self._links}

    def _remember(self, where: Location, link: str) -> None:
        self._links[where] = link
        self._links.move_to_end(where)
        while len(self._links) > self._size:
            self._links.popitem(last=False)
