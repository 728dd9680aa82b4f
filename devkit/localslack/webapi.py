"""A local stand-in for the Slack Web API, served over loopback HTTP.

The bot under test talks to it with an unmodified ``AsyncWebClient`` whose ``base_url``
points at :attr:`FakeSlackWebAPI.api_url`. `FakeSlackWebAPI` puts together the parts,
each in its own module:

- `devkit.localslack.workspace`: the state (users, channels, messages, modals, ...) as
  plain dataclasses that tests and the demo inspect;
- `devkit.localslack.dispatch`: ``/api/{method}`` (parameters, tokens, the call record);
- `devkit.localslack.methods`, `devkit.localslack.modals`, `devkit.localslack.home`,
  `devkit.localslack.functions`: the Web API methods (and the App Home's and workflow
  steps' events);
- `devkit.localslack.response_urls`, `devkit.localslack.socket_mode`: the other ways Slack
  and an app talk;
- `devkit.localslack.faults`: injected failures and latency;
- `devkit.localslack.validation`: the Block Kit rules Slack enforces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from aiohttp import web

from bot.slack.scopes import BOT_SCOPES, SOCKET_MODE_SCOPE
from devkit.lifecycle import StartedInContext
from devkit.localslack.changes import Changes
from devkit.localslack.dispatch import API_PATH, ApiCall, MethodDispatcher
from devkit.localslack.faults import Faults, InjectedFailure
from devkit.localslack.functions import FunctionExecution, Functions, function_executed_body
from devkit.localslack.home import HomeTabs, app_home_opened
from devkit.localslack.methods import ChatMethods, DirectoryMethods
from devkit.localslack.modals import Modals
from devkit.localslack.parts import ForwardedMethod, SharedAttribute
from devkit.localslack.protocol import JsonDict, MethodHandler, SlackApiRefusal
from devkit.localslack.response_urls import RESPONSE_URL_PATH, ResponseUrls
from devkit.localslack.socket_mode import (
    SOCKET_MODE_PATH,
    SocketEnvelope,
    SocketMode,
    SocketModeConnection,
)
from devkit.localslack.workspace import (
    TRIGGER_TTL_SECONDS,
    Channel,
    EphemeralMessage,
    Message,
    ResponseUrl,
    ResponseUrlMessage,
    Trigger,
    User,
    Workspace,
)
from devkit.loopback import LoopbackServer

__all__ = [
    "ApiCall",
    "Channel",
    "EphemeralMessage",
    "FakeSlackWebAPI",
    "InjectedFailure",
    "JsonDict",
    "Message",
    "MethodHandler",
    "ResponseUrl",
    "ResponseUrlMessage",
    "SlackApiRefusal",
    "SocketEnvelope",
    "SocketModeConnection",
    "Trigger",
    "User",
]


class FakeSlackWebAPI(StartedInContext):
    """A fake Slack workspace + Web API served over loopback HTTP.

    Point ``AsyncWebClient(token=bot_token, base_url=fake.api_url)`` at it.
    """

    # The workspace's identity and settings, and its state (see `Workspace`).
    bot_token = SharedAttribute[str]("_workspace")
    app_token = SharedAttribute[str | None]("_workspace")
    team_id = SharedAttribute[str]("_workspace")
    bot_user_id = SharedAttribute[str]("_workspace")
    bot_id = SharedAttribute[str]("_workspace")
    bot_user_name = SharedAttribute[str]("_workspace")
    app_id = SharedAttribute[str]("_workspace")
    team_name = SharedAttribute[str]("_workspace")
    team_domain = SharedAttribute[str]("_workspace")
    check_triggers = SharedAttribute[bool]("_workspace")
    trigger_ttl = SharedAttribute[float]("_workspace")
    chat_write_public = SharedAttribute[bool]("_workspace")
    #: The bot token's scopes, as ``x-oauth-scopes`` lists them (default: the manifest's).
    bot_scopes = SharedAttribute[tuple[str, ...]]("_workspace")
    #: An error (``token_revoked``) every method answers the bot token with; None: accepted.
    bot_token_refusal = SharedAttribute[str | None]("_workspace")
    clock = SharedAttribute[Callable[[], float]]("_workspace")
    users = SharedAttribute[dict[str, User]]("_workspace")
    channels = SharedAttribute[dict[str, Channel]]("_workspace")
    usergroups = SharedAttribute[dict[str, list[str]]]("_workspace")
    messages = SharedAttribute[dict[str, list[Message]]]("_workspace")
    ephemeral = SharedAttribute[dict[tuple[str, str], list[EphemeralMessage]]]("_workspace")
    views = SharedAttribute[dict[str, JsonDict]]("_workspace")
    closed_views = SharedAttribute[dict[str, JsonDict]]("_workspace")
    triggers = SharedAttribute[dict[str, Trigger]]("_workspace")
    response_urls = SharedAttribute[dict[str, ResponseUrl]]("_workspace")
    response_url_messages = SharedAttribute[list[ResponseUrlMessage]]("_workspace")
    #: Each member's Home tab as the app last published it.
    home_views = SharedAttribute[dict[str, JsonDict]]("_workspace")
    workflow_tokens = SharedAttribute[set[str]]("_workspace")
    #: Every workflow step execution started, by id.
    executions = SharedAttribute[dict[str, FunctionExecution]]("_functions")
    #: Every Web API call received, oldest first.
    calls = SharedAttribute[list[ApiCall]]("_dispatch")
    #: Every Socket Mode connection ever opened, oldest first (see ``socket_clients``).
    socket_connections = SharedAttribute[list[SocketModeConnection]]("_socket", "connections")
    #: Every envelope sent over Socket Mode, with its ack.
    socket_envelopes = SharedAttribute[list[SocketEnvelope]]("_socket", "envelopes")

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
        bot_scopes: Iterable[str] = BOT_SCOPES,
        app_token_scopes: Iterable[str] = (SOCKET_MODE_SCOPE,),
    ) -> None:
        self._workspace = Workspace(
            bot_token=bot_token,
            team_id=team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            bot_user_name=bot_user_name,
            app_id=app_id,
            team_name=team_name,
            team_domain=team_domain,
            check_triggers=check_triggers,
            trigger_ttl=trigger_ttl,
            chat_write_public=chat_write_public,
            clock=clock,
            app_token=app_token,
            bot_scopes=bot_scopes,
            app_token_scopes=app_token_scopes,
        )
        self._server = LoopbackServer(type(self).__name__)
        self._changes = Changes()
        self._faults = Faults()
        self._modals = Modals(self._workspace)
        self._replies = ResponseUrls(self._workspace, self._changes, lambda: self.base_url)
        self._socket = SocketMode(self._workspace, self._changes, lambda: self.base_url)
        self._dispatch = MethodDispatcher(self._workspace, self._faults, self._changes)
        self._functions = Functions(self._workspace)
        for group in (
            DirectoryMethods(self._workspace),
            ChatMethods(self._workspace),
            self._modals,
            HomeTabs(self._workspace),
            self._functions,
            self._socket,
        ):
            self._dispatch.register(group.handlers())

    @property
    def workspace(self) -> Workspace:
        """The workspace's state, with the rules the Web API methods share."""
        return self._workspace

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving on loopback; ``port=0`` picks a free port."""
        app = web.Application()
        app.router.add_route("*", API_PATH + "/{method}", self._dispatch.handle)
        app.router.add_post(RESPONSE_URL_PATH + "/{token}", self._replies.handle)
        app.router.add_get(SOCKET_MODE_PATH + "/{ticket}", self._socket.handle)
        await self._server.start(app, host, port)
        self._changes.reset()  # bind the condition to the loop that serves requests

    async def stop(self) -> None:
        """Stop the server (idempotent); Socket Mode clients are disconnected first."""
        if self._server.running:
            await self._socket.disconnect_clients()
            await self._server.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._server.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._server.base_url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: the ``base_url`` for ``AsyncWebClient``."""
        return f"{self.base_url}{API_PATH}/"

    # ------------------------------------------------------------------ workspace set-up

    add_user = ForwardedMethod("_workspace", Workspace.add_user)
    add_channel = ForwardedMethod("_workspace", Workspace.add_channel)
    add_usergroup = ForwardedMethod("_workspace", Workspace.add_usergroup)
    #: A message a member or another app posted (what a shortcut is used on).
    post_as = ForwardedMethod("_workspace", Workspace.post_as)
    #: Serve an extra Web API method, ``handler(params) -> response dict``; the handler
    #: may raise :class:`SlackApiRefusal` to answer an error.
    add_method = ForwardedMethod("_dispatch", MethodDispatcher.add_method)

    # ------------------------------------------------------------------ test controls

    fail = ForwardedMethod("_faults", Faults.fail)
    clear_failures = ForwardedMethod("_faults", Faults.clear_failures)
    set_latency = ForwardedMethod("_faults", Faults.set_latency)
    calls_to = ForwardedMethod("_dispatch", MethodDispatcher.calls_to)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - bounded wait is the point
        description: str = "condition",
    ) -> None:
        """Wait (bounded) until ``predicate()`` holds; re-checked after every request."""
        try:
            async with asyncio.timeout(timeout):
                await self._changes.wait_for(predicate)
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
        return self._socket.clients

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
        await self.wait_until(
            lambda: self._socket.newest_open(total) is not None,
            timeout=timeout,
            description=f"Socket Mode connection #{total} to be open",
        )
        found = self._socket.newest_open(total)
        assert found is not None
        return found

    send_envelope = ForwardedMethod("_socket", SocketMode.send_envelope)
    send_disconnect = ForwardedMethod("_socket", SocketMode.send_disconnect)
    disconnect_clients = ForwardedMethod("_socket", SocketMode.disconnect_clients)

    # ------------------------------------------------------------------ state helpers

    issue_trigger_id = ForwardedMethod("_workspace", Workspace.issue_trigger_id)
    new_response_url = ForwardedMethod("_replies", ResponseUrls.new)
    messages_in = ForwardedMethod("_workspace", Workspace.messages_in)
    replies_to = ForwardedMethod("_workspace", Workspace.replies_to)
    find_message = ForwardedMethod("_workspace", Workspace.find_message)
    ephemeral_for = ForwardedMethod("_workspace", Workspace.ephemeral_for)
    dm_channel_id = ForwardedMethod("_workspace", Workspace.dm_channel_id)
    current_view = ForwardedMethod("_modals", Modals.current_view)
    close_view = ForwardedMethod("_modals", Modals.close_view)
    apply_view_response = ForwardedMethod("_modals", Modals.apply_view_response)

    # ------------------------------------------------------------------ App Home, workflow steps

    def app_home_opened(self, user_id: str, *, tab: str = "home") -> JsonDict:
        """The event for ``user_id`` opening the app's tab; deliver it with a sender's ``event``."""
        return app_home_opened(self._workspace, user_id, tab=tab)

    def function_executed(
        self,
        callback_id: str,
        inputs: JsonDict,
        *,
        creator: str | None = None,
        verification_token: str = "legacy-verification-token",  # noqa: S107
    ) -> tuple[FunctionExecution, JsonDict]:
        """A workflow runs the app's step ``callback_id``: the execution, and the Events API
        body to deliver (``SlackEventSender.post_json``, or an ``events_api`` envelope)."""
        execution = self._functions.start(callback_id, inputs, creator=creator)
        body = function_executed_body(self, execution, verification_token=verification_token)
        return execution, body
