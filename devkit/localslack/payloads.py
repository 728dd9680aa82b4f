"""The payloads Slack sends to an app, built from the local workspace's state.

Slash command form fields, ``block_actions``, ``view_submission``, ``view_closed`` and
``message_action`` (a message shortcut) payloads, shaped as Slack shapes them, with
fresh trigger ids and response URLs issued by the workspace
(`devkit.localslack.FakeSlackWebAPI`); and the ``state.values`` and ``actions`` entries
that go inside them. How they travel (signed HTTP, Socket Mode) is
`devkit.localslack.sender`'s business.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devkit.localslack.webapi import FakeSlackWebAPI

__all__ = [
    "SlackPayloads",
    "button_action",
    "checkboxes_value",
    "email_value",
    "plain_text_value",
    "radio_action",
    "radio_value",
    "static_select_action",
    "static_select_value",
]

JsonDict = dict[str, Any]
Option = tuple[str, str]


# ---------------------------------------------------------------------- state.values


def _option(value: str, text: str | None) -> JsonDict:
    return {
        "text": {"type": "plain_text", "text": text if text is not None else value, "emoji": True},
        "value": value,
    }


def plain_text_value(text: str | None) -> JsonDict:
    """``state.values`` entry of a ``plain_text_input`` (``None`` when left empty)."""
    return {"type": "plain_text_input", "value": text if text else None}


def email_value(email: str | None) -> JsonDict:
    """``state.values`` entry of an ``email_text_input`` (``None`` when left empty)."""
    return {"type": "email_text_input", "value": email if email else None}


def static_select_value(value: str | None, text: str | None = None) -> JsonDict:
    """``state.values`` entry of a ``static_select`` (``None`` value: nothing selected)."""
    return {
        "type": "static_select",
        "selected_option": _option(value, text) if value is not None else None,
    }


def radio_value(value: str | None, text: str | None = None) -> JsonDict:
    """``state.values`` entry of ``radio_buttons`` (``None`` value: nothing selected)."""
    return {
        "type": "radio_buttons",
        "selected_option": _option(value, text) if value is not None else None,
    }


def checkboxes_value(options: Iterable[str | Option]) -> JsonDict:
    """``state.values`` entry of ``checkboxes``; options are values or ``(value, text)``."""
    selected = [
        _option(opt, None) if isinstance(opt, str) else _option(opt[0], opt[1]) for opt in options
    ]
    return {"type": "checkboxes", "selected_options": selected}


# ---------------------------------------------------------------------- actions


def button_action(
    action_id: str, value: str | None = None, *, block_id: str = "actions", text: str = "Button"
) -> JsonDict:
    """An ``actions`` entry for a clicked button."""
    action: JsonDict = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
    }
    if value is not None:
        action["value"] = value
    return action


def static_select_action(
    action_id: str, value: str, text: str | None = None, *, block_id: str
) -> JsonDict:
    """An ``actions`` entry for a ``static_select`` choice."""
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": _option(value, text),
    }


def radio_action(action_id: str, value: str, text: str | None = None, *, block_id: str) -> JsonDict:
    """An ``actions`` entry for a ``radio_buttons`` choice."""
    return {
        "type": "radio_buttons",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": _option(value, text),
    }


class SlackPayloads:
    """Builds what Slack sends to an app for interactions in ``workspace``."""

    def __init__(
        self,
        workspace: FakeSlackWebAPI,
        team_id: str = "T0001",
        team_domain: str = "acme",
        clock: Callable[[], float] = time.time,
        *,
        verification_token: str = "legacy-verification-token",  # noqa: S107
    ) -> None:
        self.workspace = workspace
        self.team_id = team_id
        self.team_domain = team_domain
        self.clock = clock
        self.verification_token = verification_token

    def _user(self, user_id: str) -> JsonDict:
        user = self.workspace.users.get(user_id)
        name = user.name if user is not None else user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> JsonDict:
        return {"id": self.team_id, "domain": self.team_domain}

    def _channel_name(self, channel_id: str) -> str:
        channel = self.workspace.channels.get(channel_id)
        if channel is not None:
            return "directmessage" if channel.is_im else channel.name
        if channel_id.startswith("D"):
            return "directmessage"
        return "privategroup" if channel_id.startswith("G") else channel_id.lower()

    def _base_payload(self, kind: str, user_id: str) -> JsonDict:
        return {
            "type": kind,
            "user": self._user(user_id),
            "api_app_id": self.workspace.app_id,
            "token": self.verification_token,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _view(self, view: JsonDict | str) -> JsonDict:
        if isinstance(view, str):
            found = self.workspace.views.get(view)
            if found is None:
                raise KeyError(f"no open view {view!r} in the workspace")
            return copy.deepcopy(found)
        return copy.deepcopy(view)

    # ------------------------------------------------------------------ payloads

    def slash_command_fields(
        self,
        command: str = "/reenviar",
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        user_name: str | None = None,
    ) -> dict[str, str]:
        """The form fields Slack sends for a slash command (issues trigger + response_url)."""
        if user_name is None:
            user = self.workspace.users.get(user_id)
            user_name = user.name if user is not None else user_id.lower()
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.workspace.app_id,
            "is_enterprise_install": "false",
            "response_url": self.workspace.new_response_url(channel_id, user_id),
            "trigger_id": self.workspace.issue_trigger_id(user_id=user_id),
        }

    def block_actions_payload(
        self,
        *,
        user_id: str,
        actions: list[JsonDict],
        view: JsonDict | str | None = None,
        container: JsonDict | None = None,
        channel_id: str | None = None,
        message: JsonDict | None = None,
        response_url: str | None = None,
        values: JsonDict | None = None,
    ) -> JsonDict:
        """The ``block_actions`` payload (modal when ``view`` is given, else message)."""
        action_ts = f"{self.clock():.6f}"
        stamped = [
            {**action, "action_ts": action.get("action_ts", action_ts)} for action in actions
        ]
        payload = self._base_payload("block_actions", user_id)
        if view is not None:
            view_dict = self._view(view)
            if values is not None:
                view_dict["state"] = {"values": values}
            view_id = str(view_dict.get("id", ""))
            payload.update(
                {
                    "container": container or {"type": "view", "view_id": view_id},
                    "trigger_id": self.workspace.issue_trigger_id(
                        user_id=user_id, view_id=view_id or None
                    ),
                    "view": view_dict,
                    "actions": stamped,
                }
            )
            return payload
        if channel_id is None:
            raise ValueError("block_actions needs either view= or channel_id=")
        message_ts = str(message.get("ts", "")) if message is not None else ""
        if response_url is None:
            response_url = self.workspace.new_response_url(
                channel_id, user_id, message_ts=message_ts or None
            )
        payload.update(
            {
                "container": container
                or {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": channel_id,
                    "is_ephemeral": False,
                },
                "trigger_id": self.workspace.issue_trigger_id(user_id=user_id),
                "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
                "message": copy.deepcopy(message) if message is not None else {},
                "state": {"values": values or {}},
                "response_url": response_url,
                "actions": stamped,
            }
        )
        return payload

    def view_submission_payload(
        self, *, user_id: str, view: JsonDict | str, values: JsonDict
    ) -> JsonDict:
        """The ``view_submission`` payload for ``view`` with ``state.values = values``."""
        view_dict = self._view(view)
        view_dict["state"] = {"values": copy.deepcopy(values)}
        payload = self._base_payload("view_submission", user_id)
        payload.update(
            {
                "trigger_id": self.workspace.issue_trigger_id(
                    user_id=user_id, view_id=view_dict.get("id")
                ),
                "view": view_dict,
                "response_urls": [],
            }
        )
        return payload

    def message_action_payload(
        self, *, user_id: str, channel_id: str, message: JsonDict, callback_id: str
    ) -> JsonDict:
        """The ``message_action`` payload of the shortcut ``callback_id`` used on ``message``
        (a trigger id to open a modal, and a response_url for the channel)."""
        payload = self._base_payload("message_action", user_id)
        message_ts = str(message.get("ts", ""))
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.workspace.issue_trigger_id(user_id=user_id),
                "action_ts": f"{self.clock():.6f}",
                "message_ts": message_ts,
                "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
                "message": copy.deepcopy(message),
                "response_url": self.workspace.new_response_url(channel_id, user_id),
            }
        )
        return payload

    def view_closed_payload(self, *, user_id: str, view: JsonDict | str) -> JsonDict:
        """The ``view_closed`` payload (sent only when the view has ``notify_on_close``)."""
        payload = self._base_payload("view_closed", user_id)
        payload.update({"view": self._view(view), "is_cleared": False})
        return payload
