"""The App Home tab: ``views.publish``, and the ``app_home_opened`` event.

Each member has one Home tab per app, which the app replaces with ``views.publish``
(optionally guarded by the ``hash`` of the view it replaces). Slack tells the app
that a member opened it with ``app_home_opened``, carrying the view shown so far.
"""

from __future__ import annotations

import copy

from devkit.localslack.protocol import JsonDict, MethodGroup, SlackApiRefusal, serves
from devkit.localslack.validation import validate_home_view
from devkit.localslack.workspace import Workspace

__all__ = ["HomeTabs", "app_home_opened"]


class HomeTabs(MethodGroup):
    """``views.publish`` and the members' Home tabs in the `Workspace`."""

    @serves("views.publish")
    def views_publish(self, params: JsonDict) -> JsonDict:
        """``views.publish``: replace ``user_id``'s Home tab."""
        workspace = self.workspace
        user_id = params.get("user_id")
        if not isinstance(user_id, str) or user_id not in workspace.users:
            raise SlackApiRefusal("user_not_found")
        view = validate_home_view(params.get("view"))
        current = workspace.home_views.get(user_id)
        expected = params.get("hash")
        if expected and current is not None and expected != current["hash"]:
            raise SlackApiRefusal("hash_conflict")
        stored = copy.deepcopy(view)
        stored.update(
            {
                "id": current["id"] if current is not None else workspace.new_id("V"),
                "team_id": workspace.team_id,
                "state": {"values": {}},
                "hash": workspace.new_hash(),
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
                "app_id": workspace.app_id,
                "app_installed_team_id": workspace.team_id,
                "bot_id": workspace.bot_id,
            }
        )
        workspace.home_views[user_id] = stored
        return {"view": copy.deepcopy(stored)}


def app_home_opened(workspace: Workspace, user_id: str, *, tab: str = "home") -> JsonDict:
    """The event Slack sends when ``user_id`` opens the app's ``home`` (or ``messages``) tab."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": workspace.open_dm((user_id,)),
        "tab": tab,
    }
    shown = workspace.home_views.get(user_id)
    if tab == "home" and shown is not None:
        event["view"] = copy.deepcopy(shown)
    return event
