"""Send Slack's requests to an app: signed HTTP, or envelopes over Socket Mode.

Signatures follow Slack's v0 scheme, byte for byte what
``slack_sdk.signature.SignatureVerifier`` checks::

    X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing_secret, f"v0:{timestamp}:{body}"))

The payloads themselves are built by `devkit.localslack.payloads`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar
from urllib.parse import urlencode

import httpx

from devkit.lifecycle import ClosedInContext
from devkit.localslack.events import event_callback
from devkit.localslack.parts import ForwardedMethod, SharedAttribute
from devkit.localslack.payloads import (
    SlackPayloads,
    checkboxes_value,
    email_value,
    plain_text_value,
    radio_value,
    static_select_value,
)
from devkit.localslack.socket_mode import SOCKET_ACK_TIMEOUT_SECONDS
from devkit.localslack.webapi import FakeSlackWebAPI

__all__ = ["SenderResponse", "SlackEventSender", "SlackRequests", "SocketModeSender", "sign"]

JsonDict = dict[str, Any]
#: What a sender hands back for each request: the app's HTTP answer, or its ack.
Answer = TypeVar("Answer")
P = ParamSpec("P")

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Return Slack's v0 signature (``"v0=<hex>"``) for ``body`` sent at ``timestamp``."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{text}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


@dataclass
class SenderResponse:
    """What the app answered."""

    status: int
    body: str
    json: Any | None
    elapsed_seconds: float
    headers: dict[str, str] = field(default_factory=dict)


class SlackRequests(ABC, Generic[Answer]):
    """Slack's requests to an app, whatever carries them (``Answer``: what comes back).

    The payloads are built by `SlackPayloads` over the local workspace; a subclass only
    says how each kind travels (a slash command's fields, an interaction's payload, an
    Events API body) and how the app's answer to a submitted view is read.
    """

    # What is sent is built by the payloads part (`SlackPayloads`).
    workspace = SharedAttribute[FakeSlackWebAPI]("payloads")
    team_id = SharedAttribute[str]("payloads")
    team_domain = SharedAttribute[str]("payloads")
    clock = SharedAttribute[Callable[[], float]]("payloads")
    verification_token = SharedAttribute[str]("payloads")

    def __init__(
        self,
        workspace: FakeSlackWebAPI,
        team_id: str,
        team_domain: str,
        clock: Callable[[], float],
        *,
        verification_token: str,
    ) -> None:
        self.payloads = SlackPayloads(
            workspace, team_id, team_domain, clock, verification_token=verification_token
        )

    @abstractmethod
    async def send_command(self, fields: dict[str, str]) -> Answer:
        """Carry a slash command's form fields to the app."""

    @abstractmethod
    async def send_interaction(self, payload: JsonDict) -> Answer:
        """Carry an interaction's payload to the app."""

    @abstractmethod
    async def send_event(self, body: JsonDict) -> Answer:
        """Carry an Events API body to the app."""

    @abstractmethod
    def view_answer(self, answer: Answer) -> tuple[bool, Any | None]:
        """Whether the app accepted a submitted view, and its ``response_action`` body."""

    async def slash_command(
        self,
        command: str = "/reenviar",
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        user_name: str | None = None,
    ) -> Answer:
        """Invoke a slash command as ``user_id`` in ``channel_id``."""
        fields = self.payloads.slash_command_fields(
            command, text, user_id=user_id, channel_id=channel_id, user_name=user_name
        )
        return await self.send_command(fields)

    async def view_submission(
        self,
        *,
        user_id: str,
        view: JsonDict | str,
        values: JsonDict,
        apply_response: bool = True,
    ) -> Answer:
        """Submit a modal; by default the app's answer is applied to the workspace views.

        No ``response_action`` closes the view, ``errors`` keeps it open, ``update`` /
        ``push`` / ``clear`` do what Slack's client would.
        """
        payload = self.payloads.view_submission_payload(user_id=user_id, view=view, values=values)
        answer = await self.send_interaction(payload)
        accepted, response_action = self.view_answer(answer)
        view_id = payload["view"].get("id")
        if apply_response and accepted and isinstance(view_id, str):
            self.workspace.apply_view_response(view_id, response_action)
        return answer

    async def event(self, event: JsonDict) -> Answer:
        """Deliver an Events API event (see `devkit.localslack.events`)."""
        body = event_callback(self.workspace, event, verification_token=self.verification_token)
        return await self.send_event(body)


def _interaction(
    build: Callable[Concatenate[SlackPayloads, P], JsonDict], doc: str
) -> Callable[Concatenate[SlackEventSender, P], Coroutine[Any, Any, SenderResponse]]:
    """A sender method that posts the payload ``build`` makes, with ``build``'s parameters."""

    async def post(
        sender: SlackEventSender, /, *args: P.args, **kwargs: P.kwargs
    ) -> SenderResponse:
        return await sender.post_payload(build(sender.payloads, *args, **kwargs))

    post.__name__ = build.__name__.removesuffix("_payload")
    post.__doc__ = doc
    return post


class SlackEventSender(SlackRequests[SenderResponse], ClosedInContext):
    """Send slash commands and interactions to an app, signed as Slack signs them."""

    plain_text_value = staticmethod(plain_text_value)
    email_value = staticmethod(email_value)
    static_select_value = staticmethod(static_select_value)
    radio_value = staticmethod(radio_value)
    checkboxes_value = staticmethod(checkboxes_value)

    slash_command_fields = ForwardedMethod("payloads", SlackPayloads.slash_command_fields)
    block_actions_payload = ForwardedMethod("payloads", SlackPayloads.block_actions_payload)
    view_submission_payload = ForwardedMethod("payloads", SlackPayloads.view_submission_payload)
    message_action_payload = ForwardedMethod("payloads", SlackPayloads.message_action_payload)

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
        super().__init__(
            workspace, team_id, team_domain, clock, verification_token=verification_token
        )
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.timeout = timeout
        self._http = http
        self._owns_http = http is None

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

    async def post_json(self, body: JsonDict) -> SenderResponse:
        """Send a signed JSON body, as the Events API does."""
        return await self.post_raw(json.dumps(body).encode(), content_type="application/json")

    async def send_command(self, fields: dict[str, str]) -> SenderResponse:
        """Post the command's fields form-encoded, signed."""
        return await self.post_form(fields)

    async def send_interaction(self, payload: JsonDict) -> SenderResponse:
        """Post the payload as ``payload=<json>``, signed."""
        return await self.post_payload(payload)

    async def send_event(self, body: JsonDict) -> SenderResponse:
        """Post the body as JSON, signed."""
        return await self.post_json(body)

    def view_answer(self, answer: SenderResponse) -> tuple[bool, Any | None]:
        """Accepted when the app answered 200; its JSON body is the response action."""
        return answer.status == 200, answer.json

    # ------------------------------------------------------------------ requests

    block_actions = _interaction(
        SlackPayloads.block_actions_payload,
        "Send a ``block_actions`` interaction (in a modal or in a message).",
    )

    async def message_shortcut(
        self, callback_id: str, *, user_id: str, channel_id: str, message: JsonDict
    ) -> SenderResponse:
        """Use the message shortcut ``callback_id`` on ``message`` (``Message.as_slack()``)."""
        payload = self.message_action_payload(
            user_id=user_id, channel_id=channel_id, message=message, callback_id=callback_id
        )
        return await self.post_payload(payload)

    async def view_closed(self, *, user_id: str, view: JsonDict | str) -> SenderResponse:
        """Send ``view_closed`` (only sent by Slack when the view has ``notify_on_close``)."""
        payload = self.payloads.view_closed_payload(user_id=user_id, view=view)
        response = await self.post_payload(payload)
        view_id = payload["view"].get("id")
        if isinstance(view_id, str):
            self.workspace.close_view(view_id, whole_stack=False)
        return response


class SocketModeSender(SlackRequests[JsonDict]):
    """Send slash commands, modal submissions and events to an app over Socket Mode.

    The payloads are the ones :class:`SlackEventSender` builds for HTTP (a slash
    command's form fields as a JSON object, an interaction's ``payload`` JSON); only the
    transport differs: each goes out in an envelope on the app's WebSocket, through the
    fake, and each method returns the app's ack (``{"envelope_id": ..., "payload": {...}}``).
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
        super().__init__(
            workspace, team_id, team_domain, clock, verification_token=verification_token
        )
        self.timeout = timeout

    async def send_command(self, fields: dict[str, str]) -> JsonDict:
        """A ``slash_commands`` envelope; the ack's ``payload`` is the visible answer."""
        return await self.workspace.send_envelope(
            "slash_commands", dict(fields), timeout=self.timeout
        )

    async def send_interaction(self, payload: JsonDict) -> JsonDict:
        """An ``interactive`` envelope."""
        return await self.workspace.send_envelope("interactive", payload, timeout=self.timeout)

    async def send_event(self, body: JsonDict) -> JsonDict:
        """An ``events_api`` envelope."""
        return await self.workspace.send_envelope("events_api", body, timeout=self.timeout)

    def view_answer(self, answer: JsonDict) -> tuple[bool, Any | None]:
        """Every ack counts; its ``payload`` is the response action."""
        return True, answer.get("payload")
