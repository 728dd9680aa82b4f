"""Slack's user group events: a changed group's cached membership is dropped at once.

``subteam_members_changed`` (members added or removed) and ``subteam_updated`` (the
group edited, disabled or re-enabled) arrive through the Events API (HTTP or Socket
Mode; the manifest subscribes to both). Bolt acks events by itself; the next access
check reads the group from Slack again, so a removed member is refused within
seconds instead of after the cache's lifetime.
"""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.services import services_of

log = structlog.get_logger(__name__)

EVENTS = ("subteam_members_changed", "subteam_updated")


def _group_id(event: dict[str, Any]) -> str | None:
    """The group the event is about: ``subteam_id``, or ``subteam.id``."""
    subteam = event.get("subteam")
    group_id = event.get("subteam_id") or (subteam.get("id") if isinstance(subteam, dict) else None)
    return group_id if isinstance(group_id, str) and group_id else None


async def forget_membership(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """Drop what is cached about the group (every group when the event does not say which)."""
    group_id = _group_id(event)
    services_of(context).usergroups.forget(group_id)
    log.info("usergroup_changed", event_type=event.get("type"), usergroup=group_id or "all")


def register(app: AsyncApp) -> None:
    """Wire the user group events."""
    for name in EVENTS:
        app.event(name)(forget_membership)
