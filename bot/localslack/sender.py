"""Build and sign the requests Slack sends to an app's request URL.

Signatures follow Slack's v0 scheme, byte for byte what
``slack_sdk.signature.SignatureVerifier`` checks::

    X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing_secret, f"v0:{timestamp}:{body}"))
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from bot.localslack.socket_mode import SOCKET_ACK_TIMEOUT_SECONDS
from bot.localslack.webapi import FakeSlackWebAPI

__all__ = [
    "SenderResponse",
    "SlackEventSender",
    "SocketModeSender",
    "button_action",
    "checkboxes_value",
    "email_value",
    "plain_text_value",
    "radio_action",
    "radio_value",
    "sign",
    "static_select_action",
    "static_select_value",
]

JsonDict = dict[str, Any]
Option = tuple[str, str]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Return Slack's v0 signature (``"v0=<hex>"``) for ``body`` sent at ``timestamp``."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{text}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


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


# ---------------------------------------------------------------------- sender


@dataclass
class SenderResponse:
    """What the app answered."""

    status: int
    body: str
    json: Any | None
    elapsed_seconds: float
    headers: dict[str, str] = field(default_factory=dict)


class SlackEventSender:
    """Send slash commands and interactions to an app, signed as Slack signs them."""

    plain_text_value = staticmethod(plain_text_value)
    email_value = staticmethod(email_value)
    static_select_value = staticmethod(static_select_value)
    radio_value = staticmethod(radio_value)
    checkboxes_value = staticmethod(checkboxes_value)

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        workspace: FakeSlackWebAPI,
        team_id: str = "T0001",
        team_domain: str = "acme",
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        *,
        verification_token: str = "legacy-verification-token",  # noqa: S107
        timeout: float = 10.0,
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.workspace = workspace
        self.team_id = team_id
        self.team_domain = team_domain
        self.clock = clock
        self.verification_token = verification_token
        self.timeout = timeout
        self._http = http
        self._owns_http = http is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this sender created it."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        return self._http

    # ------------------------------------------------------------------ signing / sending

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Slack's signature headers for ``body`` (timestamp defaults to now)."""
        ts = int(self.clock()) if timestamp is None else timestamp
        return {
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(self.signing_secret, ts, body),
        }

    async def post_raw(
        self,
        body: bytes,
        content_type: str = FORM_CONTENT_TYPE,
        headers: Mapping[str, str] | None = None,
    ) -> SenderResponse:
        """POST ``body`` as is; ``headers=None`` signs it, else ``headers`` are sent verbatim.

        Pass e.g. ``signed_headers(body, timestamp=old)`` or a forged signature to check
        that the app rejects it.
        """
        final = {"Content-Type": content_type, "User-Agent": SLACK_USER_AGENT}
        final.update(self.signed_headers(body) if headers is None else dict(headers))
        started = time.perf_counter()
        response = await self._client().post(self.app_url, content=body, headers=final)
        elapsed = time.perf_counter() - started
        parsed: Any | None = None
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = response.json()
            except ValueError:
                parsed = None
        return SenderResponse(
            status=response.status_code,
            body=response.text,
            json=parsed,
            elapsed_seconds=elapsed,
            headers=dict(response.headers),
        )

    async def post_form(self, fields: Mapping[str, str]) -> SenderResponse:
        """Send a signed form-encoded body."""
        return await self.post_raw(urlencode(fields).encode())

    async def post_payload(self, payload: JsonDict) -> SenderResponse:
        """Send a signed interactivity request (``payload=<json>``)."""
        return await self.post_form({"payload": json.dumps(payload, separators=(",", ":"))})

    # ------------------------------------------------------------------ payload pieces

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

    # ------------------------------------------------------------------ requests

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

    async def slash_command(
        self,
        command: str = "/reenviar",
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        user_name: str | None = None,
    ) -> SenderResponse:
        """Invoke a slash command as ``user_id`` in ``channel_id``."""
        fields = self.slash_command_fields(
            command, text, user_id=user_id, channel_id=channel_id, user_name=user_name
        )
        return await self.post_form(fields)

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

    async def block_actions(
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
    ) -> SenderResponse:
        """Send a ``block_actions`` interaction (in a modal or in a message)."""
        payload = self.block_actions_payload(
            user_id=user_id,
            actions=actions,
            view=view,
            container=container,
            channel_id=channel_id,
            message=message,
            response_url=response_url,
            values=values,
        )
        return await self.post_payload(payload)

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

    async def view_submission(
        self,
        *,
        user_id: str,
        view: JsonDict | str,
        values: JsonDict,
        apply_response: bool = True,
    ) -> SenderResponse:
        """Submit a modal; by default the app's answer is applied to the workspace views.

        No ``response_action`` closes the view, ``errors`` keeps it open, ``update`` /
        ``push`` / ``clear`` do what Slack's client would.
        """
        payload = self.view_submission_payload(user_id=user_id, view=view, values=values)
        response = await self.post_payload(payload)
        view_id = payload["view"].get("id")
        if apply_response and response.status == 200 and isinstance(view_id, str):
            self.workspace.apply_view_response(view_id, response.json)
        return response

    async def view_closed(self, *, user_id: str, view: JsonDict | str) -> SenderResponse:
        """Send ``view_closed`` (only sent by Slack when the view has ``notify_on_close``)."""
        view_dict = self._view(view)
        payload = self._base_payload("view_closed", user_id)
        payload.update({"view": view_dict, "is_cleared": False})
        response = await self.post_payload(payload)
        view_id = view_dict.get("id")
        if isinstance(view_id, str):
            self.workspace.close_view(view_id, whole_stack=False)
        return response


class SocketModeSender:
    """Send slash commands and modal submissions to an app over Socket Mode, through the fake.

    The payloads are the ones :class:`SlackEventSender` builds for HTTP (a slash
    command's form fields as a JSON object, an interaction's ``payload`` JSON); only the
    transport differs: each goes out in an envelope on the app's WebSocket and each
    method returns the app's ack (``{"envelope_id": ..., "payload": {...}}``).
    """

    def __init__(
        self,
        workspace: FakeSlackWebAPI,
        team_id: str = "T0001",
        team_domain: str = "acme",
        clock: Callable[[], float] = time.time,
        *,
        verification_token: str = "legacy-verification-token",  # noqa: S107
        timeout: float = SOCKET_ACK_TIMEOUT_SECONDS,
    ) -> None:
        self.workspace = workspace
        self.timeout = timeout
        # Only its payload builders are used: it never opens an HTTP client.
        self.payloads = SlackEventSender(
            "http://127.0.0.1/socket-mode-has-no-request-url",
            "",
            workspace,
            team_id,
            team_domain,
            clock=clock,
            verification_token=verification_token,
        )

    async def slash_command(
        self,
        command: str = "/reenviar",
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        user_name: str | None = None,
    ) -> JsonDict:
        """Invoke a slash command; return the ack (its ``payload`` is the visible answer)."""
        fields = self.payloads.slash_command_fields(
            command, text, user_id=user_id, channel_id=channel_id, user_name=user_name
        )
        return await self.workspace.send_envelope(
            "slash_commands", dict(fields), timeout=self.timeout
        )

    async def view_submission(
        self,
        *,
        user_id: str,
        view: JsonDict | str,
        values: JsonDict,
        apply_response: bool = True,
    ) -> JsonDict:
        """Submit a modal; by default the ack's ``response_action`` is applied to the views."""
        payload = self.payloads.view_submission_payload(user_id=user_id, view=view, values=values)
        ack = await self.workspace.send_envelope("interactive", payload, timeout=self.timeout)
        view_id = payload["view"].get("id")
        if apply_response and isinstance(view_id, str):
            self.workspace.apply_view_response(view_id, ack.get("payload"))
        return ack
