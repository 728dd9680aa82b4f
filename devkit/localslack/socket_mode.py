"""Socket Mode: the WebSocket an app opens instead of exposing a request URL.

The app calls ``apps.connections.open`` with its app-level token, connects to the
``ws://`` URL it got (one connection per ticket), receives ``hello``, and then gets
envelopes that it must acknowledge with their ``envelope_id``. Slack may ask it to
reconnect (``disconnect``) or drop the connection; both can be provoked here.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import WSCloseCode, WSMsgType, web

from devkit.localslack.changes import Changes
from devkit.localslack.protocol import JsonDict, MethodGroup, serves
from devkit.localslack.workspace import Workspace

__all__ = [
    "SOCKET_ACK_TIMEOUT_SECONDS",
    "SOCKET_MODE_PATH",
    "SocketEnvelope",
    "SocketMode",
    "SocketModeConnection",
]

#: Where Socket Mode clients connect: ``/socket-mode/<ticket>`` (from ``apps.connections.open``).
SOCKET_MODE_PATH: Final = "/socket-mode"
#: Slack waits about 3 s for an envelope's ack; tests wait a little longer by default.
SOCKET_ACK_TIMEOUT_SECONDS: Final = 5.0


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


class SocketMode(MethodGroup):
    """The Socket Mode side of the fake: tickets, connections, envelopes and their acks."""

    def __init__(self, workspace: Workspace, changes: Changes, base_url: Callable[[], str]) -> None:
        super().__init__(workspace)
        #: Every connection ever opened, oldest first (see ``clients``).
        self.connections: list[SocketModeConnection] = []
        #: Every envelope sent, with its ack.
        self.envelopes: list[SocketEnvelope] = []
        self._changes = changes
        self._base_url = base_url
        self._tickets: dict[str, float] = {}
        self._acks: dict[str, asyncio.Future[JsonDict]] = {}
        self._envelope_by_id: dict[str, SocketEnvelope] = {}

    @serves("apps.connections.open")
    def connections_open(self, params: JsonDict) -> JsonDict:
        """``apps.connections.open``: a one-use WebSocket URL."""
        ticket = secrets.token_urlsafe(16)
        self._tickets[ticket] = self.workspace.clock()
        host_and_port = self._base_url().removeprefix("http://")
        return {"url": f"ws://{host_and_port}{SOCKET_MODE_PATH}/{ticket}"}

    @property
    def clients(self) -> list[SocketModeConnection]:
        """Connections open now, oldest first."""
        return [
            connection
            for connection in self.connections
            if connection.is_open and connection.ws is not None and not connection.ws.closed
        ]

    def newest_open(self, total: int) -> SocketModeConnection | None:
        """The newest open one among connections number ``total`` and later, if any."""
        if len(self.connections) < total:
            return None
        clients = self.clients
        fresh = [c for c in self.connections[total - 1 :] if c in clients]
        return fresh[-1] if fresh else None

    # ------------------------------------------------------------------ the WebSocket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``GET /socket-mode/{ticket}``: the app's WebSocket, until either side closes it."""
        # A ticket opens one connection: clients ask apps.connections.open for each one.
        if self._tickets.pop(request.match_info["ticket"], None) is None:
            return web.Response(status=401, text="invalid_ticket", content_type="text/plain")
        ws = web.WebSocketResponse(autoping=True)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="websocket_required", content_type="text/plain")
        await ws.prepare(request)
        clock = self.workspace.clock
        connection = SocketModeConnection(id=self.workspace.new_id("SM"), opened_at=clock(), ws=ws)
        self.connections.append(connection)
        try:
            await ws.send_json(self._hello())
            await self._changes.notify()
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._receive(connection, str(frame.data))
                    await self._changes.notify()
        finally:
            if connection.closed_at is None:
                connection.closed_at = clock()
            await self._changes.notify()
        return ws

    def _hello(self) -> JsonDict:
        return {
            "type": "hello",
            "num_connections": len(self.clients),
            "debug_info": {
                "host": "fake-wss",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.workspace.app_id},
        }

    def _receive(self, connection: SocketModeConnection, text: str) -> None:
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError:
            connection.received.append(text)
            return
        connection.received.append(data)
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        if not isinstance(envelope_id, str):
            return
        record = self._envelope_by_id.get(envelope_id)
        if record is not None and record.ack is None:
            record.ack = data
            record.acked_at = self.workspace.clock()
        waiter = self._acks.get(envelope_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(data)

    # ------------------------------------------------------------------ sending

    async def _target(self) -> SocketModeConnection:
        await self._changes.wait_for(lambda: bool(self.clients))
        return self.clients[-1]

    async def send_envelope(
        self,
        type: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool | None = None,
        timeout: float = SOCKET_ACK_TIMEOUT_SECONDS,  # noqa: ASYNC109
        connection: SocketModeConnection | None = None,
    ) -> JsonDict:
        """Send an envelope to the app and return its ack.

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
        self._acks[envelope_id] = ack
        waiting_for = "a Socket Mode client to connect"
        try:
            async with asyncio.timeout(timeout):
                target = connection or await self._target()
                if target.ws is None or target.ws.closed:
                    raise ConnectionError(f"Socket Mode connection {target.id} is closed")
                record = SocketEnvelope(
                    envelope_id=envelope_id,
                    type=type,
                    payload=message["payload"],
                    connection_id=target.id,
                    sent_at=self.workspace.clock(),
                )
                self.envelopes.append(record)
                self._envelope_by_id[envelope_id] = record
                waiting_for = f"the ack of {type} envelope {envelope_id}"
                await target.ws.send_json(message)
                return await ack
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {waiting_for}") from None
        finally:
            self._acks.pop(envelope_id, None)

    async def send_disconnect(self, reason: str = "refresh_requested") -> int:
        """Ask every connected client to reconnect, as Slack does; return how many were asked."""
        clients = self.clients
        for connection in clients:
            if connection.ws is not None:
                await connection.ws.send_json(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-wss"}}
                )
        return len(clients)

    async def disconnect_clients(
        self, *, code: int = WSCloseCode.GOING_AWAY, message: str = "refresh"
    ) -> int:
        """Close every connection from the server side; return how many."""
        clients = self.clients
        for connection in clients:
            if connection.ws is not None:
                await connection.ws.close(code=code, message=message.encode())
            if connection.closed_at is None:
                connection.closed_at = self.workspace.clock()
        if clients:
            await self._changes.notify()
        return len(clients)
