"""Events API: what Slack sends an app about a subscribed event.

`event_callback` wraps any event the way Slack does; the senders deliver it
(`SlackEventSender.event`: a signed JSON POST to the request URL;
`SocketModeSender.event`: an ``events_api`` envelope). `url_verification` is the
challenge Slack posts when a request URL is saved. The user group events change
the local workspace first, then describe the change as Slack would.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devkit.localslack.webapi import FakeSlackWebAPI

__all__ = ["change_usergroup", "event_callback", "subteam_updated", "url_verification"]

JsonDict = dict[str, Any]


def event_callback(
    workspace: FakeSlackWebAPI,
    event: JsonDict,
    *,
    verification_token: str = "legacy-verification-token",  # noqa: S107
) -> JsonDict:
    """The outer ``event_callback`` body around ``event``, as Slack delivers it."""
    now = workspace.clock()
    return {
        "token": verification_token,
        "team_id": workspace.team_id,
        "api_app_id": workspace.app_id,
        "event": {"event_ts": f"{now:.6f}", **event},
        "type": "event_callback",
        "event_id": workspace.workspace.new_id("Ev"),
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": workspace.team_id,
                "user_id": workspace.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def url_verification(challenge: str) -> JsonDict:
    """What Slack posts to check a new request URL; the app must echo ``challenge``."""
    return {
        "token": "legacy-verification-token",
        "challenge": challenge,
        "type": "url_verification",
    }


def change_usergroup(workspace: FakeSlackWebAPI, group_id: str, members: Iterable[str]) -> JsonDict:
    """Set a user group's members; the ``subteam_members_changed`` event that says so."""
    before = list(workspace.usergroups.get(group_id, []))
    after = list(dict.fromkeys(members))
    workspace.add_usergroup(group_id, after)
    added = [user for user in after if user not in before]
    removed = [user for user in before if user not in after]
    now = int(workspace.clock())
    return {
        "type": "subteam_members_changed",
        "subteam_id": group_id,
        "team_id": workspace.team_id,
        "date_previous_update": now - 1,
        "date_update": now,
        "added_users": added,
        "added_users_count": str(len(added)),
        "removed_users": removed,
        "removed_users_count": str(len(removed)),
    }


def subteam_updated(workspace: FakeSlackWebAPI, group_id: str) -> JsonDict:
    """The ``subteam_updated`` event for a user group as the workspace has it now."""
    users = list(workspace.usergroups.get(group_id, []))
    return {
        "type": "subteam_updated",
        "subteam": {
            "id": group_id,
            "team_id": workspace.team_id,
            "is_usergroup": True,
            "handle": group_id.lower(),
            "date_update": int(workspace.clock()),
            "users": users,
            "user_count": len(users),
        },
    }
