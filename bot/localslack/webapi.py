"""A local stand-in for the Slack Web API, served over loopback HTTP.

The bot under test talks to it with an unmodified ``AsyncWebClient`` whose ``base_url``
points at :attr:`FakeSlackWebAPI.api_url`. The server keeps the workspace state (users,
channels, messages, modals) in plain dataclasses that tests and the demo can inspect.
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import json
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import WSCloseCode, WSMsgType, web

__all__ = [
    "ApiCall",
    "Channel",
    "EphemeralMessage",
    "FakeSlackWebAPI",
    "InjectedFailure",
    "Message",
    "ResponseUrl",
    "ResponseUrlMessage",
    "SlackApiRefusal",
    "SocketEnvelope",
    "SocketModeConnection",
    "Trigger",
    "User",
]

JsonDict = dict[str, Any]
MethodHandler = Callable[[JsonDict], JsonDict]

#: Parameters that slack-sdk (and Slack) send as JSON-encoded strings in form bodies.
_JSON_PARAMS = ("blocks", "view", "attachments", "metadata")

#: How long a trigger id stays valid, as in Slack.
TRIGGER_TTL_SECONDS = 3.0
#: Web API methods authenticated with the app-level token (``xapp-...``), not the bot's.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
#: Where Socket Mode clients connect: ``/socket-mode/<ticket>`` (from ``apps.connections.open``).
SOCKET_MODE_PATH = "/socket-mode"
#: Slack waits about 3 s for an envelope's ack; tests wait a little longer by default.
SOCKET_ACK_TIMEOUT_SECONDS = 5.0

#: A response_url accepts this many messages ...
RESPONSE_URL_MAX_USES = 5
#: ... within this many seconds of being issued.
RESPONSE_URL_TTL_SECONDS = 30 * 60

_TZ_LABELS = {
    "America/Argentina/Buenos_Aires": "Argentina Time",
    "America/Mexico_City": "Central Standard Time",
    "America/Bogota": "Colombia Standard Time",
    "America/Santiago": "Chile Standard Time",
    "America/New_York": "Eastern Standard Time",
    "Europe/Madrid": "Central European Time",
    "UTC": "Coordinated Universal Time",
}


class SlackApiRefusal(Exception):
    """Raised inside a handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, *, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []


@dataclass
class ApiCall:
    """One Web API request received by the fake."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class User:
    """A workspace member, as returned by ``users.info``."""

    id: str
    name: str
    real_name: str
    display_name: str
    tz: str
    tz_label: str
    tz_offset: int
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False

    def as_slack(self, team_id: str) -> JsonDict:
        """Return the Slack-shaped user object."""
        profile: JsonDict = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation: public/private channel, DM (``D...``) or group DM."""

    id: str
    name: str
    bot_is_member: bool = True
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    is_mpim: bool = False
    #: For DMs opened by ``conversations.open``: the other user(s).
    dm_users: tuple[str, ...] = ()
    #: Known human members; ``None`` means "anyone" (membership not modelled).
    members: set[str] | None = None

    def as_slack(self) -> JsonDict:
        """Return the Slack-shaped conversation object."""
        data: JsonDict = {
            "id": self.id,
            "name": self.name,
            "is_channel": not (self.is_im or self.is_mpim) and not self.is_private,
            "is_group": self.is_private and not (self.is_im or self.is_mpim),
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_im or self.is_mpim,
            "is_archived": self.is_archived,
            "is_member": self.bot_is_member,
        }
        if self.is_im and self.dm_users:
            data["user"] = self.dm_users[0]
        return data


@dataclass
class Message:
    """A message visible in a channel."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] = field(default_factory=list)
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    edited: bool = False
    edited_ts: str | None = None
    attachments: list[Any] = field(default_factory=list)
    #: ``"api"`` (chat.postMessage) or ``"response_url"``.
    source: str = "api"

    def as_slack(self) -> JsonDict:
        """Return the Slack-shaped message object."""
        data: JsonDict = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user is not None:
            data["user"] = self.user
        if self.bot_id is not None:
            data["bot_id"] = self.bot_id
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            data["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.edited_ts}
        return data


@dataclass
class EphemeralMessage:
    """A message only ``user`` can see in ``channel``."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[Any] = field(default_factory=list)
    thread_ts: str | None = None
    #: ``"api"`` (chat.postEphemeral) or ``"response_url"``.
    source: str = "api"
    replaced: bool = False
    deleted: bool = False


@dataclass
class ResponseUrl:
    """A ``response_url`` issued for a slash command or a message action."""

    token: str
    channel_id: str
    user_id: str
    created_at: float
    #: The message an action came from, which ``replace_original`` targets.
    message_ts: str | None = None
    uses: int = 0
    last_ephemeral: EphemeralMessage | None = None


@dataclass
class ResponseUrlMessage:
    """One message posted to a ``response_url``."""

    token: str
    channel_id: str
    user_id: str
    response_type: str
    text: str
    blocks: list[Any]
    replace_original: bool
    delete_original: bool
    payload: JsonDict
    at: float


@dataclass
class Trigger:
    """A trigger id issued with an interaction; lets the app open a modal once, for 3 s."""

    id: str
    issued_at: float
    user_id: str | None = None
    view_id: str | None = None
    used: bool = False


@dataclass
class SocketModeConnection:
    """One Socket Mode WebSocket connection the app opened."""

    id: str
    opened_at: float
    closed_at: float | None = None
    #: Every message the app sent on this connection, parsed (raw text if not JSON).
    received: list[Any] = field(default_factory=list)
    ws: web.WebSocketResponse | None = field(default=None, repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        """Whether the WebSocket is still open."""
        return self.closed_at is None


@dataclass
class SocketEnvelope:
    """An envelope sent to the app over Socket Mode, with the app's ack once it arrives."""

    envelope_id: str
    type: str
    payload: JsonDict
    connection_id: str
    sent_at: float
    ack: JsonDict | None = None
    acked_at: float | None = None


@dataclass
class InjectedFailure:
    """A failure queued with :meth:`FakeSlackWebAPI.fail`."""

    error: str
    status: int
    retry_after: int | None
    remaining: int


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"1", "true", "yes"}


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    raise SlackApiRefusal("invalid_blocks_format")


def _plain_text_length(obj: Any) -> int:
    if isinstance(obj, dict):
        return len(str(obj.get("text", "")))
    return 0


def _validate_blocks(blocks: list[Any], *, limit: int, pointer: str) -> list[str]:
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            problems.append(
                f"[ERROR] missing required field: type [json-pointer:{pointer}/{index}]"
            )
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                problems.append(
                    f"[ERROR] duplicate block_id {block_id!r} [json-pointer:{pointer}/{index}]"
                )
            seen.add(block_id)
    return problems


def _validate_view(view: Any) -> JsonDict:
    """Check the parts of a modal Slack is strict about; raise ``invalid_arguments``."""
    if not isinstance(view, dict):
        raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] view must be an object"])
    problems: list[str] = []
    if view.get("type") != "modal":
        problems.append("[ERROR] must be 'modal' [json-pointer:/view/type]")
    if "title" not in view:
        problems.append("[ERROR] missing required field: title [json-pointer:/view]")
    for key in ("title", "submit", "close"):
        if key in view and _plain_text_length(view[key]) > 24:
            problems.append(f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append(
            "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
        )
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
    else:
        problems.extend(_validate_blocks(blocks, limit=100, pointer="/view/blocks"))
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            problems.append(
                "[ERROR] submit is required when an input block is present [json-pointer:/view]"
            )
    if problems:
        raise SlackApiRefusal("invalid_arguments", messages=problems)
    return view


class FakeSlackWebAPI:
    """A fake Slack workspace + Web API served over loopback HTTP.

    Point ``AsyncWebClient(token=bot_token, base_url=fake.api_url)`` at it.
    """

    def __init__(
        self,
        bot_token: str = "xoxb-test",  # noqa: S107 - a fake workspace's token
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        *,
        bot_id: str = "B0BOT",
        bot_user_name: str = "reenviar",
        app_id: str = "A0REENVIAR",
        team_name: str = "Acme",
        team_domain: str = "acme",
        check_triggers: bool = True,
        trigger_ttl: float = TRIGGER_TTL_SECONDS,
        chat_write_public: bool = False,
        clock: Callable[[], float] = time.time,
        app_token: str | None = None,
    ) -> None:
        self.bot_token = bot_token
        #: The app-level token (``xapp-...``) that ``apps.connections.open`` accepts;
        #: ``None``: Socket Mode is off and every token is refused.
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_user_name = bot_user_name
        self.app_id = app_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.check_triggers = check_triggers
        self.trigger_ttl = trigger_ttl
        #: With the ``chat:write.public`` scope the bot may post in public channels it
        #: has not joined.
        self.chat_write_public = chat_write_public
        self.clock = clock

        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemeral: dict[tuple[str, str], list[EphemeralMessage]] = {}
        self.views: dict[str, JsonDict] = {}
        #: Views that were closed (submitted without ``response_action``, or cleared).
        self.closed_views: dict[str, JsonDict] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.response_url_messages: list[ResponseUrlMessage] = []
        self.calls: list[ApiCall] = []
        #: Every Socket Mode connection ever opened, oldest first (see ``socket_clients``).
        self.socket_connections: list[SocketModeConnection] = []
        #: Every envelope sent over Socket Mode, with its ack.
        self.socket_envelopes: list[SocketEnvelope] = []

        self._socket_tickets: dict[str, float] = {}
        self._socket_acks: dict[str, asyncio.Future[JsonDict]] = {}
        self._socket_envelope_by_id: dict[str, SocketEnvelope] = {}
        self._failures: dict[str, deque[InjectedFailure]] = {}
        self._latency: dict[str, float] = {}
        self._extra_methods: dict[str, MethodHandler] = {}
        self._view_owner: dict[str, str] = {}
        self._dm_by_users: dict[tuple[str, ...], str] = {}
        self._last_ts_micros = 0
        self._counter = 0
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None

        self._methods: dict[str, MethodHandler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "apps.connections.open": self._apps_connections_open,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving on loopback; ``port=0`` picks a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeSlackWebAPI is already running")
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"FakeSlackWebAPI only binds loopback addresses, not {host!r}")
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response_url/{token}", self._handle_response_url)
        app.router.add_get(SOCKET_MODE_PATH + "/{ticket}", self._handle_socket_mode)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._changed = None  # bind the condition to the loop that serves requests
        self._host = "127.0.0.1" if host == "localhost" else host
        address = runner.addresses[0]
        self._port = int(address[1])

    async def stop(self) -> None:
        """Stop the server (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await self.disconnect_clients()
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeSlackWebAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: the ``base_url`` for ``AsyncWebClient``."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ workspace set-up

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "America/Argentina/Buenos_Aires",
        tz_offset: int = -10800,
        *,
        display_name: str | None = None,
        tz_label: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> User:
        """Add (or replace) a workspace member."""
        user = User(
            id=user_id,
            name=name,
            real_name=real_name if real_name is not None else name,
            display_name=display_name if display_name is not None else name,
            tz=tz,
            tz_label=tz_label if tz_label is not None else _TZ_LABELS.get(tz, tz),
            tz_offset=tz_offset,
            email=email,
            is_bot=is_bot,
            deleted=deleted,
        )
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        bot_is_member: bool = True,
        is_private: bool = False,
        is_archived: bool = False,
        *,
        members: Iterable[str] | None = None,
    ) -> Channel:
        """Add (or replace) a channel. ``D...`` ids are treated as DMs."""
        is_im = channel_id.startswith("D")
        channel = Channel(
            id=channel_id,
            name=name,
            bot_is_member=bot_is_member,
            is_private=is_private or is_im,
            is_archived=is_archived,
            is_im=is_im,
            members=set(members) if members is not None else None,
        )
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def add_usergroup(self, group_id: str, members: Iterable[str]) -> None:
        """Add a user group (``S...``) for ``usergroups.users.list``."""
        self.usergroups[group_id] = list(members)

    def add_method(self, method: str, handler: MethodHandler) -> None:
        """Serve an extra Web API method: ``handler(params) -> response dict``.

        The handler may raise :class:`SlackApiRefusal` to answer an error.
        """
        self._extra_methods[method] = handler

    # ------------------------------------------------------------------ test controls

    def fail(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int = 200,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail with ``error``.

        ``error="ratelimited"`` answers HTTP 429 with ``Retry-After`` (default 1 s), as
        Slack does.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if error == "ratelimited":
            if status == 200:
                status = 429
            if retry_after is None:
                retry_after = 1
        failure = InjectedFailure(
            error=error, status=status, retry_after=retry_after, remaining=times
        )
        self._failures.setdefault(method, deque()).append(failure)

    def clear_failures(self) -> None:
        """Drop every pending injected failure."""
        self._failures.clear()

    def set_latency(self, method: str, seconds: float) -> None:
        """Delay answers to ``method`` (``"*"`` for every method) by ``seconds``."""
        if seconds <= 0:
            self._latency.pop(method, None)
        else:
            self._latency[method] = seconds

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls to ``method``, in order."""
        return [call for call in self.calls if call.method == method]

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - bounded wait is the point
        description: str = "condition",
    ) -> None:
        """Wait (bounded) until ``predicate()`` holds; re-checked after every request."""
        condition = self._condition()
        try:
            async with asyncio.timeout(timeout), condition:
                await condition.wait_for(predicate)
        except TimeoutError:
            seen = ", ".join(call.method for call in self.calls) or "none"
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {description}; "
                f"Web API calls seen: {seen}; "
                f"response_url messages: {len(self.response_url_messages)}"
            ) from None

    async def wait_for_call(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ApiCall]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        await self.wait_until(
            lambda: len(self.calls_to(method)) >= count,
            timeout=timeout,
            description=f"{count} call(s) to {method}",
        )
        return self.calls_to(method)

    async def wait_for_response_url(
        self,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ResponseUrlMessage]:
        """Wait until ``count`` messages were posted to response URLs."""
        await self.wait_until(
            lambda: len(self.response_url_messages) >= count,
            timeout=timeout,
            description=f"{count} response_url message(s)",
        )
        return list(self.response_url_messages)

    # ------------------------------------------------------------------ Socket Mode

    @property
    def socket_clients(self) -> list[SocketModeConnection]:
        """Socket Mode connections open now, oldest first."""
        return [
            connection
            for connection in self.socket_connections
            if connection.is_open and connection.ws is not None and not connection.ws.closed
        ]

    async def wait_for_socket_connection(
        self,
        *,
        total: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SocketModeConnection:
        """Wait until ``total`` connections were ever opened and one of the newest is open.

        After ``disconnect_clients()``, pass ``total=len(socket_connections) + 1`` to wait
        for the app to reconnect.
        """

        def newest_open() -> SocketModeConnection | None:
            if len(self.socket_connections) < total:
                return None
            fresh = [c for c in self.socket_connections[total - 1 :] if c in self.socket_clients]
            return fresh[-1] if fresh else None

        await self.wait_until(
            lambda: newest_open() is not None,
            timeout=timeout,
            description=f"Socket Mode connection #{total} to be open",
        )
        found = newest_open()
        assert found is not None
        return found

    async def send_envelope(
        self,
        type: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool | None = None,
        timeout: float = SOCKET_ACK_TIMEOUT_SECONDS,  # noqa: ASYNC109
        connection: SocketModeConnection | None = None,
    ) -> JsonDict:
        """Send an envelope to the app over Socket Mode and return its ack.

        ``type`` is ``"slash_commands"``, ``"interactive"`` or ``"events_api"``. The
        envelope goes to ``connection`` or else the newest open one (waiting for the app
        to connect if none is). The ack is the JSON the app sent back:
        ``{"envelope_id": ..., "payload": {...}}`` (``payload`` only when it answered
        something). Raises ``TimeoutError`` if no client or no ack within ``timeout``.
        """
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = type != "events_api"
        message: JsonDict = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": copy.deepcopy(payload),
            "accepts_response_payload": accepts_response_payload,
        }
        ack: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        self._socket_acks[envelope_id] = ack
        waiting_for = "a Socket Mode client to connect"
        try:
            async with asyncio.timeout(timeout):
                target = connection or await self._socket_target()
                if target.ws is None or target.ws.closed:
                    raise ConnectionError(f"Socket Mode connection {target.id} is closed")
                record = SocketEnvelope(
                    envelope_id=envelope_id,
                    type=type,
                    payload=message["payload"],
                    connection_id=target.id,
                    sent_at=self.clock(),
                )
                self.socket_envelopes.append(record)
                self._socket_envelope_by_id[envelope_id] = record
                waiting_for = f"the ack of {type} envelope {envelope_id}"
                await target.ws.send_json(message)
                return await ack
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {waiting_for}") from None
        finally:
            self._socket_acks.pop(envelope_id, None)

    async def send_disconnect(self, reason: str = "refresh_requested") -> int:
        """Ask every connected client to reconnect, as Slack does; return how many were asked."""
        clients = self.socket_clients
        for connection in clients:
            if connection.ws is not None:
                await connection.ws.send_json(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-wss"}}
                )
        return len(clients)

    async def disconnect_clients(
        self, *, code: int = WSCloseCode.GOING_AWAY, message: str = "refresh"
    ) -> int:
        """Close every Socket Mode connection from the server side; return how many."""
        clients = self.socket_clients
        for connection in clients:
            if connection.ws is not None:
                await connection.ws.close(code=code, message=message.encode())
            if connection.closed_at is None:
                connection.closed_at = self.clock()
        if clients:
            await self._notify()
        return len(clients)

    # ------------------------------------------------------------------ state helpers

    def issue_trigger_id(self, user_id: str | None = None, view_id: str | None = None) -> str:
        """Issue a trigger id, as Slack does with each interaction."""
        self._counter += 1
        trigger_id = f"{self._counter}{secrets.randbelow(10**9):09d}.{secrets.token_hex(10)}"
        self.triggers[trigger_id] = Trigger(
            id=trigger_id, issued_at=self.clock(), user_id=user_id, view_id=view_id
        )
        return trigger_id

    def new_response_url(
        self, channel_id: str, user_id: str, *, message_ts: str | None = None
    ) -> str:
        """Issue a ``response_url`` bound to a channel and user (and optionally a message)."""
        token = secrets.token_urlsafe(16)
        self.response_urls[token] = ResponseUrl(
            token=token,
            channel_id=channel_id,
            user_id=user_id,
            created_at=self.clock(),
            message_ts=message_ts,
        )
        return f"{self.base_url}/response_url/{token}"

    def messages_in(self, channel_id: str) -> list[Message]:
        """Messages currently visible in a channel, oldest first."""
        return list(self.messages.get(channel_id, []))

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        """The message with ``ts`` in ``channel_id``, if any."""
        for message in self.messages.get(channel_id, []):
            if message.ts == ts:
                return message
        return None

    def ephemeral_for(self, channel_id: str, user_id: str) -> list[EphemeralMessage]:
        """Ephemeral messages ``user_id`` has seen in ``channel_id``."""
        return list(self.ephemeral.get((channel_id, user_id), []))

    def dm_channel_id(self, user_id: str) -> str | None:
        """The DM channel the bot opened with ``user_id``, if any."""
        return self._dm_by_users.get((user_id,))

    def current_view(self, user_id: str | None = None) -> JsonDict | None:
        """The most recently opened/pushed view still open (for ``user_id`` if given)."""
        for view_id in reversed(list(self.views)):
            if user_id is None or self._view_owner.get(view_id) == user_id:
                return self.views[view_id]
        return None

    def close_view(self, view_id: str, *, whole_stack: bool = True) -> None:
        """Close a view (and, by default, every view in its stack)."""
        view = self.views.get(view_id)
        if view is None:
            return
        root = view.get("root_view_id") or view_id
        doomed = (
            [vid for vid, v in self.views.items() if (v.get("root_view_id") or vid) == root]
            if whole_stack
            else [view_id]
        )
        for vid in doomed:
            self.closed_views[vid] = self.views.pop(vid)

    def apply_view_response(self, view_id: str, response: Any) -> None:
        """Apply what the app answered to a ``view_submission`` (as Slack's UI would)."""
        action = response.get("response_action") if isinstance(response, dict) else None
        if action == "errors":
            return
        if action == "update" and isinstance(response, dict):
            if view_id in self.views:
                self._replace_view(view_id, response.get("view", {}))
            return
        if action == "push" and isinstance(response, dict):
            parent = self.views.get(view_id)
            if parent is not None:
                self._store_new_view(
                    response.get("view", {}), owner=self._view_owner.get(view_id), parent=parent
                )
            return
        if action == "clear":
            self.close_view(view_id, whole_stack=True)
            return
        # No response_action (or "close"): Slack closes the submitted view only.
        self.close_view(view_id, whole_stack=False)

    # ------------------------------------------------------------------ internals

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        condition = self._condition()
        async with condition:
            condition.notify_all()

    def _next_ts(self) -> str:
        micros = max(round(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:04d}{secrets.token_hex(3).upper()}"

    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{secrets.token_hex(4)}"

    @staticmethod
    async def _parse_params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except json.JSONDecodeError:
                    raise SlackApiRefusal("invalid_json") from None
                if not isinstance(body, dict):
                    raise SlackApiRefusal("invalid_json")
                params.update(body)
            else:
                form = await request.post()
                for key, field_value in form.items():
                    params[key] = (
                        field_value
                        if isinstance(field_value, str)
                        else getattr(field_value, "filename", "")
                    )
        for key in _JSON_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value.strip()[:1] in {"[", "{"}:
                try:
                    params[key] = json.loads(value)
                except json.JSONDecodeError:
                    raise SlackApiRefusal(f"invalid_{key}_format") from None
        return params

    def _check_auth(self, request: web.Request, params: dict[str, Any]) -> None:
        header = request.headers.get("Authorization", "")
        token: str | None = None
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        elif isinstance(params.get("token"), str):
            token = params["token"]
        if not token:
            raise SlackApiRefusal("not_authed")
        if not secrets.compare_digest(token, self.bot_token):
            raise SlackApiRefusal("invalid_auth")

    def _check_app_auth(self, request: web.Request) -> None:
        """App-level methods take the ``xapp-`` token in the header only, as Slack requires."""
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token:
            raise SlackApiRefusal("not_authed")
        if secrets.compare_digest(token, self.bot_token):
            raise SlackApiRefusal("not_allowed_token_type")
        if self.app_token is None or not secrets.compare_digest(token, self.app_token):
            raise SlackApiRefusal("invalid_auth")

    def _take_failure(self, method: str) -> InjectedFailure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        return failure

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        parse_error: SlackApiRefusal | None = None
        try:
            params = await self._parse_params(request)
        except SlackApiRefusal as exc:
            params, parse_error = {}, exc
        self.calls.append(
            ApiCall(method=method, params=params, headers=dict(request.headers), at=self.clock())
        )
        await self._notify()

        delay = self._latency.get(method, self._latency.get("*", 0.0))
        if delay > 0:
            await asyncio.sleep(delay)

        failure = self._take_failure(method)
        if failure is not None:
            headers: dict[str, str] = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )

        try:
            if parse_error is not None:
                raise parse_error
            if method in _APP_TOKEN_METHODS:
                self._check_app_auth(request)
            else:
                self._check_auth(request, params)
            handler = self._extra_methods.get(method) or self._methods.get(method)
            if handler is None:
                return web.json_response(
                    {"ok": False, "error": "unknown_method", "req_method": method}
                )
            result = handler(params)
        except SlackApiRefusal as exc:
            body: JsonDict = {"ok": False, "error": exc.error}
            if exc.messages:
                body["response_metadata"] = {"messages": exc.messages}
            return web.json_response(body)
        finally:
            await self._notify()
        return web.json_response({"ok": True, **result})

    # ------------------------------------------------------------------ channel access

    def _resolve_channel(self, ref: Any) -> Channel:
        if not isinstance(ref, str) or not ref:
            raise SlackApiRefusal("channel_not_found")
        if ref in self.channels:
            return self.channels[ref]
        if ref.startswith(("U", "W")) and ref in self.users:
            # Posting to a user id posts in the app's DM with that user.
            return self.channels[self._open_dm((ref,))]
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if channel.name == name and not channel.is_im:
                return channel
        raise SlackApiRefusal("channel_not_found")

    def _visible_channel(self, ref: Any) -> Channel:
        """A channel the bot can see: private ones it has not joined are invisible."""
        channel = self._resolve_channel(ref)
        if channel.is_private and not channel.bot_is_member:
            raise SlackApiRefusal("channel_not_found")
        return channel

    def _writable_channel(self, ref: Any) -> Channel:
        channel = self._visible_channel(ref)
        if channel.is_archived:
            raise SlackApiRefusal("is_archived")
        if not channel.bot_is_member and not self.chat_write_public:
            raise SlackApiRefusal("not_in_channel")
        return channel

    def _open_dm(self, users: tuple[str, ...]) -> str:
        key = tuple(sorted(users))
        existing = self._dm_by_users.get(key)
        if existing is not None:
            return existing
        is_im = len(key) == 1
        channel_id = self._new_id("D" if is_im else "G")
        name = key[0] if is_im else "mpdm-" + "--".join(key) + "-1"
        self.channels[channel_id] = Channel(
            id=channel_id,
            name=name,
            bot_is_member=True,
            is_private=True,
            is_im=is_im,
            is_mpim=not is_im,
            dm_users=key,
        )
        self.messages.setdefault(channel_id, [])
        self._dm_by_users[key] = channel_id
        return channel_id

    # ------------------------------------------------------------------ methods

    def _api_test(self, params: dict[str, Any]) -> JsonDict:
        return {"args": {k: v for k, v in params.items() if k != "token"}}

    def _auth_test(self, params: dict[str, Any]) -> JsonDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_user_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _message_content(
        self, params: dict[str, Any], *, limit: int = 50
    ) -> tuple[str | None, list[Any] | None, list[Any] | None]:
        text = params.get("text")
        blocks = _as_list(params["blocks"]) if "blocks" in params else None
        attachments = _as_list(params["attachments"]) if "attachments" in params else None
        if text is not None and not isinstance(text, str):
            text = str(text)
        if blocks:
            problems = _validate_blocks(blocks, limit=limit, pointer="/blocks")
            if problems:
                raise SlackApiRefusal("invalid_blocks", messages=problems)
        if text is not None and len(text) > 40_000:
            raise SlackApiRefusal("msg_too_long")
        return text, blocks, attachments

    def _chat_post_message(self, params: dict[str, Any]) -> JsonDict:
        channel = self._writable_channel(params.get("channel"))
        text, blocks, attachments = self._message_content(params)
        if not text and not blocks and not attachments:
            raise SlackApiRefusal("no_text")
        thread_ts = params.get("thread_ts") or None
        message = Message(
            channel=channel.id,
            ts=self._next_ts(),
            text=text or "",
            blocks=blocks or [],
            attachments=attachments or [],
            user=self.bot_user_id,
            bot_id=self.bot_id,
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        self.messages.setdefault(channel.id, []).append(message)
        slack_message = message.as_slack()
        slack_message.update({"app_id": self.app_id, "team": self.team_id})
        return {"channel": channel.id, "ts": message.ts, "message": slack_message}

    def _chat_update(self, params: dict[str, Any]) -> JsonDict:
        channel = self._visible_channel(params.get("channel"))
        ts = params.get("ts")
        message = self.find_message(channel.id, str(ts)) if ts else None
        if message is None:
            raise SlackApiRefusal("message_not_found")
        if channel.is_archived:
            raise SlackApiRefusal("is_archived")
        if message.bot_id != self.bot_id:
            raise SlackApiRefusal("cant_update_message")
        text, blocks, attachments = self._message_content(params)
        if text is None and blocks is None and attachments is None:
            raise SlackApiRefusal("no_text")
        # Omitted fields keep their previous value; an empty list clears blocks.
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        if attachments is not None:
            message.attachments = attachments
        message.edited = True
        message.edited_ts = self._next_ts()
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_slack(),
        }

    def _chat_delete(self, params: dict[str, Any]) -> JsonDict:
        channel = self._visible_channel(params.get("channel"))
        ts = params.get("ts")
        message = self.find_message(channel.id, str(ts)) if ts else None
        if message is None:
            raise SlackApiRefusal("message_not_found")
        if message.bot_id != self.bot_id:
            raise SlackApiRefusal("cant_delete_message")
        self.messages[channel.id].remove(message)
        return {"channel": channel.id, "ts": message.ts}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> JsonDict:
        channel = self._writable_channel(params.get("channel"))
        user = params.get("user")
        if not isinstance(user, str) or not user:
            raise SlackApiRefusal("user_not_in_channel")
        if channel.members is not None and user not in channel.members:
            raise SlackApiRefusal("user_not_in_channel")
        if channel.is_im and channel.dm_users and user not in channel.dm_users:
            raise SlackApiRefusal("user_not_in_channel")
        text, blocks, _attachments = self._message_content(params)
        if not text and not blocks and not _attachments:
            raise SlackApiRefusal("no_text")
        thread_ts = params.get("thread_ts") or None
        ephemeral = EphemeralMessage(
            channel=channel.id,
            user=user,
            message_ts=self._next_ts(),
            text=text or "",
            blocks=blocks or [],
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        self.ephemeral.setdefault((channel.id, user), []).append(ephemeral)
        return {"message_ts": ephemeral.message_ts}

    def _chat_get_permalink(self, params: dict[str, Any]) -> JsonDict:
        channel = self._visible_channel(params.get("channel"))
        ts = params.get("message_ts")
        if not ts or self.find_message(channel.id, str(ts)) is None:
            raise SlackApiRefusal("message_not_found")
        path = f"archives/{channel.id}/p{str(ts).replace('.', '')}"
        return {"channel": channel.id, "permalink": f"https://{self.team_domain}.slack.com/{path}"}

    def _conversations_open(self, params: dict[str, Any]) -> JsonDict:
        raw = params.get("users")
        if isinstance(raw, list):
            users = tuple(str(u) for u in raw)
        elif isinstance(raw, str) and raw:
            users = tuple(u.strip() for u in raw.split(",") if u.strip())
        else:
            channel_ref = params.get("channel")
            if channel_ref:
                return {"channel": self._visible_channel(channel_ref).as_slack()}
            raise SlackApiRefusal("users_list_not_supplied")
        if len(users) > 8:
            raise SlackApiRefusal("too_many_users")
        for user_id in users:
            if user_id not in self.users:
                raise SlackApiRefusal("user_not_found")
        already_open = tuple(sorted(users)) in self._dm_by_users
        channel_id = self._open_dm(users)
        channel = self.channels[channel_id]
        if _truthy(params.get("return_im")):
            body: JsonDict = {"channel": channel.as_slack()}
        else:
            body = {"channel": {"id": channel_id}}
        if already_open:
            body.update({"no_op": True, "already_open": True})
        return body

    def _conversations_info(self, params: dict[str, Any]) -> JsonDict:
        return {"channel": self._visible_channel(params.get("channel")).as_slack()}

    def _users_info(self, params: dict[str, Any]) -> JsonDict:
        user = self.users.get(str(params.get("user", "")))
        if user is None:
            raise SlackApiRefusal("user_not_found")
        return {"user": user.as_slack(self.team_id)}

    def _users_lookup_by_email(self, params: dict[str, Any]) -> JsonDict:
        email = str(params.get("email", "")).lower()
        for user in self.users.values():
            if user.email is not None and user.email.lower() == email:
                return {"user": user.as_slack(self.team_id)}
        raise SlackApiRefusal("users_not_found")

    def _usergroups_users_list(self, params: dict[str, Any]) -> JsonDict:
        members = self.usergroups.get(str(params.get("usergroup", "")))
        if members is None:
            raise SlackApiRefusal("no_such_subteam")
        return {"users": list(members)}

    # ------------------------------------------------------------------ views

    def _consume_trigger(self, params: dict[str, Any]) -> Trigger | None:
        trigger_id = params.get("trigger_id")
        if not isinstance(trigger_id, str) or not trigger_id:
            raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] missing trigger_id"])
        trigger = self.triggers.get(trigger_id)
        if not self.check_triggers:
            return trigger
        if trigger is None:
            raise SlackApiRefusal("invalid_trigger_id")
        if trigger.used:
            raise SlackApiRefusal("trigger_exchanged")
        if self.clock() - trigger.issued_at > self.trigger_ttl:
            raise SlackApiRefusal("expired_trigger_id")
        trigger.used = True
        return trigger

    def _view_param(self, params: dict[str, Any]) -> JsonDict:
        view = params.get("view")
        if view is None:
            raise SlackApiRefusal("invalid_arguments", messages=["[ERROR] missing view"])
        return _validate_view(view)

    def _check_external_id(self, view: JsonDict, *, own_id: str | None = None) -> None:
        external_id = view.get("external_id")
        if not external_id:
            return
        for vid, existing in self.views.items():
            if vid != own_id and existing.get("external_id") == external_id:
                raise SlackApiRefusal("duplicate_external_id")

    def _store_new_view(
        self, view: JsonDict, *, owner: str | None, parent: JsonDict | None
    ) -> JsonDict:
        view_id = self._new_id("V")
        stored = copy.deepcopy(view)
        stored.update(
            {
                "id": view_id,
                "team_id": self.team_id,
                "type": view.get("type", "modal"),
                "state": {"values": {}},
                "hash": self._new_hash(),
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
                "clear_on_close": bool(view.get("clear_on_close", False)),
                "notify_on_close": bool(view.get("notify_on_close", False)),
                "root_view_id": (parent.get("root_view_id") or parent["id"]) if parent else view_id,
                "previous_view_id": parent["id"] if parent else None,
                "app_id": self.app_id,
                "app_installed_team_id": self.team_id,
                "bot_id": self.bot_id,
            }
        )
        self.views[view_id] = stored
        if owner is not None:
            self._view_owner[view_id] = owner
        return stored

    def _replace_view(self, view_id: str, view: JsonDict) -> JsonDict:
        old = self.views[view_id]
        stored = copy.deepcopy(view)
        for key in ("id", "team_id", "root_view_id", "previous_view_id", "app_id", "bot_id"):
            stored[key] = old[key]
        stored.setdefault("type", old.get("type", "modal"))
        stored.setdefault("private_metadata", "")
        stored.setdefault("callback_id", "")
        stored.setdefault("external_id", old.get("external_id", ""))
        stored.setdefault("clear_on_close", False)
        stored.setdefault("notify_on_close", False)
        stored["app_installed_team_id"] = self.team_id
        stored["state"] = {"values": {}}
        stored["hash"] = self._new_hash()
        self.views[view_id] = stored
        return stored

    def _views_open(self, params: dict[str, Any]) -> JsonDict:
        view = self._view_param(params)
        self._check_external_id(view)
        trigger = self._consume_trigger(params)
        owner = trigger.user_id if trigger is not None else None
        stored = self._store_new_view(view, owner=owner, parent=None)
        return {"view": copy.deepcopy(stored)}

    def _views_push(self, params: dict[str, Any]) -> JsonDict:
        view = self._view_param(params)
        self._check_external_id(view)
        trigger = self._consume_trigger(params)
        parent: JsonDict | None = None
        owner: str | None = None
        if trigger is not None:
            owner = trigger.user_id
            if trigger.view_id is not None:
                parent = self.views.get(trigger.view_id)
            elif owner is not None:
                parent = self.current_view(owner)
        if parent is not None:
            root = parent.get("root_view_id") or parent["id"]
            depth = sum(1 for v in self.views.values() if v.get("root_view_id") == root)
            if depth >= 3:
                raise SlackApiRefusal("push_limit_reached")
        stored = self._store_new_view(view, owner=owner, parent=parent)
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, params: dict[str, Any]) -> JsonDict:
        view = self._view_param(params)
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        target: str | None = None
        if view_id:
            target = str(view_id) if str(view_id) in self.views else None
        elif external_id:
            for vid, existing in self.views.items():
                if existing.get("external_id") == external_id:
                    target = vid
                    break
        else:
            raise SlackApiRefusal(
                "invalid_arguments", messages=["[ERROR] view_id or external_id is required"]
            )
        if target is None:
            raise SlackApiRefusal("not_found")
        expected_hash = params.get("hash")
        if expected_hash and expected_hash != self.views[target]["hash"]:
            raise SlackApiRefusal("hash_conflict")
        self._check_external_id(view, own_id=target)
        stored = self._replace_view(target, view)
        return {"view": copy.deepcopy(stored)}

    # ------------------------------------------------------------------ Socket Mode internals

    def _apps_connections_open(self, params: dict[str, Any]) -> JsonDict:
        ticket = secrets.token_urlsafe(16)
        self._socket_tickets[ticket] = self.clock()
        return {"url": f"ws://{self._host}:{self.port}{SOCKET_MODE_PATH}/{ticket}"}

    async def _socket_target(self) -> SocketModeConnection:
        condition = self._condition()
        async with condition:
            await condition.wait_for(lambda: bool(self.socket_clients))
        return self.socket_clients[-1]

    def _hello(self) -> JsonDict:
        return {
            "type": "hello",
            "num_connections": len(self.socket_clients),
            "debug_info": {
                "host": "fake-wss",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    async def _handle_socket_mode(self, request: web.Request) -> web.StreamResponse:
        # A ticket opens one connection: clients ask apps.connections.open for each one.
        if self._socket_tickets.pop(request.match_info["ticket"], None) is None:
            return web.Response(status=401, text="invalid_ticket", content_type="text/plain")
        ws = web.WebSocketResponse(autoping=True)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="websocket_required", content_type="text/plain")
        await ws.prepare(request)
        connection = SocketModeConnection(id=self._new_id("SM"), opened_at=self.clock(), ws=ws)
        self.socket_connections.append(connection)
        try:
            await ws.send_json(self._hello())
            await self._notify()
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._receive_socket_message(connection, str(frame.data))
                    await self._notify()
        finally:
            if connection.closed_at is None:
                connection.closed_at = self.clock()
            await self._notify()
        return ws

    def _receive_socket_message(self, connection: SocketModeConnection, text: str) -> None:
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError:
            connection.received.append(text)
            return
        connection.received.append(data)
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        if not isinstance(envelope_id, str):
            return
        record = self._socket_envelope_by_id.get(envelope_id)
        if record is not None and record.ack is None:
            record.ack = data
            record.acked_at = self.clock()
        waiter = self._socket_acks.get(envelope_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(data)

    # ------------------------------------------------------------------ response_url

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        info = self.response_urls.get(token)
        if info is None:
            return web.Response(status=404, text="invalid_token", content_type="text/plain")
        if self.clock() - info.created_at > RESPONSE_URL_TTL_SECONDS:
            return web.Response(status=404, text="expired_url", content_type="text/plain")
        if info.uses >= RESPONSE_URL_MAX_USES:
            return web.Response(status=404, text="used_url", content_type="text/plain")
        try:
            payload = json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict):
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")
        try:
            self._apply_response_url(info, payload)
        except SlackApiRefusal as exc:
            return web.Response(status=400, text=exc.error, content_type="text/plain")
        finally:
            await self._notify()
        return web.Response(status=200, text="ok", content_type="text/plain")

    def _apply_response_url(self, info: ResponseUrl, payload: JsonDict) -> None:
        text = payload.get("text")
        blocks = payload.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except json.JSONDecodeError:
                raise SlackApiRefusal("invalid_blocks_format") from None
        blocks_list = _as_list(blocks)
        replace_original = _truthy(payload.get("replace_original"))
        delete_original = _truthy(payload.get("delete_original"))
        response_type = str(payload.get("response_type") or "ephemeral")
        if response_type not in {"ephemeral", "in_channel"}:
            response_type = "ephemeral"
        if not delete_original and not text and not blocks_list:
            raise SlackApiRefusal("no_text")
        info.uses += 1
        self.response_url_messages.append(
            ResponseUrlMessage(
                token=info.token,
                channel_id=info.channel_id,
                user_id=info.user_id,
                response_type=response_type,
                text=str(text or ""),
                blocks=blocks_list,
                replace_original=replace_original,
                delete_original=delete_original,
                payload=payload,
                at=self.clock(),
            )
        )
        original = self.find_message(info.channel_id, info.message_ts) if info.message_ts else None
        if delete_original:
            if original is not None:
                self.messages[info.channel_id].remove(original)
            elif info.last_ephemeral is not None:
                info.last_ephemeral.deleted = True
            return
        if replace_original and original is not None:
            original.text = str(text or "")
            original.blocks = blocks_list
            original.edited = True
            original.edited_ts = self._next_ts()
            return
        if replace_original and response_type == "ephemeral" and info.last_ephemeral is not None:
            info.last_ephemeral.text = str(text or "")
            info.last_ephemeral.blocks = blocks_list
            info.last_ephemeral.replaced = True
            return
        if response_type == "in_channel":
            # Slack shows it in the channel even when the bot is not a member.
            self.messages.setdefault(info.channel_id, []).append(
                Message(
                    channel=info.channel_id,
                    ts=self._next_ts(),
                    text=str(text or ""),
                    blocks=blocks_list,
                    user=self.bot_user_id,
                    bot_id=self.bot_id,
                    source="response_url",
                )
            )
            return
        ephemeral = EphemeralMessage(
            channel=info.channel_id,
            user=info.user_id,
            message_ts=self._next_ts(),
            text=str(text or ""),
            blocks=blocks_list,
            source="response_url",
        )
        self.ephemeral.setdefault((info.channel_id, info.user_id), []).append(ephemeral)
        info.last_ephemeral = ephemeral
